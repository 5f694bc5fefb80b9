/**
 * Pure arithmetic of the receipt workflow's exception paths: a decision's lines spread over the
 * receipts (ERP inspection lots) of one batch, and the transfer postings that turn the stock a
 * decision left into the stock a changed decision asks for. No I/O; quantities are fixed-point
 * integers of one uom and scale (DESIGN §6), so nothing here rounds.
 */
import { PermanentError } from '../../engine/errors.ts'
import type { DispositionCode } from '../../model/nonconformance.ts'
import type { Quantity } from '../../model/quantity.ts'
import type { Bucket } from '../../model/stock.ts'
import { DISPOSITION_BUCKET, type StockSplitLine, type UsageDecisionBucket } from '../ports/erp.ts'

export interface DecisionLine {
  readonly code: string
  readonly quantity: Quantity
}

/** One goods receipt of the batch: SAP opens one inspection lot per receipt (origin 01). */
export interface Receipt {
  readonly document: { readonly id: string; readonly year?: number; readonly item?: string }
  readonly erpInspectionLot: string
  readonly quantity: Quantity
}

export interface Transfer {
  readonly from: Bucket
  readonly to: Bucket
  readonly quantity: Quantity
}

/** Same document, where both sides say which year and item they mean. */
export function sameDocument(a: Receipt['document'], b: Receipt['document']): boolean {
  return (
    a.id === b.id &&
    (a.year === undefined || b.year === undefined || a.year === b.year) &&
    (a.item === undefined || b.item === undefined || a.item === b.item)
  )
}

function sameUnit(qs: readonly Quantity[], what: string): { uom: string; scale: number } {
  const first = qs[0]
  if (!first) return { uom: '', scale: 0 }
  const odd = qs.find((q) => q.uom !== first.uom || q.scale !== first.scale)
  if (odd)
    throw new PermanentError(
      'QLK_UNIT_CONVERSION',
      `${what}: quantities in ${first.uom}/${first.scale} and ${odd.uom}/${odd.scale} cannot be added exactly`,
    )
  return { uom: first.uom, scale: first.scale }
}

export function total(qs: readonly Quantity[], what: string): Quantity {
  const u = sameUnit(qs, what)
  return { ...u, units: qs.reduce((s, q) => s + q.units, 0) }
}

/** Decision lines → ERP split lines; a code with no stock posting is refused (permanent). */
export function splitLines(lines: readonly DecisionLine[], lot: string): StockSplitLine[] {
  return lines.map((l) => {
    const bucket = DISPOSITION_BUCKET[l.code as DispositionCode] as UsageDecisionBucket | undefined
    if (!bucket)
      throw new PermanentError(
        'QLK_VALIDATION',
        `usage decision for lot ${lot}: disposition code '${l.code}' has no stock posting`,
      )
    return { bucket, quantity: l.quantity }
  })
}

/**
 * Spreads the decided lines over the receipts in receipt order (the first receipt is posted
 * first, a line is cut where a receipt is full), because the ERP posts each inspection lot only
 * up to its own quantity. The lines must add up to the received quantity exactly.
 */
export function allocate(lines: readonly StockSplitLine[], receipts: readonly Receipt[]): StockSplitLine[][] {
  const what = 'usage decision over the receipts'
  sameUnit([...lines.map((l) => l.quantity), ...receipts.map((r) => r.quantity)], what)
  const decided = total(
    lines.map((l) => l.quantity),
    what,
  )
  const received = total(
    receipts.map((r) => r.quantity),
    what,
  )
  if (decided.units !== received.units)
    throw new PermanentError(
      'QLK_DECISION_QUANTITY_MISMATCH',
      `the decision covers ${decided.units} steps of ${decided.uom}, the receipts of the lot ${received.units}`,
    )
  const queue = lines.map((l) => ({ ...l, left: l.quantity.units }))
  return receipts.map((r) => {
    let room = r.quantity.units
    const out: StockSplitLine[] = []
    for (const l of queue) {
      if (room === 0) break
      const take = Math.min(room, l.left)
      if (take === 0) continue
      l.left -= take
      room -= take
      const { left: _left, ...line } = l
      out.push({ ...line, quantity: { ...l.quantity, units: take } })
    }
    return out
  })
}

/** Where a usage-decision bucket leaves the quantity in the lot's stock (model/stock.ts). */
const STOCK_OF: Readonly<Record<UsageDecisionBucket, Bucket | null>> = {
  release: 'unrestricted',
  block: 'blocked',
  scrap: 'scrap',
  return: 'returned',
  sample: 'sample',
  reserves: 'reserves',
  // Moved to another material or batch: no longer this lot's to move back.
  regrade: null,
}

/** Only these still hold the quantity physically; scrapped, returned or sampled stock has left. */
const MOVABLE: readonly Bucket[] = ['unrestricted', 'blocked']
const ORDER: readonly Bucket[] = ['unrestricted', 'blocked', 'scrap', 'returned', 'sample', 'reserves']

export interface CompensationPlan {
  /** new minus old, per stock bucket, in steps */
  readonly delta: Readonly<Partial<Record<Bucket, number>>>
  readonly transfers: readonly Transfer[]
}

/**
 * The transfer postings that move the lot from the old split to the new one: per bucket the
 * difference, then each decrease (which must be stock still on hand, unrestricted or blocked)
 * paired with the increases in a fixed order. Only differences move; an unchanged line posts nothing.
 */
export function planCompensation(
  previous: readonly StockSplitLine[],
  next: readonly StockSplitLine[],
  lot: string,
): CompensationPlan {
  const all = [...previous, ...next]
  const unit = sameUnit(
    all.map((l) => l.quantity),
    `decision change of lot ${lot}`,
  )
  const delta: Partial<Record<Bucket, number>> = {}
  const add = (l: StockSplitLine, sign: number) => {
    const b = STOCK_OF[l.bucket]
    if (b === null)
      throw new PermanentError(
        'QLK_COMPENSATION_IMPOSSIBLE',
        `lot ${lot}: a regrade line moved quantity to another material or batch; a decision change cannot move it back`,
      )
    delta[b] = (delta[b] ?? 0) + sign * l.quantity.units
  }
  for (const l of previous) add(l, -1)
  for (const l of next) add(l, 1)
  const net = Object.values(delta).reduce((s, d) => s + (d ?? 0), 0)
  if (net !== 0)
    throw new PermanentError(
      'QLK_DECISION_QUANTITY_MISMATCH',
      `lot ${lot}: the changed decision covers ${net > 0 ? 'more' : 'less'} quantity than the decision it replaces`,
    )
  const gone = ORDER.filter((b) => (delta[b] ?? 0) < 0 && !MOVABLE.includes(b))
  if (gone.length > 0)
    throw new PermanentError(
      'QLK_COMPENSATION_IMPOSSIBLE',
      `lot ${lot}: the changed decision takes quantity back from ${gone.join(', ')}, which has left stock; post it by hand`,
    )
  const sources = MOVABLE.filter((b) => (delta[b] ?? 0) < 0).map((b) => ({ b, left: -(delta[b] ?? 0) }))
  const targets = ORDER.filter((b) => (delta[b] ?? 0) > 0).map((b) => ({ b, left: delta[b] ?? 0 }))
  const transfers: Transfer[] = []
  for (const s of sources) {
    for (const t of targets) {
      const q = Math.min(s.left, t.left)
      if (q === 0) continue
      s.left -= q
      t.left -= q
      transfers.push({ from: s.b, to: t.b, quantity: { ...unit, units: q } })
    }
  }
  return { delta, transfers }
}

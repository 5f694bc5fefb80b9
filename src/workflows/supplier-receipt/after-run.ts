/**
 * Events about a lot whose receipt run has already ended start a run of their own (one active
 * run per lot; later ones wait in its inbox). Two of them change what the ERP must hold:
 * - a usage decision changed after it was posted → only the difference is posted, as transfer
 *   postings between stock types (compensating documents; the original postings stay);
 * - a goods receipt reversed after the stock was posted → nothing is guessed: the run
 *   dead-letters with QLK_REVERSAL_AFTER_POSTING so a person decides the compensating posting.
 */
import { PermanentError, RetryableError } from '../../engine/errors.ts'
import type { WorkflowContext } from '../../engine/workflow.ts'
import type { Quantity } from '../../model/quantity.ts'
import type { Bucket } from '../../model/stock.ts'
import type { LotRef } from '../ports/erp.ts'
import type { ReceiptInspectionSettings, SupplierReceiptPorts } from '../supplier-receipt-inspection.ts'
import { type DecisionLine, planCompensation, splitLines } from './split.ts'

type Ctx = WorkflowContext<SupplierReceiptPorts, ReceiptInspectionSettings>

export interface DecisionChanged {
  inspectionLot: string
  lot?: string
  previousCode: string
  code: string
  valuation: 'accepted' | 'rejected'
  reason: string
  stockPostings?: DecisionLine[]
  previousStockPostings?: DecisionLine[]
}

export interface ReceiptReversed {
  materialDocument: { id: string; year?: number; item?: string }
  reversedDocument: { id: string; year?: number; item?: string }
  lot: { id: string; material: string; plant: string }
  quantity: Quantity
  bucket?: Bucket
}

const units = (q: Quantity | undefined) => q?.units ?? 0

/** Physical stock per bucket, in steps, as the ERP reports it. */
async function readStock(ctx: Ctx, lot: LotRef): Promise<Partial<Record<Bucket, number>>> {
  const r = await ctx.ports.erp.readLotStock(lot)
  return Object.fromEntries(Object.entries(r.quantities).map(([b, q]) => [b, units(q)]))
}

/** A usage decision changed after its run posted it: post only the difference. */
export async function applyDecisionChange(ctx: Ctx, change: DecisionChanged, eventId: string) {
  if (!change.stockPostings)
    return { outcome: 'decision-code-changed', code: change.code, note: 'no quantity moved' }
  if (!change.previousStockPostings)
    throw new PermanentError(
      'QLK_COMPENSATION_IMPOSSIBLE',
      `decision change of inspection lot ${change.inspectionLot} does not say which split it replaces`,
    )
  const lotId = change.lot ?? ctx.key
  const next = splitLines(change.stockPostings, lotId)
  // The same rule as the first decision: stock is never released without an accepting decision.
  if (change.valuation !== 'accepted' && next.some((l) => l.bucket === 'release'))
    throw new PermanentError(
      'QLK_RELEASE_WITHOUT_ACCEPTANCE',
      `lot ${lotId}: a rejecting decision (changed to ${change.code}) cannot release stock`,
    )
  const plan = planCompensation(splitLines(change.previousStockPostings, lotId), next, lotId)
  // The QMS lot names material and ERP plant as the receipt run created it.
  const lot = await ctx.step('read-inspection-lot', async () => {
    const l = await ctx.ports.qms.getInspectionLot(change.inspectionLot)
    if (!l)
      throw new PermanentError('QLK_REMOTE_REJECTED', `QMS inspection lot ${change.inspectionLot} is unknown`)
    return { plant: l.plant, material: l.material, lot: l.lot } satisfies LotRef
  })
  const before = await ctx.step('check-stock-for-compensation', async () => {
    const stock = await readStock(ctx, lot)
    for (const b of ['unrestricted', 'blocked'] as const) {
      const out = -(plan.delta[b] ?? 0)
      if (out > 0 && (stock[b] ?? 0) < out)
        throw new PermanentError(
          'QLK_COMPENSATION_IMPOSSIBLE',
          `lot ${lotId}: the changed decision moves ${out} steps out of ${b}, the ERP holds ${stock[b] ?? 0}; post it by hand`,
        )
    }
    return stock
  })
  // The ERP's decision record follows the QMS (SAP: the UD code on each inspection lot of the batch).
  await ctx.step('record-changed-decision', ({ idempotencyKey }) =>
    ctx.ports.erp.changeUsageDecision
      ? ctx.ports.erp.changeUsageDecision({
          idempotencyKey,
          lot,
          previousCode: change.previousCode,
          code: change.code,
          valuation: change.valuation,
          reference: change.inspectionLot,
        })
      : Promise.resolve({ changed: false }),
  )
  const documents: string[] = []
  for (const t of plan.transfers) {
    // Keyed by the change event and the movement, so a replay or a redelivery cannot post twice.
    const r = await ctx.step(
      'compensate-transfer',
      ({ idempotencyKey }) =>
        ctx.ports.erp.transferStock({
          idempotencyKey,
          lot,
          from: t.from,
          to: t.to,
          quantity: t.quantity,
          reason: `UD ${change.previousCode}→${change.code}`,
        }),
      { key: `${ctx.workflow}/${lotId}/${eventId}/${t.from}>${t.to}` },
    )
    documents.push(...r.documents)
  }
  await ctx.step('confirm-compensation', async () => {
    const stock = await readStock(ctx, lot)
    for (const b of ['unrestricted', 'blocked'] as const) {
      const want = (before[b] ?? 0) + (plan.delta[b] ?? 0)
      if ((stock[b] ?? 0) !== want)
        throw new RetryableError(
          'QLK_POSTING_UNCONFIRMED',
          `lot ${lotId}: ${b} is ${stock[b] ?? 0} steps, the changed decision needs ${want}`,
        )
    }
    return stock
  })
  await ctx.step('notify-decision-changed', async ({ idempotencyKey }) => {
    await ctx.ports.notify?.send({
      idempotencyKey,
      title: `Usage decision of lot ${lotId} changed: ${change.previousCode} → ${change.code}`,
      text: `${plan.transfers.length} compensating transfer posting(s) made in the ERP. Reason: ${change.reason}`,
      severity: 'info',
      facts: plan.transfers.map((t) => ({
        name: `${t.from} → ${t.to}`,
        value: `${t.quantity.units / 10 ** t.quantity.scale} ${t.quantity.uom}`,
      })),
    })
    return { notified: ctx.ports.notify !== undefined }
  })
  return {
    outcome: 'decision-changed',
    previousCode: change.previousCode,
    code: change.code,
    valuation: change.valuation,
    transfers: plan.transfers,
    documents,
  }
}

/**
 * A receipt reversed after its run ended. If the lot's stock is still all in quality inspection
 * (the run ended without posting, e.g. its inspection was cancelled) the ERP's own reversal is the
 * whole story (scrapped or returned stock cannot be reversed in the ERP: there is nothing to take). Otherwise the usage-decision posting already moved it and reversing it needs a
 * person's decision (which bucket gives the quantity back): dead letter, never a guess.
 */
export async function reversalAfterRun(ctx: Ctx, rev: ReceiptReversed) {
  // A receipt that never went to quality inspection was never this workflow's to post.
  if (rev.bucket !== undefined && rev.bucket !== 'qualityInspection')
    return { skipped: `reversal of a receipt into ${rev.bucket}, not quality inspection` }
  const lot: LotRef = { plant: rev.lot.plant, material: rev.lot.material, lot: rev.lot.id }
  const stock = await ctx.step('read-lot-stock', () => readStock(ctx, lot))
  const posted = Object.entries(stock).filter(([b, n]) => b !== 'qualityInspection' && (n ?? 0) > 0)
  if (posted.length === 0)
    return { outcome: 'receipt-reversed', lot: rev.lot.id, compensation: 'none needed' }
  await ctx.step('notify-reversal-after-posting', async ({ idempotencyKey }) => {
    await ctx.ports.notify?.send({
      idempotencyKey,
      title: `Goods receipt of lot ${rev.lot.id} reversed after its stock was posted`,
      text: `Material document ${rev.reversedDocument.id} was reversed by ${rev.materialDocument.id}; the usage-decision posting already moved the stock (${posted.map(([b, n]) => `${b} ${n}`).join(', ')}). Decide the compensating posting.`,
      severity: 'critical',
    })
    return { notified: ctx.ports.notify !== undefined }
  })
  throw new PermanentError(
    'QLK_REVERSAL_AFTER_POSTING',
    `goods receipt ${rev.reversedDocument.id} of lot ${rev.lot.id} was reversed after the usage-decision posting (ERP holds ${posted
      .map(([b, n]) => `${b} ${n}`)
      .join(', ')} steps); a person must decide the compensating posting`,
  )
}

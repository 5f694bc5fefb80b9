/**
 * The produced lot's stock while its in-process nonconformance is open (issue 8 item 2): blocked
 * in the ERP so it cannot be transferred or used, then each disposition line posted from blocked
 * stock to where the disposition sends it. ERP port only (DESIGN §3 import rules); one ERP
 * document per effect, found again by its idempotency key after a crash or a lost answer.
 */
import { PermanentError } from '../../engine/errors.ts'
import type { DispositionCode } from '../../model/nonconformance.ts'
import { add, compare, formatDecimal, type Quantity } from '../../model/quantity.ts'
import type { Bucket } from '../../model/stock.ts'
import type { ErpPort, LotRef } from '../ports/erp.ts'
import { blockUnrestricted } from '../stock-block.ts'

/** Where a disposition line sends blocked stock; `blocked`: it stays blocked, nothing is posted. */
const FROM_BLOCKED: Readonly<Partial<Record<DispositionCode, Bucket>>> = {
  RELEASE: 'unrestricted',
  USE_AS_IS: 'unrestricted',
  BLOCK: 'blocked',
  // Rework and repair happen on blocked stock (a rework order takes it from there).
  REWORK: 'blocked',
  REPAIR: 'blocked',
  SCRAP: 'scrap',
  RETURN_TO_VENDOR: 'returned',
  // SAMPLE_CONSUMED, RETAIN_SAMPLE and REGRADE have no single ERP posting out of blocked stock
  // (SAP: no 33x/309 from stock type blocked in quality-domain.md §1.4): refused, see planLines.
}

export interface DispositionLineIn {
  readonly code: string
  readonly quantity: Quantity
}

export interface PlannedLine {
  /** 1-based, as the QMS listed the line */
  readonly line: number
  readonly code: string
  readonly to: Bucket
  readonly quantity: Quantity
}

/**
 * Checks every line before anything is posted (nothing half-applied): its code must have a
 * posting out of blocked stock, and the lines added up must fit in what the run blocked. The
 * first line that does not is named in the error.
 */
export function planLines(nc: string, lines: readonly DispositionLineIn[], blocked: Quantity): PlannedLine[] {
  let total: Quantity | null = null
  return lines.map((l, i) => {
    const line = i + 1
    const to = FROM_BLOCKED[l.code as DispositionCode]
    if (!to)
      throw new PermanentError(
        'QLK_VALIDATION',
        `disposition of ${nc}, line ${line} (${l.code}): no ERP posting moves blocked stock to it; ` +
          `allowed: ${Object.keys(FROM_BLOCKED).join(', ')}`,
      )
    const field = `disposition/lines/${i}/quantity`
    total = total ? add(total, l.quantity, field) : l.quantity
    if (compare(total, blocked, field) > 0)
      throw new PermanentError(
        'QLK_DISPOSITION_EXCEEDS_BLOCKED',
        `disposition of ${nc}, line ${line} (${l.code} ${formatDecimal(l.quantity)} ${l.quantity.uom}): the lines ` +
          `up to it add up to ${formatDecimal(total)} ${total.uom}, more than the ${formatDecimal(blocked)} ${blocked.uom} blocked for the lot`,
      )
    return { line, code: l.code, to, quantity: l.quantity }
  })
}

export interface LotBlock {
  readonly lot: string
  readonly documents: readonly string[]
  /**
   * What this run blocked, which its disposition lines may post: the quantity it transferred, or,
   * when its transfer was found by its key after a lost answer or a killed attempt, the lot's
   * blocked stock as the ERP reports it then. null: nothing blocked (no unrestricted stock, or
   * another run had blocked it already: that block is not this run's to lift).
   */
  readonly blocked: Quantity | null
  /** stock in quality inspection, left there (see blockLot); null when none */
  readonly inQualityInspection: Quantity | null
}

/**
 * Blocks the lot's unrestricted stock (one document, keyed per lot). Stock in quality inspection
 * is left where it is: it cannot be issued, transferred or shipped anyway, and it belongs to its
 * inspection lot, whose usage decision posts it (SAP: a transfer posting past the inspection lot
 * would leave its quantity to be posted without stock; quality-domain.md §1.4). That is where an
 * inspection-relevant material's production receipt lands (the S/4 simulator: 101 → QI with an
 * inspection lot); the step records the quantity so the trail shows it.
 */
export async function blockLot(erp: ErpPort, lot: LotRef, key: string, reason: string): Promise<LotBlock> {
  const r = await blockUnrestricted(erp, lot, `${key}/unrestricted`, reason)
  const { blocked, qualityInspection } = (await erp.readLotStock(lot)).quantities
  const lotBlocked = blocked && blocked.units > 0 ? blocked : null
  return {
    lot: lot.lot,
    documents: r.documents,
    blocked: r.posted ?? (r.documents.length > 0 ? lotBlocked : null),
    inQualityInspection: qualityInspection && qualityInspection.units > 0 ? qualityInspection : null,
  }
}

/**
 * Canonical ↔ SAP: usage-decision buckets → UsageDecisionStockType (VMENGE01–04 [S], 05–07 as the
 * erp-s4 simulator assigns them, [U] in quality-domain.md §1.4), stock-type transfers → movement
 * types (321/322/343/344/349/350 [V]/[S], 551/553/555, 331/333), quantities ↔ DEC 13,3 strings.
 */
import { PermanentError } from '../../../engine/errors.ts'
import { formatDecimal, parseDecimal, type Quantity, rescale } from '../../../model/quantity.ts'
import type { Bucket } from '../../../model/stock.ts'
import type {
  PostStockDispositionInput,
  StockSplitLine,
  UsageDecisionBucket,
} from '../../../workflows/ports/erp.ts'

export const UD_STOCK_TYPE: Readonly<Record<UsageDecisionBucket, string>> = {
  release: 'VMENGE01',
  scrap: 'VMENGE02',
  sample: 'VMENGE03',
  block: 'VMENGE04',
  reserves: 'VMENGE05',
  regrade: 'VMENGE06',
  return: 'VMENGE07',
}

/** [movement type, GoodsMovementCode] per (from, to); 04 = transfer posting, 03 = goods issue. */
const TRANSFERS: Readonly<Record<string, readonly [string, string]>> = {
  'qualityInspection>unrestricted': ['321', '04'],
  'unrestricted>qualityInspection': ['322', '04'],
  'blocked>unrestricted': ['343', '04'],
  'unrestricted>blocked': ['344', '04'],
  'blocked>qualityInspection': ['349', '04'],
  'qualityInspection>blocked': ['350', '04'],
  'unrestricted>scrap': ['551', '03'],
  'qualityInspection>scrap': ['553', '03'],
  'blocked>scrap': ['555', '03'],
  'qualityInspection>sample': ['331', '03'],
  'unrestricted>sample': ['333', '03'],
  // Return delivery to the vendor (122) from the stock type the item names (quality-domain.md §1.5).
  'unrestricted>returned': ['122', '03'],
  'blocked>returned': ['122', '03'],
}

/** InventoryStockType of the source bucket ('07' blocked is the simulator's choice, [U]). */
const STOCK_TYPE: Partial<Record<Bucket, string>> = {
  unrestricted: '01',
  qualityInspection: '02',
  blocked: '07',
}

export function transferMovement(
  from: Bucket,
  to: Bucket,
): { movementType: string; code: string; stockType: string } {
  const m = TRANSFERS[`${from}>${to}`]
  if (!m)
    throw new PermanentError(
      'QLK_VALIDATION',
      `transferStock: no SAP movement from ${from} to ${to}; supported: ${Object.keys(TRANSFERS).join(', ')}`,
    )
  return { movementType: m[0], code: m[1], stockType: STOCK_TYPE[from] ?? '' }
}

/** MaterialDocumentHeaderText (BKTXT) is CHAR 25: the SDK's 25-character digest reference fits. */
export { referenceFor } from '../../sdk/reference.ts'

/** Canonical quantity → SAP decimal string at the configured scale (exact or refused). */
export function toSap(q: Quantity, scale: number, field: string): string {
  return formatDecimal(rescale(q, scale, field))
}

export function steps(q: Quantity, scale: number, field: string): number {
  return rescale(q, scale, field).units
}

export function fromSap(value: unknown, scale: number, uom: string, field: string): Quantity {
  return parseDecimal(typeof value === 'string' ? value : String(value ?? '0'), scale, uom, field)
}

/** A bucket (and regrade target) of a UD split, its lines added up, as the ECC connectors post it. */
export interface DispositionGroup {
  readonly bucket: StockSplitLine['bucket']
  readonly targetMaterial: string
  readonly targetLot: string
  readonly uom: string
  /** steps at the configured scale */
  units: number
}

/**
 * Lines of one bucket (and regrade target) are added up: one goods movement (IDoc or BAPI call),
 * one material document each. Every line must be in the unit of the first of its bucket.
 */
export function dispositionGroups(input: PostStockDispositionInput, scale: number): DispositionGroup[] {
  const byKey = new Map<string, DispositionGroup>()
  input.lines.forEach((line, i) => {
    const regrade = line.bucket === 'regrade'
    if (regrade && !line.targetMaterial && !line.targetLot)
      throw new PermanentError('QLK_VALIDATION', `lines[${i}]: regrade needs targetMaterial or targetLot`)
    const units = steps(line.quantity, scale, `lines[${i}].quantity`)
    if (units <= 0) throw new PermanentError('QLK_VALIDATION', `lines[${i}].quantity must be > 0`)
    const targetMaterial = regrade ? (line.targetMaterial ?? '') : ''
    const targetLot = regrade ? (line.targetLot ?? '') : ''
    const key = `${line.bucket}|${targetMaterial}|${targetLot}`
    const prev = byKey.get(key)
    if (prev && prev.uom !== line.quantity.uom)
      throw new PermanentError(
        'QLK_UNIT_CONVERSION',
        `lines[${i}].quantity is in ${line.quantity.uom}; an earlier ${line.bucket} line is in ${prev.uom}`,
      )
    if (prev) prev.units += units
    else byKey.set(key, { bucket: line.bucket, targetMaterial, targetLot, uom: line.quantity.uom, units })
  })
  if (byKey.size === 0) throw new PermanentError('QLK_VALIDATION', 'lines must not be empty')
  return [...byKey.values()]
}

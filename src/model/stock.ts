import { type Static, Type } from 'typebox'
import { MAX_SCALE, UomCode } from './quantity.ts'

/**
 * Stock buckets of one lot. SAP models them as stock types (QI stock, blocked, …), ERPNext as
 * warehouses, Odoo as locations; adapters translate (reference/quality-domain.md §7.1).
 */
export const BUCKETS = [
  'unrestricted',
  'qualityInspection',
  'blocked',
  'scrap',
  'returned',
  'sample',
  'reserves',
] as const
export type Bucket = (typeof BUCKETS)[number]
export const BucketSchema = Type.Enum(BUCKETS)

const Steps = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })

/**
 * The lot's stock quantity vector, all buckets in one uom and scale so conservation is one integer
 * sum. `received` is the net goods-receipt quantity and `transferredOut` what left the lot for
 * another material or batch (309); invariant: Σ buckets + transferredOut = received.
 */
export const StockVector = Type.Object(
  {
    uom: UomCode,
    scale: Type.Integer({ minimum: 0, maximum: MAX_SCALE }),
    received: Steps,
    transferredOut: Steps,
    buckets: Type.Object(
      {
        unrestricted: Steps,
        qualityInspection: Steps,
        blocked: Steps,
        scrap: Steps,
        returned: Steps,
        sample: Steps,
        reserves: Steps,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)
export type StockVector = Static<typeof StockVector>

export function emptyStock(uom: string, scale: number): StockVector {
  return {
    uom,
    scale,
    received: 0,
    transferredOut: 0,
    buckets: {
      unrestricted: 0,
      qualityInspection: 0,
      blocked: 0,
      scrap: 0,
      returned: 0,
      sample: 0,
      reserves: 0,
    },
  }
}

export function bucketTotal(v: StockVector): number {
  return BUCKETS.reduce((acc, b) => acc + v.buckets[b], 0)
}

/** True when Σ buckets + transferredOut = received and no bucket is negative. */
export function isConserved(v: StockVector): boolean {
  return BUCKETS.every((b) => v.buckets[b] >= 0) && bucketTotal(v) + v.transferredOut === v.received
}

import type { Quantity } from '../../model/quantity.ts'

/** What a complaint investigation learns from genealogy (all plants: a recall is never understated). */
export interface Investigation {
  /** raw lots upstream of the complained lots, with their suppliers */
  readonly supplierLots: Array<{
    readonly lot: string
    readonly plant: string
    readonly material: string | null
    readonly supplier: string
  }>
  readonly productionOrders: string[]
  /** every lot downstream of those supplier lots (the recall scope), with its stock by bucket */
  readonly affectedLots: Array<{
    readonly lot: string
    readonly plant: string
    readonly material: string | null
    readonly stock: Readonly<Record<string, Quantity>>
  }>
  readonly shipments: Array<{
    readonly delivery: string
    readonly customer: string
    readonly lot: string
    readonly quantity: Quantity
  }>
  readonly customers: string[]
  readonly truncated: boolean
}

export interface TraceabilityPort {
  /**
   * `through`: the seq of the event that asks (a complaint); the trace waits for genealogy to hold
   * everything stored before it, and fails retryably (QLK_PROJECTION_BEHIND) rather than answer
   * from a projection that lags.
   */
  investigate(
    lots: readonly string[],
    depth: number,
    opts?: { readonly through?: number },
  ): Promise<Investigation>
  /** the lot's material as genealogy knows it (MES production, receipts); null if unknown */
  materialOf?(lot: string): Promise<string | null>
}

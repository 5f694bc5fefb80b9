import type { LogCursor, Scope } from './types.ts'

/** A lot as the genealogy projection knows it. `stock` maps bucket → fixed-point quantity. */
export interface LotNode {
  readonly lot: string
  readonly plant: string
  readonly material: string | null
  readonly supplier: string | null
  readonly stock: Record<string, { units: number; scale: number; uom: string }>
}

export interface GenealogyEdge {
  readonly eventSeq: number
  readonly plant: string
  readonly fromLot: string
  readonly toLot: string
  /** consumed → produced per operation; a 309 split; a plant-to-plant transfer (301/303) */
  readonly kind: 'consumed' | 'split' | 'transfer'
  readonly operation: string | null
  readonly productionOrder: string | null
  readonly quantity: { units: number; scale: number; uom: string } | null
  readonly at: string
}

export interface Shipment {
  readonly eventSeq: number
  readonly plant: string
  readonly delivery: string
  readonly item: string
  readonly customer: string
  readonly lot: string
  readonly material: string
  readonly quantity: { units: number; scale: number; uom: string }
  readonly at: string
}

export interface GenealogyBatch {
  readonly lots: readonly (LotNode & { readonly firstSeenSeq: number; readonly lastEventSeq: number })[]
  readonly edges: readonly GenealogyEdge[]
  readonly shipments: readonly Shipment[]
}

export interface GenealogyStore {
  projectionCursor(name: string): Promise<LogCursor>
  /**
   * Whether projection `name` has consumed the event at `seq`, hence every event committed before
   * that event was appended (a reader that must not act on a lagging projection checks this).
   */
  projectedThrough(name: string, seq: number): Promise<boolean>
  /** Applies a batch and moves the cursor from `from` to `to` in one transaction; false if `from` is stale. */
  applyGenealogy(name: string, from: LogCursor, to: LogCursor, batch: GenealogyBatch): Promise<boolean>
  /** Lots by id, whatever their plant (the caller applies the scope and counts what it hides). */
  lotsById(ids: readonly string[]): Promise<LotNode[]>
  edgesFrom(lots: readonly string[]): Promise<GenealogyEdge[]>
  edgesTo(lots: readonly string[]): Promise<GenealogyEdge[]>
  shipmentsOf(lots: readonly string[]): Promise<Shipment[]>
  /** A plant-scoped lot lookup for the API (404 outside the scope). */
  getLot(scope: Scope, lot: string): Promise<LotNode | undefined>
  /**
   * The lots a caller may mean by `id` in its plants: the lot keyed `id`, and the same batch
   * received from another plant (`id@plant`, see `transferLotKey`), ordered by plant then key.
   */
  findLots(scope: Scope, id: string): Promise<LotNode[]>
}

/**
 * The genealogy key of a batch transferred into `plant` from another plant: a batch keeps its
 * number when it moves (SAP 301/303), but it is another lot there, with its own stock.
 */
export function transferLotKey(batch: string, plant: string): string {
  return `${batch}@${plant}`
}

/** The bare batch of a transferred lot's key (`B1` of `B1@P200` in P200); null for any other lot. */
export function transferredBatch(lot: string, plant: string): string | null {
  const suffix = `@${plant}`
  return lot.length > suffix.length && lot.endsWith(suffix) ? lot.slice(0, -suffix.length) : null
}

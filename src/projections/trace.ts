import type { Quantity } from '../model/quantity.ts'
import { add, formatDecimal } from '../model/quantity.ts'
import type { GenealogyEdge, LotNode, Shipment } from '../store/genealogy-types.ts'
import { type Scope, type Store, scopeIncludes } from '../store/types.ts'
import { type Direction, edgeRows, pageLinks, walkUntil } from './trace-page.ts'

export type { Direction }

export interface TraceNode extends LotNode {
  readonly depth: number
}

export interface TraceResult {
  readonly root: string
  readonly direction: Direction
  readonly depth: number
  /** every lot reached, in the caller's plants and outside them (a lower bound unless `exactCounts`) */
  readonly total: number
  readonly nodes: TraceNode[]
  /**
   * Each edge between two listed lots appears on exactly one page: an edge into the next level
   * (how the walk reached a lot) on the page of the lot it reaches; an edge within a level or
   * back to an earlier level (a loop) on the page of the last listed lot of its source's level.
   * The pages together hold every edge of the trace whose both ends are in the caller's plants.
   */
  readonly edges: GenealogyEdge[]
  /** lots reached in other plants: counted, never silently dropped, so a recall is not understated */
  readonly outOfScope: { readonly lots: number; readonly plants: string[] }
  readonly nextCursor: string | null
  /** true when the walk stopped at `maxNodes` before exhausting the graph */
  readonly truncated: boolean
  /**
   * True when `total` and `outOfScope` are exact. A page is cut as soon as it is full, so a trace
   * larger than its page (a bulk lot's) has only walked part of the graph: the counts are then
   * what was walked so far, a lower bound. Pass `exactCounts: true` to pay for the full walk.
   */
  readonly exactCounts: boolean
}

export interface TraceOptions {
  readonly direction: Direction
  readonly depth: number
  readonly limit: number
  /** position in the listing (lots in the caller's plants by depth, then lot id) */
  readonly cursor?: number
  /** walk the whole graph within `depth` to make `total` and `outOfScope` exact */
  readonly exactCounts?: boolean
}

export const MAX_TRACE_NODES = 200_000

/** The edges leaving `lots` in the walk direction. */
function step(store: Store, lots: readonly string[], direction: Direction): Promise<GenealogyEdge[]> {
  return direction === 'forward' ? store.genealogy.edgesFrom(lots) : store.genealogy.edgesTo(lots)
}

/** An edge's ends in the walk direction: forward goes from → to, backward to → from. */
const ends = (e: GenealogyEdge, d: Direction) =>
  d === 'forward' ? [e.fromLot, e.toLot] : [e.toLot, e.fromLot]

/**
 * Breadth-first walk with a visited set: real genealogy has loops (rework, regrind, re-pack),
 * and a lot reached twice is listed once at its shallowest depth. Lots outside the scope are
 * walked through (their descendants may be in scope) but only counted.
 */
export async function walk(
  store: Store,
  root: string,
  direction: Direction,
  depth: number,
  maxNodes = MAX_TRACE_NODES,
): Promise<{ depthOf: Map<string, number>; edges: GenealogyEdge[]; truncated: boolean }> {
  const depthOf = new Map<string, number>([[root, 0]])
  const edges: GenealogyEdge[] = []
  let frontier = [root]
  let truncated = false
  for (let d = 1; d <= depth && frontier.length > 0 && !truncated; d++) {
    const found = await step(store, frontier, direction)
    const next: string[] = []
    for (const e of found) {
      edges.push(e)
      const other = ends(e, direction)[1]!
      if (depthOf.has(other)) continue
      if (depthOf.size >= maxNodes) {
        truncated = true
        break
      }
      depthOf.set(other, d)
      next.push(other)
    }
    frontier = next
  }
  return { depthOf, edges, truncated }
}

/** Exact counts of a trace: the full walk within `depth` and every reached lot's plant. */
export async function traceCounts(
  store: Store,
  scope: Scope,
  root: string,
  direction: Direction,
  depth: number,
): Promise<{ total: number; outOfScope: { lots: number; plants: string[] }; truncated: boolean }> {
  const { depthOf, truncated } = await walk(store, root, direction, depth)
  const hidden = (await store.genealogy.lotsById([...depthOf.keys()])).filter(
    (l) => !scopeIncludes(scope, l.plant),
  )
  return {
    total: depthOf.size,
    outOfScope: { lots: hidden.length, plants: [...new Set(hidden.map((l) => l.plant))].sort() },
    truncated,
  }
}

/**
 * One page of a lot's genealogy in the caller's plants. Lots are listed by depth, then lot id;
 * `cursor` is a position in that listing, so paging is stable while the graph does not change.
 */
export async function trace(
  store: Store,
  scope: Scope,
  root: string,
  o: TraceOptions,
): Promise<TraceResult | undefined> {
  if (!(await store.genealogy.getLot(scope, root))) return undefined
  const start = o.cursor ?? 0
  const end = start + o.limit
  // One lot past the page says whether there is a next page.
  const w = await walkUntil(store, scope, root, { ...o, maxNodes: MAX_TRACE_NODES }, end + 1)
  const listed = w.listed.slice(start, end)
  // The page's full rows: lots and edges read side by side (on PostgreSQL on two connections).
  const [rows, edges] = await Promise.all([
    store.genealogy.lotsById(listed.map((n) => n.lot)),
    edgeRows(store, pageLinks(w, start, end, o)),
  ])
  const lots = new Map(rows.map((l) => [l.lot, l]))
  const counts =
    o.exactCounts && !w.complete ? await traceCounts(store, scope, root, o.direction, o.depth) : null
  return {
    root,
    direction: o.direction,
    depth: o.depth,
    total: counts?.total ?? w.depthOf.size,
    nodes: listed.flatMap((n) => {
      const l = lots.get(n.lot)
      return l ? [{ ...l, depth: n.depth }] : []
    }),
    edges,
    outOfScope: counts?.outOfScope ?? { lots: w.hidden.size, plants: [...new Set(w.hidden.values())].sort() },
    nextCursor: w.listed.length > end ? String(end) : null,
    truncated: counts?.truncated ?? w.truncated,
    exactCounts: counts !== null || w.complete,
  }
}

export interface RecallScope {
  readonly suspect: string
  readonly lots: TraceNode[]
  readonly shipments: Shipment[]
  /** per material and unit: quantity shipped to customers vs still in stock (all buckets) */
  readonly totals: Array<{ material: string; uom: string; shipped: Quantity; inStock: Quantity }>
  readonly customers: string[]
  readonly outOfScope: { readonly lots: number; readonly shipments: number; readonly plants: string[] }
  readonly truncated: boolean
}

/** Everything downstream of a suspect lot: lots with their stock, deliveries and customers. */
export async function recallScope(
  store: Store,
  scope: Scope,
  suspect: string,
  depth = 50,
): Promise<RecallScope | undefined> {
  if (!(await store.genealogy.getLot(scope, suspect))) return undefined
  const { depthOf, truncated } = await walk(store, suspect, 'forward', depth)
  const lots = await store.genealogy.lotsById([...depthOf.keys()])
  const shipments = await store.genealogy.shipmentsOf([...depthOf.keys()])
  const visibleLots = lots.filter((l) => scopeIncludes(scope, l.plant))
  const visibleShipments = shipments.filter((s) => scopeIncludes(scope, s.plant))
  const totals = new Map<string, { material: string; uom: string; shipped: Quantity; inStock: Quantity }>()
  const bucket = (material: string, q: Quantity) => {
    const k = `${material}\u0000${q.uom}`
    const zero = { units: 0, scale: q.scale, uom: q.uom }
    const t = totals.get(k) ?? { material, uom: q.uom, shipped: zero, inStock: zero }
    totals.set(k, t)
    return t
  }
  for (const s of visibleShipments) {
    const t = bucket(s.material, s.quantity)
    t.shipped = add(t.shipped, s.quantity)
  }
  for (const l of visibleLots) {
    for (const [name, q] of Object.entries(l.stock)) {
      if (name === 'transferredOut' || q.units === 0) continue
      const t = bucket(l.material ?? '?', q)
      t.inStock = add(t.inStock, q)
    }
  }
  const hidden = lots.filter((l) => !scopeIncludes(scope, l.plant))
  return {
    suspect,
    lots: visibleLots
      .map((l) => ({ ...l, depth: depthOf.get(l.lot)! }))
      .sort((a, b) => a.depth - b.depth || a.lot.localeCompare(b.lot)),
    shipments: visibleShipments,
    totals: [...totals.values()],
    customers: [...new Set(visibleShipments.map((s) => s.customer))].sort(),
    outOfScope: {
      lots: hidden.length,
      shipments: shipments.length - visibleShipments.length,
      plants: [
        ...new Set([
          ...hidden.map((l) => l.plant),
          ...shipments.filter((s) => !scopeIncludes(scope, s.plant)).map((s) => s.plant),
        ]),
      ].sort(),
    },
    truncated,
  }
}

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)

/** The recall scope as CSV: one row per downstream lot and one per shipment. */
export function recallCsv(r: RecallScope): string {
  const rows = [
    ['record', 'lot', 'plant', 'material', 'depth', 'bucket_or_delivery', 'customer', 'quantity', 'uom'],
  ]
  for (const l of r.lots) {
    for (const [b, q] of Object.entries(l.stock))
      rows.push(['stock', l.lot, l.plant, l.material ?? '', String(l.depth), b, '', formatDecimal(q), q.uom])
  }
  for (const s of r.shipments)
    rows.push([
      'shipment',
      s.lot,
      s.plant,
      s.material,
      '',
      s.delivery,
      s.customer,
      formatDecimal(s.quantity),
      s.quantity.uom,
    ])
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\n')}\n`
}

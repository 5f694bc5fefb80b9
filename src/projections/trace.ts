import type { Quantity } from '../model/quantity.ts'
import { add, formatDecimal } from '../model/quantity.ts'
import type { GenealogyEdge, LotNode, Shipment } from '../store/genealogy-types.ts'
import { type Scope, type Store, scopeIncludes } from '../store/types.ts'

export type Direction = 'forward' | 'backward'

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
   * Each edge between two listed lots appears once, on the page of whichever end comes later in
   * the listing; so a page's edges join its lots to each other and to lots of earlier pages, and
   * the pages together hold every edge of the trace whose both ends are in the caller's plants.
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

/** Lot ids in code-unit order: the listing order must not depend on the server's locale. */
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

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

/** The walk so far: lots in the caller's plants in listing order, and what was counted on the way. */
interface Walked {
  readonly depthOf: Map<string, number>
  readonly listed: TraceNode[]
  readonly hidden: Map<string, string>
  /** walk-direction edges by their source and by their target, for every level expanded */
  readonly out: Map<string, GenealogyEdge[]>
  readonly into: Map<string, GenealogyEdge[]>
  /** deepest level reached; levels above it were expanded */
  level: number
  complete: boolean
  truncated: boolean
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
  const list = m.get(k)
  if (list) list.push(v)
  else m.set(k, [v])
}

/**
 * Walks level by level only until `want` lots in scope are listed. Listing order is (depth, lot
 * id), and a level's membership needs every shallower level (the visited set), so the cost is
 * the levels up to the page's end, not the whole graph: a bulk lot's first page reads its direct
 * consumers' ids and loads only the lots the page needs. Within the last level, lots are loaded
 * in id order and only as far as the page reaches.
 */
async function walkUntil(
  store: Store,
  scope: Scope,
  root: LotNode,
  o: TraceOptions,
  want: number,
): Promise<Walked> {
  const w: Walked = {
    depthOf: new Map([[root.lot, 0]]),
    listed: [{ ...root, depth: 0 }],
    hidden: new Map(),
    out: new Map(),
    into: new Map(),
    level: 0,
    complete: true,
    truncated: false,
  }
  let frontier = [root.lot]
  while (w.listed.length < want && w.level < o.depth && frontier.length > 0) {
    const found = await step(store, frontier, o.direction)
    const next: string[] = []
    for (const e of found) {
      const [from, to] = ends(e, o.direction) as [string, string]
      push(w.out, from, e)
      push(w.into, to, e)
      if (w.depthOf.has(to) || w.truncated) continue
      if (w.depthOf.size >= MAX_TRACE_NODES) {
        w.truncated = true
        continue
      }
      w.depthOf.set(to, w.level + 1)
      next.push(to)
    }
    w.level++
    next.sort(byId)
    let i = 0
    while (i < next.length && w.listed.length < want) {
      const chunk = next.slice(i, i + Math.max(want - w.listed.length, 100))
      const lots = new Map((await store.genealogy.lotsById(chunk)).map((l) => [l.lot, l]))
      for (const id of chunk) {
        const l = lots.get(id)
        // An edge to a lot the projection has no row for: reached (total) but neither listed nor hidden.
        if (!l) continue
        if (scopeIncludes(scope, l.plant)) w.listed.push({ ...l, depth: w.level })
        else w.hidden.set(id, l.plant)
      }
      i += chunk.length
    }
    frontier = next
    if (i < next.length) {
      w.complete = false
      return w
    }
  }
  // Stopped with levels left to walk within the depth: what lies beyond is not counted yet.
  if (frontier.length > 0 && w.level < o.depth) w.complete = false
  if (w.truncated) w.complete = false
  return w
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
  const rootLot = await store.genealogy.getLot(scope, root)
  if (!rootLot) return undefined
  const start = o.cursor ?? 0
  // One lot past the page says whether there is a next page.
  const w = await walkUntil(store, scope, rootLot, o, start + o.limit + 1)
  const page = w.listed.slice(start, start + o.limit)
  const edges = await pageEdges(store, w, page, start, o)
  const counts =
    o.exactCounts && !w.complete ? await traceCounts(store, scope, root, o.direction, o.depth) : null
  const hiddenPlants = [...new Set(w.hidden.values())].sort()
  return {
    root,
    direction: o.direction,
    depth: o.depth,
    total: counts?.total ?? w.depthOf.size,
    nodes: page,
    edges,
    outOfScope: counts?.outOfScope ?? { lots: w.hidden.size, plants: hiddenPlants },
    nextCursor: w.listed.length > start + o.limit ? String(start + o.limit) : null,
    truncated: counts?.truncated ?? w.truncated,
    exactCounts: counts !== null || w.complete,
  }
}

/**
 * The page's edges (see TraceResult.edges). An edge counts when its source was expanded, i.e. lies
 * above the depth limit, as in the full walk. Edges of lots on the deepest level walked were not
 * read by the walk; they are read here for the page's lots only.
 */
async function pageEdges(
  store: Store,
  w: Walked,
  page: readonly TraceNode[],
  start: number,
  o: TraceOptions,
): Promise<GenealogyEdge[]> {
  const pos = new Map(w.listed.slice(0, start + page.length).map((n, i) => [n.lot, i]))
  const unread = page.filter((n) => n.depth === w.level).map((n) => n.lot)
  if (unread.length > 0 && w.level < o.depth) {
    const back: Direction = o.direction === 'forward' ? 'backward' : 'forward'
    const [outs, ins] = await Promise.all([step(store, unread, o.direction), step(store, unread, back)])
    const seen = new Set<string>()
    for (const e of [...outs, ...ins]) {
      const k = `${e.eventSeq}\u0000${e.fromLot}\u0000${e.toLot}`
      if (seen.has(k)) continue
      seen.add(k)
      const [from, to] = ends(e, o.direction) as [string, string]
      // Edges into this level from shallower lots were already read when those lots were expanded.
      if (w.depthOf.get(from) !== w.level) continue
      push(w.out, from, e)
      push(w.into, to, e)
    }
  }
  const expanded = (lot: string) => (w.depthOf.get(lot) ?? o.depth) < o.depth
  const out: GenealogyEdge[] = []
  for (const n of page) {
    const p = pos.get(n.lot)!
    const mine: GenealogyEdge[] = []
    if (expanded(n.lot))
      for (const e of w.out.get(n.lot) ?? []) {
        const q = pos.get(ends(e, o.direction)[1]!)
        if (q !== undefined && q <= p) mine.push(e)
      }
    for (const e of w.into.get(n.lot) ?? []) {
      const from = ends(e, o.direction)[0]!
      const q = pos.get(from)
      if (q !== undefined && q < p && expanded(from)) mine.push(e)
    }
    out.push(
      ...mine.sort((a, b) => byId(a.fromLot, b.fromLot) || byId(a.toLot, b.toLot) || a.eventSeq - b.eventSeq),
    )
  }
  return out
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

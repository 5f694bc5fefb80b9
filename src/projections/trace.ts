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
  /** every lot reached, in the caller's plants and outside them */
  readonly total: number
  readonly nodes: TraceNode[]
  readonly edges: GenealogyEdge[]
  /** lots reached in other plants: counted, never silently dropped, so a recall is not understated */
  readonly outOfScope: { readonly lots: number; readonly plants: string[] }
  readonly nextCursor: string | null
  /** true when the walk stopped at `maxNodes` before exhausting the graph */
  readonly truncated: boolean
}

export const MAX_TRACE_NODES = 200_000

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
    const found =
      direction === 'forward'
        ? await store.genealogy.edgesFrom(frontier)
        : await store.genealogy.edgesTo(frontier)
    const next: string[] = []
    for (const e of found) {
      edges.push(e)
      const other = direction === 'forward' ? e.toLot : e.fromLot
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

export async function trace(
  store: Store,
  scope: Scope,
  root: string,
  o: { direction: Direction; depth: number; limit: number; cursor?: number },
): Promise<TraceResult | undefined> {
  if (!(await store.genealogy.getLot(scope, root))) return undefined
  const { depthOf, edges, truncated } = await walk(store, root, o.direction, o.depth)
  const lots = await store.genealogy.lotsById([...depthOf.keys()])
  const inScope = lots.filter((l) => scopeIncludes(scope, l.plant))
  const hidden = lots.filter((l) => !scopeIncludes(scope, l.plant))
  const ordered = inScope
    .map((l) => ({ ...l, depth: depthOf.get(l.lot)! }))
    .sort((a, b) => a.depth - b.depth || a.lot.localeCompare(b.lot))
  const start = o.cursor ?? 0
  const page = ordered.slice(start, start + o.limit)
  const onPage = new Set(page.map((n) => n.lot))
  const visible = new Set(inScope.map((l) => l.lot))
  return {
    root,
    direction: o.direction,
    depth: o.depth,
    total: depthOf.size,
    nodes: page,
    edges: edges.filter(
      (e) => (onPage.has(e.fromLot) || onPage.has(e.toLot)) && visible.has(e.fromLot) && visible.has(e.toLot),
    ),
    outOfScope: { lots: hidden.length, plants: [...new Set(hidden.map((l) => l.plant))].sort() },
    nextCursor: start + o.limit < ordered.length ? String(start + o.limit) : null,
    truncated,
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

import { RetryableError } from '../engine/errors.ts'
import type { Store } from '../store/types.ts'
import type { Investigation, TraceabilityPort } from '../workflows/ports/traceability.ts'
import { GENEALOGY_PROJECTION } from './genealogy-projector.ts'
import { walk } from './trace.ts'

/** The genealogy projection as a port: backward to supplier lots, forward to every affected lot and delivery. */
export function genealogyTraceability(
  store: Store,
  catchUp: () => Promise<unknown> = async () => {},
): TraceabilityPort {
  return {
    async materialOf(lot) {
      await catchUp()
      const [node] = await store.genealogy.lotsById([lot])
      return node?.material ?? null
    },
    async investigate(lots, depth, opts): Promise<Investigation> {
      await catchUp()
      // On PostgreSQL the projection tails the log below the visibility watermark, which any open
      // transaction holds back: a complaint traced from a lagging projection found no lots at all
      // (issue 8 kill test, a real process on PostgreSQL). The engine's backoff retries the step.
      if (
        opts?.through !== undefined &&
        !(await store.genealogy.projectedThrough(GENEALOGY_PROJECTION, opts.through))
      )
        throw new RetryableError(
          'QLK_PROJECTION_BEHIND',
          `genealogy has not yet projected the log up to event ${opts.through}; tracing again later`,
        )
      const upstream = new Map<string, number>()
      const orders = new Set<string>()
      let truncated = false
      for (const lot of lots) {
        const back = await walk(store, lot, 'backward', depth)
        truncated ||= back.truncated
        for (const [l, d] of back.depthOf) upstream.set(l, Math.min(d, upstream.get(l) ?? d))
        for (const e of back.edges) if (e.productionOrder) orders.add(e.productionOrder)
      }
      const upLots = await store.genealogy.lotsById([...upstream.keys()])
      // Supplier lots are the roots of the suspicion; without any, the complained lots are.
      const roots = upLots.filter((l) => l.supplier !== null)
      const starts = roots.length > 0 ? roots.map((l) => l.lot) : [...lots]
      const affected = new Set<string>()
      for (const s of starts) {
        const fwd = await walk(store, s, 'forward', depth)
        truncated ||= fwd.truncated
        for (const l of fwd.depthOf.keys()) affected.add(l)
      }
      const affectedLots = await store.genealogy.lotsById([...affected])
      const shipments = await store.genealogy.shipmentsOf([...affected])
      return {
        supplierLots: roots.map((l) => ({
          lot: l.lot,
          plant: l.plant,
          material: l.material,
          supplier: l.supplier!,
        })),
        productionOrders: [...orders].sort(),
        affectedLots: affectedLots
          .map((l) => ({ lot: l.lot, plant: l.plant, material: l.material, stock: l.stock }))
          .sort((a, b) => a.lot.localeCompare(b.lot)),
        shipments: shipments.map((s) => ({
          delivery: s.delivery,
          customer: s.customer,
          lot: s.lot,
          quantity: s.quantity,
        })),
        customers: [...new Set(shipments.map((s) => s.customer))].sort(),
        truncated,
      }
    },
  }
}

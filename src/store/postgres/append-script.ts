import type pg from 'pg'
import { typeFamily } from '../engine-rows.ts'
import type { AppendRequest, AppendResult } from '../types.ts'
import type { RoutingPlan } from './engine.ts'

function int(v: number | null): string | null {
  if (v === null) return null
  if (!Number.isSafeInteger(v)) throw new Error(`source sequence ${v} is not a safe integer`)
  return String(v)
}

/**
 * The group's whole write in ONE round trip: `qlk_append_events` (migration 0027), called as a
 * prepared statement with one array parameter per column. The function runs the insert with its
 * routing locks and `event.ingested` audit rows, the wait match (events with a subject) and the
 * duplicates' original seqs as three statements, each with a fresh snapshot, in one implicit
 * transaction; the migration's header says why each sees what it must. PL/pgSQL plans them once
 * per connection. Before 0027 the same statements went as one multi-statement simple query with
 * the values escaped into literals, parsed and planned on every call (bench/README.md, "Kernel I").
 * Groups of any size: with the values as array parameters nothing grows with the group but the
 * arrays (the literal form had been limited to 32 events, its escaping growing with the group;
 * batches of 100 on the function against the transactional path, scratch A/B twice, 2026-11-29:
 * 17,467 / 18,400 → 20,100 / 21,283 events/s). Only for groups with nothing to route to a
 * workflow, no business audit rows of their own and no raw delivery to settle; those take the
 * transactional path.
 */
export async function appendInOneTrip(
  query: (q: pg.QueryConfig) => Promise<pg.QueryResult>,
  requests: readonly AppendRequest[],
  plan: RoutingPlan,
): Promise<AppendResult[][]> {
  const all = requests.flatMap((r) => r.events.map((e) => ({ e, actor: r.actor })))
  const col = <T>(f: (x: (typeof all)[number]) => T) => all.map(f)
  const out = await query({
    name: 'qlk_append_events',
    text: `SELECT r_fresh, r_seq, r_source, r_id, r_correlation
             FROM qlk_append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    values: [
      col(({ e }) => e.plant),
      col(({ e }) => e.source),
      col(({ e }) => e.id),
      col(({ e }) => e.type),
      col(({ e }) => e.subject),
      col(({ e }) => e.time),
      col(({ e }) => e.correlationId),
      col(({ e }) => e.causationId),
      col(({ e }) => int(e.sourceSequence)),
      col(({ e }) => e.dataHash),
      col(({ e }) => e.envelopeJson),
      col(({ actor }) => actor),
      col(({ e }) => typeFamily(e.type)),
      plan.keys,
      plan.shared,
    ],
  })
  const fresh = new Map<string, number>()
  const existing = new Map<string, { seq: number; correlationId: string }>()
  for (const r of out.rows) {
    const key = `${r.r_source}\u0000${r.r_id}`
    if (r.r_fresh) fresh.set(key, Number(r.r_seq))
    else existing.set(key, { seq: Number(r.r_seq), correlationId: String(r.r_correlation) })
  }
  return requests.map((req) =>
    req.events.map((e): AppendResult => {
      const key = `${e.source}\u0000${e.id}`
      const seq = fresh.get(key)
      if (seq !== undefined) {
        fresh.delete(key) // a second copy in the same group is a duplicate of this one
        existing.set(key, { seq, correlationId: e.correlationId })
        return { id: e.id, source: e.source, seq, correlationId: e.correlationId, duplicate: false }
      }
      const orig = existing.get(key)
      if (!orig) throw new Error(`event ${e.source}/${e.id} neither inserted nor found`)
      return { id: e.id, source: e.source, seq: orig.seq, correlationId: orig.correlationId, duplicate: true }
    }),
  )
}

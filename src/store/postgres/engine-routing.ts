import { randomUUID } from 'node:crypto'
import { ACTIVE_STATUSES, typeFamily } from '../engine-rows.ts'
import type { Router, RouteTarget } from '../engine-types.ts'
import type { AppendEvent } from '../types.ts'
import { inboxLock, waitLock } from './engine-locks.ts'
import type { Client } from './engine-tx.ts'

/**
 * The waits an ingest group's events match, given a CTE `ev(seq, family, subject, plant, …)` of
 * its new rows: `locked`, the waiting event waits they could match, locked in (run, position)
 * order so concurrent ingests of one subject queue instead of deadlocking; `m`, each wait's first
 * event after its `after_seq`. Used by matchWaits; migration 0027 (qlk_append_events, the one-round-trip
 * write) carries a copy, held to this text by test/kernel/append-one-trip.test.ts.
 */
export const WAIT_MATCH_CTES = `locked AS (
         SELECT w.run_id, w.position, w.event_family, w.subject, w.plant, w.after_seq FROM run_waits w
          WHERE w.status = 'waiting' AND w.kind = 'event'
            AND (w.event_family, w.subject, w.plant) IN (SELECT family, subject, plant FROM ev)
          ORDER BY w.run_id, w.position FOR UPDATE),
       m AS (
         SELECT DISTINCT ON (l.run_id, l.position) l.run_id, l.position, ev.seq
           FROM locked l JOIN ev ON l.event_family = ev.family AND l.subject = ev.subject AND l.plant = ev.plant
          WHERE l.after_seq < ev.seq
          ORDER BY l.run_id, l.position, ev.seq)`

/** A group's routing targets and the advisory locks it takes first (PostgresEngine.planRouting). */
export interface RoutingPlan {
  readonly targets: ReadonlyMap<AppendEvent, readonly RouteTarget[]>
  /** sorted lock keys */
  readonly keys: readonly string[]
  /** per key: taken in share mode */
  readonly shared: readonly boolean[]
}

/** Data-modifying CTEs another statement carries: `ctes(at)` numbers its parameters after `at`. */
export interface CarriedCtes {
  readonly ctes: (at: number) => string
  readonly params: readonly unknown[]
}

/**
 * Called by appendEvents inside its transaction with the newly stored events. Ingest takes the
 * wait key in share mode (a wait registration takes it exclusively), so ingests of one subject
 * run concurrently; the waits they both match are row-locked in a fixed order by matchWaits.
 * Keys are locked in sorted order: two transactions never deadlock on them.
 *
 * What a group of new events routes to and the advisory locks that routing needs: each target's
 * inbox key exclusively, each subject's wait key shared, sorted (the order lockAll takes them).
 * The write path takes these locks in its insert statement (lockAllSql), before any event row
 * is written, and routeBatchInTx relies on them being held. Taken for every event of the group,
 * duplicates included (a lock more is harmless; the insert does not know yet which are new).
 */
export function planRouting(router: Router | undefined, events: readonly AppendEvent[]): RoutingPlan {
  const targets = new Map<AppendEvent, readonly RouteTarget[]>()
  const keys = new Set<string>()
  const shared = new Set<string>()
  for (const e of events) {
    const ts = router?.(e) ?? []
    targets.set(e, ts)
    if (e.subject !== null) shared.add(waitLock(typeFamily(e.type), e.subject))
    for (const t of ts) keys.add(inboxLock(t.workflow, t.key))
  }
  for (const k of shared) keys.add(k)
  const sorted = [...keys].sort()
  return { targets, keys: sorted, shared: sorted.map((k) => shared.has(k)) }
}

/**
 * Routes the group's stored events; the plan's locks are already held (see planRouting).
 * `carry`: data-modifying CTEs (numbered after the statement's own parameters) run in the
 * wait-matching statement; answers whether they ran (no event has a subject: no such statement).
 */
export async function routeBatchInTx(
  c: Client,
  now: number,
  stored: ReadonlyArray<{ e: AppendEvent; seq: number }>,
  plan: RoutingPlan,
  carry?: CarriedCtes,
): Promise<boolean> {
  const routed = stored.map(({ e, seq }) => ({ e, seq, targets: plan.targets.get(e) ?? [] }))
  const carried = await matchWaits(c, now, routed, carry)
  for (const r of routed) if (r.targets.length > 0) await routeInTx(c, now, r.e, r.seq, r.targets)
  return carried
}

/**
 * One statement for the whole group: every waiting event-wait matched by any new event, the
 * earliest event winning (DISTINCT ON … ORDER BY seq). Measured: per-event UPDATEs held a
 * group of 100 open for 100 round trips; batched, store-only ingest went ~2.4k → 5–7k ev/s.
 */
async function matchWaits(
  c: Client,
  now: number,
  routed: ReadonlyArray<{ e: AppendEvent; seq: number }>,
  carry?: CarriedCtes,
): Promise<boolean> {
  // Concurrent ingests of one subject (share-mode key) lock the waits they could match in
  // (run, position) order first, so they queue on each other instead of deadlocking.
  const withSubject = routed.filter((r) => r.e.subject !== null)
  if (withSubject.length === 0) return false
  const woken = await c.query(
    `WITH ${carry ? `${carry.ctes(4)},` : ''} ev(seq, family, subject, plant) AS (
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])),
     ${WAIT_MATCH_CTES}
     UPDATE run_waits w SET status = 'matched', event_seq = m.seq FROM m
      WHERE w.run_id = m.run_id AND w.position = m.position AND w.status = 'waiting'
     RETURNING w.run_id`,
    [
      withSubject.map((r) => r.seq),
      withSubject.map((r) => typeFamily(r.e.type)),
      withSubject.map((r) => r.e.subject),
      withSubject.map((r) => r.e.plant),
      ...(carry?.params ?? []),
    ],
  )
  if (woken.rowCount !== 0)
    await c.query(
      `UPDATE workflow_runs SET due_at_ms = $1, updated_at_ms = $1 WHERE id = ANY($2::text[]) AND status = 'waiting'`,
      [now, woken.rows.map((w) => String(w.run_id))],
    )
  return true
}

async function routeInTx(
  c: Client,
  now: number,
  e: AppendEvent,
  seq: number,
  targets: readonly RouteTarget[],
): Promise<void> {
  for (const t of targets) {
    if (t.start) {
      const started = await c.query(
        `INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq, trigger_event_id,
           due_at_ms, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8, $8)
         ON CONFLICT (workflow, run_key) WHERE status IN ${ACTIVE_STATUSES} DO NOTHING RETURNING id`,
        [randomUUID(), e.plant, t.workflow, t.version, t.key, seq, e.id, now],
      )
      if (started.rowCount === 1) continue
    }
    // Signal-with-start: the key is busy, so the event joins the active run's inbox (a
    // trigger that may not start a run joins only an active one), the run's inbox wait (if it
    // waits on it) is matched and the run made due: one statement, a round trip instead of
    // three. The parts touch different tables and each reads only rows earlier statements of
    // this transaction wrote (the active run), so one snapshot sees what three statements did.
    await c.query(
      `WITH active AS (
         SELECT id FROM workflow_runs WHERE workflow = $2 AND run_key = $3 AND status IN ${ACTIVE_STATUSES}),
       joined AS (
         INSERT INTO run_inbox (plant, workflow, run_key, version, event_seq)
         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM active) RETURNING 1),
       woken AS (
         UPDATE run_waits SET status = 'matched', event_seq = $5 WHERE status = 'waiting' AND kind = 'inbox'
            AND run_id = (SELECT id FROM active) AND EXISTS (SELECT 1 FROM joined) RETURNING run_id)
       UPDATE workflow_runs SET due_at_ms = $6, updated_at_ms = $6
        WHERE id IN (SELECT run_id FROM woken) AND status = 'waiting'`,
      [e.plant, t.workflow, t.key, t.version, seq, now],
    )
  }
}

import type pg from 'pg'
import type { Fence, JournalFlush, WaitRow } from '../engine-types.ts'
import { EVENT_COLUMNS, toEvent } from '../rows.ts'
import type { StoredEvent } from '../types.ts'
import { lockAllSql, waitLock } from './engine-locks.ts'
import { type EngineDeps, leaseLost } from './engine-tx.ts'
import { FENCED_PARAMS, fencedCtes, fencedValues, RUN_INBOX_LOCK, runScript } from './run-script.ts'

/** A run's waits on PostgreSQL: event waits (waitFor), inbox receives, timeouts. */

/** The wait's own parameters after the fenced ones (run-script.ts): $20 … $28. */
function waitValues(w: WaitRow): unknown[] {
  return [w.position, w.kind, w.eventFamily, w.subject, w.afterSeq, w.timeoutAtMs, w.timeoutInMs ?? null]
}
const W = (i: number) => `$${FENCED_PARAMS + i}`
/** The timeout on the database clock of the write (dueWait's rule, in SQL). */
const TIMEOUT = `CASE WHEN ${W(7)}::bigint IS NULL THEN ${W(6)}::bigint ELSE (SELECT now FROM clock) + ${W(7)}::bigint END`
/** `run`'s SET clauses: park the run (ending this execution's lease) unless `picked` found an event. */
const parkUnless = (
  picked: string,
) => `status = CASE WHEN EXISTS (SELECT 1 FROM ${picked}) THEN status ELSE 'waiting' END,
         due_at_ms = CASE WHEN EXISTS (SELECT 1 FROM ${picked}) THEN due_at_ms ELSE ${TIMEOUT} END,
         lease_owner = CASE WHEN EXISTS (SELECT 1 FROM ${picked}) THEN lease_owner END,
         lease_expires_at_ms = CASE WHEN EXISTS (SELECT 1 FROM ${picked}) THEN lease_expires_at_ms ELSE 0 END`

/**
 * One round trip (run-script.ts). Statement 1 takes the same lock as routing (routeBatchInTx), so an
 * event committing concurrently is either visible to statement 2's search or sees this wait row
 * when it routes; it is taken before the run row changes (routing holds it while it inserts a run
 * of the same key, and that insert would wait for an uncommitted new version of the row).
 * Statement 2: the first event after `afterSeq` of the family and subject not already consumed;
 * found, the wait is written matched to it and the run goes on; not found, the wait is written
 * waiting and the run parks, its lease ended in the same write.
 */
export async function registerWait(
  d: EngineDeps,
  f: Fence,
  wait: WaitRow,
  exclude: readonly number[],
  flush?: JournalFlush,
): Promise<StoredEvent | undefined> {
  const event = wait.kind === 'event'
  const lock = event ? lockAllSql(W(10), W(11)) : 'SELECT 1'
  const write = `WITH ${fencedCtes(
    parkUnless('found'),
    `found AS (
       SELECT ${EVENT_COLUMNS} FROM events
        WHERE ${W(2)} = 'event' AND plant = (SELECT plant FROM workflow_runs WHERE id = $1) AND subject = ${W(4)}
          AND type LIKE ${W(9)} AND seq > ${W(5)} AND NOT (seq = ANY(${W(8)}::bigint[]))
        ORDER BY seq LIMIT 1)`,
  )},
     wait AS (
       INSERT INTO run_waits (run_id, position, plant, kind, event_family, subject, after_seq, timeout_at_ms, status,
         event_seq)
       SELECT $1, ${W(1)}, run.plant, ${W(2)}, ${W(3)}, ${W(4)}, ${W(5)}, ${TIMEOUT},
              CASE WHEN found.seq IS NULL THEN 'waiting' ELSE 'matched' END, found.seq
         FROM run LEFT JOIN found ON TRUE)
     SELECT (SELECT count(*)::int FROM run) AS fenced, found.* FROM (SELECT 1) AS one LEFT JOIN found ON TRUE`
  const rows = await runScript(d.pool, 'qlk_run_wait', lock, write, [
    ...fencedValues(f, flush, []),
    ...waitValues(wait),
    [...exclude],
    `${wait.eventFamily}.v%`,
    event ? [waitLock(wait.eventFamily!, wait.subject!)] : [],
    [false],
  ])
  const r = rows[0]!
  if (r.fenced !== 1) throw leaseLost(f)
  return r.seq === null ? undefined : toEvent(r)
}

export async function timeOutWait(pool: pg.Pool, runId: string, position: number): Promise<boolean> {
  const r = await pool.query(
    `UPDATE run_waits SET status = 'timed_out' WHERE run_id = $1 AND position = $2 AND status = 'waiting'`,
    [runId, position],
  )
  return r.rowCount === 1
}

/**
 * An event already tied to this position (matched by routing while the run waited, or consumed
 * by an earlier attempt whose journal entry was never written: the entry is buffered until the
 * attempt's next write) is the one this position receives, so a crash in between never loses a
 * consumed event. Otherwise the key's oldest unconsumed inbox event is consumed and tied to the
 * position (a matched wait row) in the same transaction, or the run parks on an inbox wait.
 * One round trip (run-script.ts): the key's inbox lock, then all of it under a snapshot taken
 * after the lock is held, as routing's inbox rows are written under it.
 */
export async function takeInbox(
  d: EngineDeps,
  f: Fence,
  wait: WaitRow,
  flush?: JournalFlush,
): Promise<StoredEvent | undefined> {
  const write = `WITH ${fencedCtes(
    parkUnless('pick'),
    `tied AS (
       SELECT event_seq FROM run_waits WHERE run_id = $1 AND position = ${W(1)} AND status = 'matched'
          AND event_seq IS NOT NULL),
     nxt AS (
       SELECT i.seq, i.event_seq FROM workflow_runs r JOIN run_inbox i ON i.workflow = r.workflow AND i.run_key = r.run_key
        WHERE r.id = $1 AND i.run_id IS NULL AND NOT EXISTS (SELECT 1 FROM tied)
        ORDER BY i.seq LIMIT 1 FOR UPDATE OF i),
     pick AS (SELECT event_seq FROM tied UNION ALL SELECT event_seq FROM nxt)`,
  )},
     consumed AS (
       UPDATE run_inbox i SET run_id = $1, consumed_at_ms = run.now FROM run
        WHERE i.workflow = run.workflow AND i.run_key = run.run_key AND i.run_id IS NULL
          AND (i.seq IN (SELECT seq FROM nxt) OR i.event_seq IN (SELECT event_seq FROM tied))),
     wait AS (
       INSERT INTO run_waits (run_id, position, plant, kind, event_family, subject, after_seq, timeout_at_ms, status,
         event_seq)
       SELECT $1, ${W(1)}, run.plant, ${W(2)}, ${W(3)}, ${W(4)}, ${W(5)}, ${TIMEOUT},
              CASE WHEN nxt.event_seq IS NULL THEN 'waiting' ELSE 'matched' END, nxt.event_seq
         FROM run LEFT JOIN nxt ON TRUE
        WHERE NOT EXISTS (SELECT 1 FROM tied)
       ON CONFLICT (run_id, position) DO UPDATE SET plant = EXCLUDED.plant, kind = EXCLUDED.kind,
         event_family = EXCLUDED.event_family, subject = EXCLUDED.subject, after_seq = EXCLUDED.after_seq,
         timeout_at_ms = EXCLUDED.timeout_at_ms, status = EXCLUDED.status, event_seq = EXCLUDED.event_seq)
     SELECT (SELECT count(*)::int FROM run) AS fenced, e.* FROM (SELECT 1) AS one
       LEFT JOIN events e ON e.seq = (SELECT event_seq FROM pick)`
  const rows = await runScript(d.pool, 'qlk_run_inbox', RUN_INBOX_LOCK, write, [
    ...fencedValues(f, flush, []),
    ...waitValues(wait),
  ])
  const r = rows[0]!
  if (r.fenced !== 1) throw leaseLost(f)
  return r.seq === null ? undefined : toEvent(r)
}

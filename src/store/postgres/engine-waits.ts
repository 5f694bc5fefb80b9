import type pg from 'pg'
import { dueWait } from '../engine-rows.ts'
import type { Fence, JournalFlush, WaitRow } from '../engine-types.ts'
import { EVENT_COLUMNS, toEvent } from '../rows.ts'
import type { StoredEvent } from '../types.ts'
import { inboxLock, lockAll, waitLock } from './engine-locks.ts'
import { type Client, type EngineDeps, fenced, flushJournal, type Row } from './engine-tx.ts'

/** A run's waits on PostgreSQL: event waits (waitFor), inbox receives, timeouts. */

async function insertWait(
  c: Client,
  runId: string,
  plant: string,
  w: WaitRow,
  status: string,
  eventSeq: number | null,
) {
  await c.query(
    `INSERT INTO run_waits (run_id, position, plant, kind, event_family, subject, after_seq, timeout_at_ms, status,
       event_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [runId, w.position, plant, w.kind, w.eventFamily, w.subject, w.afterSeq, w.timeoutAtMs, status, eventSeq],
  )
}

/** Parks the run and ends this execution's lease in the same write (no separate suspend commit). */
async function park(c: Client, now: number, runId: string, dueAtMs: number | null): Promise<void> {
  await c.query(
    `UPDATE workflow_runs SET status = 'waiting', due_at_ms = $1, updated_at_ms = $2, lease_owner = NULL,
       lease_expires_at_ms = 0 WHERE id = $3`,
    [dueAtMs, now, runId],
  )
}

async function findForWait(c: Client | pg.Pool, plant: string, w: WaitRow, exclude: readonly number[]) {
  const r = await c.query(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE plant = $1 AND subject = $2 AND type LIKE $3 AND seq > $4
      AND NOT (seq = ANY($5::bigint[])) ORDER BY seq LIMIT 1`,
    [plant, w.subject, `${w.eventFamily}.v%`, w.afterSeq, exclude],
  )
  return r.rows[0] as Row | undefined
}

export async function registerWait(
  d: EngineDeps,
  f: Fence,
  wait: WaitRow,
  exclude: readonly number[],
  flush?: JournalFlush,
): Promise<StoredEvent | undefined> {
  return d.tx(async (c, now) => {
    const w = dueWait(wait, now)
    const run = await fenced(c, f)
    const plant = String(run.plant)
    // Same lock as routing (routeBatchInTx): an event committing concurrently is either visible
    // to this search or sees this wait row when it routes. Taken before the journal flush
    // updates the run row: routing holds it while it inserts a run of the same key, and that
    // insert waits for an uncommitted new version of the row (a deadlock the other way round).
    if (w.kind === 'event') await lockAll(c, [waitLock(w.eventFamily!, w.subject!)])
    await flushJournal(d, c, now, f, flush)
    if (w.kind === 'event') {
      const found = await findForWait(c, plant, w, exclude)
      if (found) {
        await insertWait(c, f.runId, plant, w, 'matched', Number(found.seq))
        return toEvent(found)
      }
    }
    await insertWait(c, f.runId, plant, w, 'waiting', null)
    await park(c, now, f.runId, w.timeoutAtMs)
    return undefined
  })
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
 */
export async function takeInbox(
  d: EngineDeps,
  f: Fence,
  wait: WaitRow,
  flush?: JournalFlush,
): Promise<StoredEvent | undefined> {
  return d.tx(async (c, now) => {
    const w = dueWait(wait, now)
    const run = await fenced(c, f)
    // the key's inbox lock before the flush updates the run row (see registerWait)
    await lockAll(c, [inboxLock(String(run.workflow), String(run.run_key))])
    await flushJournal(d, c, now, f, flush)
    const tied = await c.query(
      `SELECT event_seq FROM run_waits WHERE run_id = $1 AND position = $2 AND status = 'matched'
        AND event_seq IS NOT NULL`,
      [f.runId, w.position],
    )
    let eventSeq: unknown = tied.rows[0]?.event_seq
    if (eventSeq !== undefined) {
      await c.query(
        `UPDATE run_inbox SET run_id = $1, consumed_at_ms = $2 WHERE workflow = $3 AND run_key = $4 AND event_seq = $5
          AND run_id IS NULL`,
        [f.runId, now, run.workflow, run.run_key, eventSeq],
      )
    } else {
      const next = await c.query(
        `SELECT seq, event_seq FROM run_inbox WHERE workflow = $1 AND run_key = $2 AND run_id IS NULL
          ORDER BY seq LIMIT 1 FOR UPDATE`,
        [run.workflow, run.run_key],
      )
      await c.query('DELETE FROM run_waits WHERE run_id = $1 AND position = $2', [f.runId, w.position])
      if (!next.rows[0]) {
        await insertWait(c, f.runId, String(run.plant), w, 'waiting', null)
        await park(c, now, f.runId, w.timeoutAtMs)
        return undefined
      }
      eventSeq = next.rows[0].event_seq
      await c.query('UPDATE run_inbox SET run_id = $1, consumed_at_ms = $2 WHERE seq = $3', [
        f.runId,
        now,
        next.rows[0].seq,
      ])
      await insertWait(c, f.runId, String(run.plant), w, 'matched', Number(eventSeq))
    }
    const ev = await c.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1`, [eventSeq])
    return toEvent(ev.rows[0])
  })
}

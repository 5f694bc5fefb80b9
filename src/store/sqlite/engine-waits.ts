import { dueWait } from '../engine-rows.ts'
import type { Fence, JournalFlush, WaitRow } from '../engine-types.ts'
import { EVENT_COLUMNS, toEvent } from '../rows.ts'
import type { StoredEvent } from '../types.ts'
import { type EngineDeps, fenced, flushJournal, type Row } from './engine-tx.ts'

/**
 * A run's waits on SQLite: event waits (waitFor), inbox receives, timeouts. One connection, so
 * a wait registered here and an event routed by appendEvents can never interleave.
 */

function insertWait(
  d: EngineDeps,
  runId: string,
  plant: string,
  w: WaitRow,
  status: WaitRow['status'],
  eventSeq: number | null,
) {
  d.q(`INSERT INTO run_waits (run_id, position, plant, kind, event_family, subject, after_seq, timeout_at_ms,
        status, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    runId,
    w.position,
    plant,
    w.kind,
    w.eventFamily,
    w.subject,
    w.afterSeq,
    w.timeoutAtMs,
    status,
    eventSeq,
  )
}

/** Parks the run and ends this execution's lease in the same write (no separate suspend commit). */
function park(d: EngineDeps, now: number, runId: string, dueAtMs: number | null): void {
  d.q(`UPDATE workflow_runs SET status = 'waiting', due_at_ms = ?, updated_at_ms = ?, lease_owner = NULL,
      lease_expires_at_ms = 0 WHERE id = ?`).run(dueAtMs, now, runId)
}

function plantOf(d: EngineDeps, runId: string): string {
  return String((d.q('SELECT plant FROM workflow_runs WHERE id = ?').get(runId) as Row).plant)
}

export function registerWait(
  d: EngineDeps,
  f: Fence,
  wait: WaitRow,
  exclude: readonly number[],
  flush?: JournalFlush,
): StoredEvent | undefined {
  return d.tx((now) => {
    const w = dueWait(wait, now)
    fenced(d, f)
    flushJournal(d, now, f, flush)
    const plant = plantOf(d, f.runId)
    if (w.kind === 'event') {
      const found = d
        .q(`SELECT ${EVENT_COLUMNS} FROM events WHERE plant = ? AND subject = ? AND type LIKE ? AND seq > ?
          ${exclude.length ? `AND seq NOT IN (${exclude.map(() => '?').join(', ')})` : ''} ORDER BY seq LIMIT 1`)
        .get(plant, w.subject, `${w.eventFamily}.v%`, w.afterSeq, ...exclude) as Row | undefined
      if (found) {
        insertWait(d, f.runId, plant, w, 'matched', Number(found.seq))
        return toEvent(found)
      }
    }
    insertWait(d, f.runId, plant, w, 'waiting', null)
    park(d, now, f.runId, w.timeoutAtMs)
    return undefined
  })
}

export function timeOutWait(d: EngineDeps, runId: string, position: number): boolean {
  const r = d
    .q(`UPDATE run_waits SET status = 'timed_out' WHERE run_id = ? AND position = ? AND status = 'waiting'`)
    .run(runId, position)
  return r.changes === 1
}

/**
 * An event already tied to this position (matched by routing while the run waited, or consumed
 * by an earlier attempt whose journal entry was never written) is the one this position
 * receives; otherwise the oldest unconsumed inbox event is consumed and tied to the position in
 * the same transaction, or the run parks on an inbox wait (postgres/engine-waits.ts says why).
 */
export function takeInbox(
  d: EngineDeps,
  f: Fence,
  wait: WaitRow,
  flush?: JournalFlush,
): StoredEvent | undefined {
  return d.tx((now) => {
    const w = dueWait(wait, now)
    fenced(d, f)
    flushJournal(d, now, f, flush)
    const run = d.q('SELECT * FROM workflow_runs WHERE id = ?').get(f.runId) as Row
    const tied = d
      .q(
        `SELECT event_seq FROM run_waits WHERE run_id = ? AND position = ? AND status = 'matched' AND event_seq IS NOT NULL`,
      )
      .get(f.runId, w.position) as Row | undefined
    let eventSeq = tied?.event_seq
    if (eventSeq !== undefined) {
      d.q(`UPDATE run_inbox SET run_id = ?, consumed_at_ms = ? WHERE workflow = ? AND run_key = ? AND event_seq = ?
          AND run_id IS NULL`).run(f.runId, now, run.workflow, run.run_key, eventSeq)
    } else {
      const next = d
        .q(`SELECT seq, event_seq FROM run_inbox WHERE workflow = ? AND run_key = ? AND run_id IS NULL
          ORDER BY seq LIMIT 1`)
        .get(run.workflow, run.run_key) as Row | undefined
      d.q('DELETE FROM run_waits WHERE run_id = ? AND position = ?').run(f.runId, w.position)
      if (!next) {
        insertWait(d, f.runId, String(run.plant), w, 'waiting', null)
        park(d, now, f.runId, w.timeoutAtMs)
        return undefined
      }
      eventSeq = next.event_seq
      d.q('UPDATE run_inbox SET run_id = ?, consumed_at_ms = ? WHERE seq = ?').run(f.runId, now, next.seq)
      insertWait(d, f.runId, String(run.plant), w, 'matched', Number(eventSeq))
    }
    return toEvent(d.q(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ?`).get(eventSeq) as Row)
  })
}

import { randomUUID } from 'node:crypto'
import { ACTIVE_STATUSES, typeFamily } from '../engine-rows.ts'
import type { Router } from '../engine-types.ts'
import type { AppendEvent } from '../types.ts'
import type { EngineDeps, Row } from './engine-tx.ts'

/**
 * Whether any event wait is waiting (through the partial index run_waits_match). appendEvents
 * asks once per group and, when none is, routes without the per-event wait match: one statement
 * per group instead of one per event. The answer holds for the whole group: it is read inside
 * the group's write transaction, on the one connection that owns the file, and routing itself
 * only starts runs or fills inboxes, never registers an event wait.
 */
export function hasWaitingEventWaits(d: EngineDeps): boolean {
  return (
    d.q(`SELECT 1 FROM run_waits WHERE status = 'waiting' AND kind = 'event' LIMIT 1`).get() !== undefined
  )
}

/**
 * Called by appendEvents inside its transaction for each newly stored event; `matchWaits`
 * false when hasWaitingEventWaits() said no event wait is waiting.
 */
export function routeInTx(
  d: EngineDeps,
  router: Router | undefined,
  now: number,
  e: AppendEvent,
  seq: number,
  matchWaits: boolean,
): void {
  if (matchWaits && e.subject !== null) {
    const woken = d
      .q(`UPDATE run_waits SET status = 'matched', event_seq = ? WHERE status = 'waiting' AND kind = 'event'
        AND event_family = ? AND subject = ? AND plant = ? AND after_seq < ? RETURNING run_id`)
      .all(seq, typeFamily(e.type), e.subject, e.plant, seq) as Row[]
    for (const w of woken) wake(d, now, String(w.run_id))
  }
  for (const t of router?.(e) ?? []) {
    const started =
      t.start &&
      d
        .q(`INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq,
          trigger_event_id, due_at_ms, created_at_ms, updated_at_ms)
        VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)
        ON CONFLICT (workflow, run_key) WHERE status IN ${ACTIVE_STATUSES} DO NOTHING RETURNING id`)
        .get(randomUUID(), e.plant, t.workflow, t.version, t.key, seq, e.id, now, now, now)
    if (started) continue
    // Signal-with-start: the key is busy, so the event joins the active run's inbox (a
    // trigger that may not start a run joins only an active one).
    const joined = d
      .q(`INSERT INTO run_inbox (plant, workflow, run_key, version, event_seq) SELECT ?, ?, ?, ?, ?
        WHERE EXISTS (SELECT 1 FROM workflow_runs WHERE workflow = ? AND run_key = ? AND status IN ${ACTIVE_STATUSES})`)
      .run(e.plant, t.workflow, t.key, t.version, seq, t.workflow, t.key)
    if (joined.changes === 0) continue
    const woken = d
      .q(`UPDATE run_waits SET status = 'matched', event_seq = ? WHERE status = 'waiting' AND kind = 'inbox'
        AND run_id = (SELECT id FROM workflow_runs WHERE workflow = ? AND run_key = ? AND status IN ${ACTIVE_STATUSES})
        RETURNING run_id`)
      .all(seq, t.workflow, t.key) as Row[]
    for (const w of woken) wake(d, now, String(w.run_id))
  }
}

function wake(d: EngineDeps, now: number, runId: string): void {
  d.q(`UPDATE workflow_runs SET due_at_ms = ?, updated_at_ms = ? WHERE id = ? AND status = 'waiting'`).run(
    now,
    now,
    runId,
  )
}

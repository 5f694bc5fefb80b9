import { randomUUID } from 'node:crypto'
import { ACTIVE_STATUSES, toRun } from '../engine-rows.ts'
import type { Fence, JournalFlush, PoisonPolicy } from '../engine-types.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AuditEntry, Scope } from '../types.ts'
import { type EngineDeps, fenced, flushJournal, j, q, type Row } from './engine-tx.ts'

/** How a run ends on SQLite (completed, cancelled, dead-lettered) and hands its key on. */

/** The next inbox event of a key whose run just ended starts the key's next run, in order. */
export function startNextFromInbox(d: EngineDeps, now: number, workflow: string, key: string): void {
  const next = d
    .q(`SELECT i.seq, i.plant, i.version, i.event_seq, e.id FROM run_inbox i JOIN events e ON e.seq = i.event_seq
      WHERE i.workflow = ? AND i.run_key = ? AND i.run_id IS NULL ORDER BY i.seq LIMIT 1`)
    .get(workflow, key) as Row | undefined
  if (!next) return
  const id = randomUUID()
  d.q(`INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq,
        trigger_event_id, due_at_ms, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`).run(
    id,
    next.plant,
    workflow,
    next.version,
    key,
    next.event_seq,
    next.id,
    now,
    now,
    now,
  )
  d.q('UPDATE run_inbox SET run_id = ?, consumed_at_ms = ? WHERE seq = ?').run(id, now, next.seq)
}

export function completeRun(
  d: EngineDeps,
  f: Fence,
  status: 'completed' | 'cancelled',
  result: unknown,
  audit: AuditEntry,
  flush?: JournalFlush,
): void {
  d.tx((now) => {
    fenced(d, f)
    flushJournal(d, now, f, flush)
    const run = d
      .q(`UPDATE workflow_runs SET status = ?, result = ?, completed_at_ms = ?, updated_at_ms = ?, due_at_ms = NULL,
          lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = ? RETURNING workflow, run_key`)
      .get(status, j(result), now, now, f.runId) as Row
    d.writeAudit(now, audit)
    startNextFromInbox(d, now, String(run.workflow), String(run.run_key))
  })
}

export function deadLetterRun(
  d: EngineDeps,
  f: Fence,
  policy: PoisonPolicy,
  code: string,
  error: string,
  audit: AuditEntry,
  failedAt?: { readonly connector?: string; readonly target?: string },
  flush?: JournalFlush,
): void {
  d.tx((now) => {
    fenced(d, f)
    flushJournal(d, now, f, flush)
    const run = d
      .q(`UPDATE workflow_runs SET status = ?, last_error_code = ?, last_error = ?, due_at_ms = NULL,
          lease_owner = NULL, lease_expires_at_ms = 0, updated_at_ms = ? WHERE id = ? RETURNING *`)
      .get(policy === 'block' ? 'failed' : 'dead', code, error, now, f.runId) as Row
    d.q(`INSERT INTO dead_letters (plant, run_id, workflow, run_key, error_code, error, attempts, status,
          created_at_ms, connector, target) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`).run(
      run.plant,
      f.runId,
      run.workflow,
      run.run_key,
      code,
      error,
      Number(run.attempts) + 1,
      now,
      failedAt?.connector ?? null,
      failedAt?.target ?? null,
    )
    d.writeAudit(now, audit)
    if (policy === 'skip') startNextFromInbox(d, now, String(run.workflow), String(run.run_key))
  })
}

export function requestCancel(
  d: EngineDeps,
  scope: Scope,
  runId: string,
  reason: string,
  audit: Omit<AuditEntry, 'plant'>,
) {
  const sc = scopeClause(scope, 'plant', q, 0)
  return d.tx((now) => {
    const r = d
      .q(`UPDATE workflow_runs SET cancel_requested = 1, cancel_reason = ?, status = 'pending', due_at_ms = ?,
          updated_at_ms = ? WHERE id = ? AND status IN ${ACTIVE_STATUSES} AND ${sc.sql} RETURNING *`)
      .get(reason, now, now, runId, ...sc.params) as Row | undefined
    if (!r) return undefined
    d.writeAudit(now, { ...audit, plant: String(r.plant) })
    return toRun(r)
  })
}

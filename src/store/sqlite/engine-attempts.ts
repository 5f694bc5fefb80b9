import { CLAIMABLE_STATUSES, toJournal, toRun, toWait } from '../engine-rows.ts'
import type { Fence, JournalFlush } from '../engine-types.ts'
import { EVENT_COLUMNS, toEvent } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { Scope, StoredEvent } from '../types.ts'
import { type EngineDeps, fenced, flushJournal, NOW, q, type Row } from './engine-tx.ts'

/** A run attempt on SQLite: claim under a lease, load, renew, journal, suspend or retry. */

export function claimRuns(d: EngineDeps, owner: string, ttlMs: number, limit: number) {
  return d.tx((now) => {
    const due = d
      .q(`SELECT id, lease_owner FROM workflow_runs WHERE status IN ${CLAIMABLE_STATUSES} AND due_at_ms <= ?
        AND lease_expires_at_ms <= ? ORDER BY due_at_ms LIMIT ?`)
      .all(now, now, limit) as Row[]
    const claim = d.q(`UPDATE workflow_runs SET lease_owner = ?, lease_token = lease_token + 1,
        lease_expires_at_ms = ?, updated_at_ms = ? WHERE id = ? RETURNING *`)
    // A lease that expired without being released means its worker died: a takeover.
    return due.map((r) => ({
      ...toRun(claim.get(owner, now + ttlMs, now, r.id) as Row),
      takenOver: r.lease_owner !== null,
    }))
  })
}

export function renewRun(d: EngineDeps, f: Fence, ttlMs: number): boolean {
  const r = d
    .q(`UPDATE workflow_runs SET lease_expires_at_ms = ${NOW} + ? WHERE id = ? AND lease_token = ?
      AND lease_expires_at_ms > ${NOW}`)
    .run(ttlMs, f.runId, f.token)
  return r.changes === 1
}

export function loadRun(d: EngineDeps, scope: Scope, runId: string) {
  const sc = scopeClause(scope, 'plant', q, 0)
  const run = d.q(`SELECT * FROM workflow_runs WHERE id = ? AND ${sc.sql}`).get(runId, ...sc.params) as
    | Row
    | undefined
  if (!run) return undefined
  const journal = d.q('SELECT * FROM run_journal WHERE run_id = ? ORDER BY position').all(runId) as Row[]
  const waits = d.q('SELECT * FROM run_waits WHERE run_id = ? ORDER BY position').all(runId) as Row[]
  return { run: toRun(run), journal: journal.map(toJournal), waits: waits.map(toWait) }
}

export function getEventBySeqInternal(d: EngineDeps, seq: number): StoredEvent | undefined {
  const r = d.q(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ?`).get(seq) as Row | undefined
  return r ? toEvent(r) : undefined
}

export function appendJournal(d: EngineDeps, f: Fence, flush: JournalFlush): void {
  d.tx((now) => {
    fenced(d, f)
    flushJournal(d, now, f, flush)
  })
}

export function suspendRun(d: EngineDeps, f: Fence, flush?: JournalFlush): void {
  if (flush && (flush.entries.length > 0 || flush.config !== undefined)) {
    d.tx((now) => {
      fenced(d, f)
      flushJournal(d, now, f, flush)
      d.q('UPDATE workflow_runs SET lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = ?').run(f.runId)
    })
    return
  }
  d.q(
    `UPDATE workflow_runs SET lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = ? AND lease_token = ?`,
  ).run(f.runId, f.token)
}

export function retryRun(
  d: EngineDeps,
  f: Fence,
  delayMs: number,
  code: string,
  error: string,
  flush?: JournalFlush,
): void {
  d.tx((now) => {
    fenced(d, f)
    flushJournal(d, now, f, flush)
    d.q(`UPDATE workflow_runs SET status = 'pending', attempts = attempts + 1, due_at_ms = ?,
          last_error_code = ?, last_error = ?, lease_owner = NULL, lease_expires_at_ms = 0, updated_at_ms = ?
        WHERE id = ?`).run(now + delayMs, code, error, now, f.runId)
  })
}

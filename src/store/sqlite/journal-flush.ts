import type Database from 'better-sqlite3'
import type { JournalFlush } from '../engine-types.ts'
import type { AuditEntry } from '../types.ts'

/**
 * Applies a run attempt's buffered journal inside the caller's fenced transaction (SQLite: one
 * connection, an IMMEDIATE transaction, the lease token already checked in it): the entries in
 * order, the retry budget reset when progress was made, the configuration snapshot when the run
 * has none yet, and the steps' audit rows. Returns whether any entry was written.
 */
export function applyJournalFlush(
  q: (sql: string) => Database.Statement,
  now: number,
  runId: string,
  flush: JournalFlush | undefined,
  writeAudit: (now: number, a: AuditEntry) => void,
): boolean {
  if (!flush) return false
  const insert =
    q(`INSERT INTO run_journal (run_id, position, kind, name, occurrence, idempotency_key, result,
      code_version, completed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  for (const [i, e] of flush.entries.entries())
    insert.run(
      runId,
      e.position,
      e.kind,
      e.name,
      e.occurrence,
      e.idempotencyKey,
      JSON.stringify(e.result === undefined ? null : e.result),
      e.codeVersion,
      now - Math.max(0, Math.round(flush.agesMs?.[i] ?? 0)),
    )
  const progressed = flush.entries.length > 0
  if (progressed || flush.config !== undefined)
    // Progress resets the retry budget: attempts count failures of the current step only.
    q(`UPDATE workflow_runs SET attempts = CASE WHEN ? THEN 0 ELSE attempts END, updated_at_ms = ?,
        config = COALESCE(config, ?) WHERE id = ?`).run(
      progressed ? 1 : 0,
      now,
      flush.config === undefined ? null : JSON.stringify(flush.config),
      runId,
    )
  for (const a of flush.audits) writeAudit(now, a)
  return progressed
}

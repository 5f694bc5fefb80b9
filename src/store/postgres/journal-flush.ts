import type pg from 'pg'
import type { JournalFlush } from '../engine-types.ts'
import type { AuditEntry } from '../types.ts'

/**
 * Applies a run attempt's buffered journal inside the caller's fenced transaction (the caller
 * has already locked the run row and checked its lease token): one multi-row INSERT of the
 * entries, the retry budget reset when progress was made, the configuration snapshot when the
 * run has none yet, and the steps' audit rows. Returns whether any entry was written.
 */
export async function applyJournalFlush(
  c: pg.PoolClient,
  now: number,
  runId: string,
  flush: JournalFlush | undefined,
  writeAudit: (c: pg.PoolClient, now: number, entries: readonly AuditEntry[]) => Promise<void>,
): Promise<boolean> {
  if (!flush) return false
  const es = flush.entries
  if (es.length > 0) {
    await c.query(
      `INSERT INTO run_journal (run_id, position, kind, name, occurrence, idempotency_key, result, code_version,
         completed_at_ms)
       SELECT $1, u.position, u.kind, u.name, u.occurrence, u.idempotency_key, u.result, u.code_version, $9 - u.age
         FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::int[], $10::bigint[])
           AS u(position, kind, name, occurrence, idempotency_key, result, code_version, age)`,
      [
        runId,
        es.map((e) => e.position),
        es.map((e) => e.kind),
        es.map((e) => e.name),
        es.map((e) => e.occurrence),
        es.map((e) => e.idempotencyKey),
        es.map((e) => JSON.stringify(e.result === undefined ? null : e.result)),
        es.map((e) => e.codeVersion),
        now,
        es.map((_, i) => Math.max(0, Math.round(flush.agesMs?.[i] ?? 0))),
      ],
    )
  }
  if (es.length > 0 || flush.config !== undefined) {
    // Progress resets the retry budget: attempts count failures of the current step only.
    await c.query(
      `UPDATE workflow_runs SET attempts = CASE WHEN $1 THEN 0 ELSE attempts END, updated_at_ms = $2,
         config = COALESCE(config, $3) WHERE id = $4`,
      [es.length > 0, now, flush.config === undefined ? null : JSON.stringify(flush.config), runId],
    )
  }
  if (flush.audits.length > 0) await writeAudit(c, now, flush.audits)
  return es.length > 0
}

import type pg from 'pg'
import type { JournalFlush } from '../engine-types.ts'
import type { AuditEntry } from '../types.ts'
import { auditCtes, auditParams } from './audit-sql.ts'

/**
 * The buffered entries as the eight column arrays both journal INSERTs unnest: position, kind,
 * name, occurrence, idempotency key, result (JSON), code version, and age (ms before the write).
 */
export function entryColumns(flush: JournalFlush): unknown[] {
  const es = flush.entries
  return [
    es.map((e) => e.position),
    es.map((e) => e.kind),
    es.map((e) => e.name),
    es.map((e) => e.occurrence),
    es.map((e) => e.idempotencyKey),
    es.map((e) => JSON.stringify(e.result === undefined ? null : e.result)),
    es.map((e) => e.codeVersion),
    es.map((_, i) => Math.max(0, Math.round(flush.agesMs?.[i] ?? 0))),
  ]
}

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
       SELECT $1, u.position, u.kind, u.name, u.occurrence, u.idempotency_key, u.result, u.code_version, $10 - u.age
         FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::int[], $9::bigint[])
           AS u(position, kind, name, occurrence, idempotency_key, result, code_version, age)`,
      [runId, ...entryColumns(flush), now],
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

/**
 * appendJournal in one statement (one round trip, one transaction, no BEGIN/COMMIT of its own):
 * the fence is the UPDATE of the run row (its lease token and expiry re-checked on the row it locks,
 * as SELECT … FOR UPDATE checks them), and the journal entries and audit rows are inserted only
 * from the row it returned, so a refused fence writes nothing. The time of the entries and audit
 * rows is the database clock read in the statement. Returns whether the fence held. It replaces a
 * transaction of six round trips (BEGIN with the clock, the fence, the entries, the run, the audit
 * rows, COMMIT); timed around the store call in one B3 run each on a loaded 2-core machine (load
 * average ~15), 800 appends: 58 ms → 20 ms on average (bench/README.md, B3).
 */
export async function appendJournalFenced(
  q: Pick<pg.Pool, 'query'>,
  fence: { readonly runId: string; readonly token: number },
  flush: JournalFlush,
  nowSql: string,
): Promise<boolean> {
  const es = flush.entries
  const audit = auditParams(0, flush.audits).slice(0, 7)
  const r = await q.query(
    `WITH run AS (
       UPDATE workflow_runs SET attempts = CASE WHEN $3 THEN 0 ELSE attempts END, updated_at_ms = ${nowSql},
         config = COALESCE(config, $4)
        WHERE id = $1 AND lease_token = $2 AND lease_expires_at_ms > ${nowSql}
        RETURNING updated_at_ms AS now),
     journal AS (
       INSERT INTO run_journal (run_id, position, kind, name, occurrence, idempotency_key, result, code_version,
         completed_at_ms)
       SELECT $1, u.position, u.kind, u.name, u.occurrence, u.idempotency_key, u.result, u.code_version,
              run.now - u.age
         FROM run, unnest($5::int[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::int[],
                          $12::bigint[]) AS u(position, kind, name, occurrence, idempotency_key, result, code_version, age)),
     ${auditCtes(12, { when: 'EXISTS (SELECT 1 FROM run)', atMs: '(SELECT now FROM run)' })}
     SELECT count(*)::int AS fenced FROM run`,
    [
      fence.runId,
      fence.token,
      es.length > 0,
      flush.config === undefined ? null : JSON.stringify(flush.config),
      ...entryColumns(flush),
      ...audit,
    ],
  )
  return r.rows[0].fenced === 1
}

import type pg from 'pg'
import { CLAIMABLE_STATUSES, toJournal, toRun, toWait } from '../engine-rows.ts'
import type { Fence, JournalFlush } from '../engine-types.ts'
import { EVENT_COLUMNS, toEvent } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { Scope, StoredEvent } from '../types.ts'
import { dollar, type EngineDeps, fenced, flushJournal, leaseLost, NOW, type Row } from './engine-tx.ts'
import { appendJournalFenced } from './journal-flush.ts'

/** A run attempt on PostgreSQL: claim under a lease, load, renew, journal, suspend or retry. */

/**
 * One statement: SKIP LOCKED spreads concurrent claimers over different runs (= keys). Each
 * claimed run comes back with what its attempt loads first (its journal, its waits and its
 * trigger event, read after the claim's update in the same statement): a round trip and a
 * transaction less than loadRun and getEventBySeqInternal per attempt.
 */
export async function claimRuns(pool: pg.Pool, owner: string, ttlMs: number, limit: number) {
  const r = await pool.query(
    `WITH claimed AS (
       UPDATE workflow_runs w SET lease_owner = $1, lease_token = w.lease_token + 1,
          lease_expires_at_ms = ${NOW} + $2, updated_at_ms = ${NOW}
        FROM (SELECT id, lease_owner AS prev_owner FROM workflow_runs
               WHERE status IN ${CLAIMABLE_STATUSES} AND due_at_ms <= ${NOW} AND lease_expires_at_ms <= ${NOW}
               ORDER BY due_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED) due
        WHERE w.id = due.id RETURNING w.*, due.prev_owner)
     SELECT c.*,
       COALESCE((SELECT json_agg(j ORDER BY j.position) FROM run_journal j WHERE j.run_id = c.id), '[]') AS journal_rows,
       COALESCE((SELECT json_agg(w ORDER BY w.position) FROM run_waits w WHERE w.run_id = c.id), '[]') AS wait_rows,
       (SELECT row_to_json(e) FROM (SELECT ${EVENT_COLUMNS} FROM events WHERE seq = c.trigger_event_seq) e)
         AS trigger_row
     FROM claimed c`,
    [owner, ttlMs, limit],
  )
  return r.rows.map((row) => {
    const run = toRun(row)
    return {
      ...run,
      takenOver: row.prev_owner !== null,
      loaded: {
        run,
        journal: (row.journal_rows as Row[]).map(toJournal),
        waits: (row.wait_rows as Row[]).map(toWait),
      },
      trigger: row.trigger_row ? toEvent(row.trigger_row as Row) : undefined,
    }
  })
}

export async function renewRun(pool: pg.Pool, f: Fence, ttlMs: number): Promise<boolean> {
  const r = await pool.query(
    `UPDATE workflow_runs SET lease_expires_at_ms = ${NOW} + $1 WHERE id = $2 AND lease_token = $3
      AND lease_expires_at_ms > ${NOW}`,
    [ttlMs, f.runId, f.token],
  )
  return r.rowCount === 1
}

/** One statement (one round trip, one transaction): the run with its journal and waits. */
export async function loadRun(pool: pg.Pool, scope: Scope, runId: string) {
  const sc = scopeClause(scope, 'r.plant', dollar, 1)
  const r = await pool.query(
    `SELECT r.*,
       COALESCE((SELECT json_agg(j ORDER BY j.position) FROM run_journal j WHERE j.run_id = r.id), '[]') AS journal_rows,
       COALESCE((SELECT json_agg(w ORDER BY w.position) FROM run_waits w WHERE w.run_id = r.id), '[]') AS wait_rows
     FROM workflow_runs r WHERE r.id = $1 AND ${sc.sql}`,
    [runId, ...sc.params],
  )
  const row = r.rows[0]
  if (!row) return undefined
  return {
    run: toRun(row),
    journal: (row.journal_rows as Row[]).map(toJournal),
    waits: (row.wait_rows as Row[]).map(toWait),
  }
}

export async function getEventBySeqInternal(pool: pg.Pool, seq: number): Promise<StoredEvent | undefined> {
  const r = await pool.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1`, [seq])
  return r.rows[0] ? toEvent(r.rows[0]) : undefined
}

export async function appendJournal(pool: pg.Pool, f: Fence, flush: JournalFlush): Promise<void> {
  if (!(await appendJournalFenced(pool, f, flush, NOW))) throw leaseLost(f)
}

export async function suspendRun(d: EngineDeps, f: Fence, flush?: JournalFlush): Promise<void> {
  if (flush && (flush.entries.length > 0 || flush.config !== undefined)) {
    await d.tx(async (c, now) => {
      await fenced(c, f)
      await flushJournal(d, c, now, f, flush)
      await c.query('UPDATE workflow_runs SET lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = $1', [
        f.runId,
      ])
    })
    return
  }
  await d.pool.query(
    'UPDATE workflow_runs SET lease_owner = NULL, lease_expires_at_ms = 0 WHERE id = $1 AND lease_token = $2',
    [f.runId, f.token],
  )
}

export async function retryRun(
  d: EngineDeps,
  f: Fence,
  delayMs: number,
  code: string,
  error: string,
  flush?: JournalFlush,
): Promise<void> {
  await d.tx(async (c, now) => {
    await fenced(c, f)
    await flushJournal(d, c, now, f, flush)
    await c.query(
      `UPDATE workflow_runs SET status = 'pending', attempts = attempts + 1, due_at_ms = $1, last_error_code = $2,
         last_error = $3, lease_owner = NULL, lease_expires_at_ms = 0, updated_at_ms = $4 WHERE id = $5`,
      [now + delayMs, code, error, now, f.runId],
    )
  })
}

import type pg from 'pg'
import type { Fence, JournalFlush } from '../engine-types.ts'
import type { AuditEntry } from '../types.ts'
import { auditCtes, auditParams } from './audit-sql.ts'
import { NOW_MS } from './clock.ts'
import { inlineParams, sqlLiteral } from './inline-params.ts'
import { entryColumns } from './journal-flush.ts'

/**
 * A run's fenced write as ONE round trip on PostgreSQL: a simple query of two statements, which
 * PostgreSQL runs as one implicit transaction, each statement under its own READ COMMITTED snapshot
 * (https://www.postgresql.org/docs/15/protocol-flow.html, "Multiple Statements in a Simple Query";
 * ingest's one-trip write does the same inside a function, qlk_append_events of migration 0027),
 * values written in as literals (inlineParams):
 *   1. the advisory locks the write needs (lockAllSql, or a key built from the run row), taken
 *      before the run row changes, as the multi-statement transactions took them (see registerWait);
 *   2. under a snapshot taken after the locks are held: the fenced UPDATE of the run row (lease
 *      token and expiry checked on the row it locks, as `fenced` checks them), the attempt's
 *      buffered journal entries, their audit rows and the write's own, and whatever the caller adds
 *      (waits, the key's next run); every write hangs on the row the fenced UPDATE returned, so a
 *      lost lease writes nothing (the locks alone are taken and released at commit).
 * Such a write replaced a transaction of eight to twelve round trips (BEGIN with the clock, fence,
 * lock, entries, run, audit rows, the write's own statements, COMMIT).
 *
 * Parameters of statement 2: $1 run id, $2 lease token, $3 whether entries are written, $4 the
 * configuration snapshot (JSON or NULL), $5–$12 the entries' columns, $13–$19 the audit rows';
 * the caller's own from $20 (FENCED_PARAMS + 1).
 */
export const FENCED_PARAMS = 19

const EMPTY_FLUSH: JournalFlush = { entries: [], audits: [] }

export function fencedValues(
  f: Fence,
  flush: JournalFlush | undefined,
  own: readonly AuditEntry[],
): unknown[] {
  const fl = flush ?? EMPTY_FLUSH
  return [
    f.runId,
    f.token,
    fl.entries.length > 0,
    fl.config === undefined ? null : JSON.stringify(fl.config),
    ...entryColumns(fl),
    ...auditParams(0, [...fl.audits, ...own]).slice(0, 7),
  ]
}

/**
 * The shared CTEs: `clock` (the database clock, read once), the caller's `before` CTEs (they may
 * read `clock`), `run` (the fenced UPDATE with the caller's `set` clauses, returning workflow,
 * run_key, plant and the write's time as `now`), `journal` and the audit rows. Progress resets
 * the retry budget (attempts count failures of the current step only), as applyJournalFlush does.
 */
export function fencedCtes(set: string, before = ''): string {
  return `clock AS (SELECT ${NOW_MS} AS now),
     ${before ? `${before},` : ''}
     run AS (
       UPDATE workflow_runs SET attempts = CASE WHEN $3 THEN 0 ELSE attempts END, config = COALESCE(config, $4),
         updated_at_ms = (SELECT now FROM clock)${set ? `, ${set}` : ''}
        WHERE id = $1 AND lease_token = $2 AND lease_expires_at_ms > (SELECT now FROM clock)
        RETURNING workflow, run_key, plant, updated_at_ms AS now),
     journal AS (
       INSERT INTO run_journal (run_id, position, kind, name, occurrence, idempotency_key, result, code_version,
         completed_at_ms)
       SELECT $1, u.position, u.kind, u.name, u.occurrence, u.idempotency_key, u.result, u.code_version,
              run.now - u.age
         FROM run, unnest($5::int[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::int[],
                          $12::bigint[]) AS u(position, kind, name, occurrence, idempotency_key, result, code_version, age)),
     ${auditCtes(12, { when: 'EXISTS (SELECT 1 FROM run)', atMs: '(SELECT now FROM run)' })}`
}

/** The inbox lock of the run's key (inboxLock's key, built from the run row), as statement 1. */
export const RUN_INBOX_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('inbox|' || workflow || '|' || run_key, 7162))
    FROM workflow_runs WHERE id = $1`

/** Statement 2's prepared names per connection (PREPARE lasts for the session). */
const preparedOn = new WeakMap<pg.PoolClient, Set<string>>()

/**
 * Sends the two statements as one simple query and returns statement 2's rows. Statement 2 runs as
 * `EXECUTE name(literals)` of a statement PREPAREd once per connection (its own round trip, the
 * first time only): planned with its literals written in, the fenced CTE cost PostgreSQL ~0.9 ms of
 * CPU more per call than the multi-round-trip transaction saved (a 3,000-run no-op drain: 1.2 →
 * 2.1 ms of server CPU per run); prepared, it is parsed once and its plan cached.
 */
const counts = new Map<string, number>()
/** A prepared statement takes as many parameters as the highest it names (the lock's may come after). */
function paramCount(name: string, write: string): number {
  let n = counts.get(name)
  if (n === undefined) {
    n = Math.max(...Array.from(write.matchAll(/\$(\d+)/g), (m) => Number(m[1])))
    counts.set(name, n)
  }
  return n
}

export async function runScript(
  pool: pg.Pool,
  name: string,
  lock: string,
  write: string,
  values: readonly unknown[],
): Promise<Record<string, unknown>[]> {
  const c = await pool.connect()
  try {
    const names = preparedOn.get(c) ?? new Set<string>()
    preparedOn.set(c, names)
    if (!names.has(name)) {
      await c.query(`PREPARE ${name} AS ${write}`)
      names.add(name)
    }
    const count = paramCount(name, write)
    const args = values.slice(0, count).map(sqlLiteral).join(', ')
    const out = (await c.query(
      `${inlineParams(lock, values)};\nEXECUTE ${name}(${args})`,
    )) as unknown as pg.QueryResult[]
    c.release()
    return out[1]!.rows
  } catch (e) {
    // as pool.query does: a client that failed a query is not handed out again
    c.release(e as Error)
    throw e
  }
}

import type pg from 'pg'
import { QualinkError } from '../../contracts/errors.ts'
import { CLAIMABLE_STATUSES, toDeadLetter, toRun } from '../engine-rows.ts'
import type { DeadLetter, DeadLetterFilter, EngineCounts, RunFilter, RunRow } from '../engine-types.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AuditEntry, Scope } from '../types.ts'
import { lockKeyInbox } from './engine-locks.ts'
import { startNextFromInbox } from './engine-run-end.ts'
import { type Client, dollar, type EngineDeps, NOW, type Row } from './engine-tx.ts'

/** Dead letters on PostgreSQL (list, replay, discard) and the operations views over runs. */

async function filtered(
  pool: pg.Pool,
  table: string,
  scope: Scope,
  filters: ReadonlyArray<[string, unknown]>,
  order: string,
  limit: number,
) {
  const sc = scopeClause(scope, 'plant', dollar, 0)
  const where = [sc.sql]
  const params: unknown[] = [...sc.params]
  for (const [col, v] of filters) {
    if (v === undefined) continue
    if (v === null) {
      where.push(`${col} IS NULL`)
      continue
    }
    params.push(v)
    where.push(`${col} = $${params.length}`)
  }
  params.push(limit)
  return (
    await pool.query(
      `SELECT * FROM ${table} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT $${params.length}`,
      params,
    )
  ).rows
}

export async function listRuns(pool: pg.Pool, scope: Scope, f: RunFilter): Promise<RunRow[]> {
  const rows = await filtered(
    pool,
    'workflow_runs',
    scope,
    [
      ['workflow', f.workflow],
      ['status', f.status],
      ['run_key', f.key],
    ],
    'created_at_ms DESC',
    f.limit,
  )
  return rows.map(toRun)
}

export async function listDeadLetters(
  pool: pg.Pool,
  scope: Scope,
  f: DeadLetterFilter,
): Promise<DeadLetter[]> {
  const rows = await filtered(
    pool,
    'dead_letters',
    scope,
    [
      ['workflow', f.workflow],
      ['error_code', f.errorCode],
      ['status', f.status],
      ['connector', f.connector],
    ],
    'id',
    f.limit,
  )
  return rows.map(toDeadLetter)
}

async function openDeadLetter(c: Client, scope: Scope, id: number): Promise<Row | undefined> {
  const sc = scopeClause(scope, 'plant', dollar, 1)
  const r = await c.query(
    `SELECT * FROM dead_letters WHERE id = $1 AND status = 'open' AND ${sc.sql} FOR UPDATE`,
    [id, ...sc.params],
  )
  return r.rows[0]
}

export async function replayDeadLetter(
  d: EngineDeps,
  scope: Scope,
  id: number,
  audit: Omit<AuditEntry, 'plant'>,
) {
  return d.tx(async (c, now) => {
    const dl = await openDeadLetter(c, scope, id)
    if (!dl) return undefined
    await c.query('SAVEPOINT reopen')
    try {
      await c.query(
        `UPDATE workflow_runs SET status = 'pending', attempts = 0, due_at_ms = $1, updated_at_ms = $1,
           last_error_code = NULL, last_error = NULL WHERE id = $2`,
        [now, dl.run_id],
      )
    } catch (e) {
      await c.query('ROLLBACK TO SAVEPOINT reopen')
      throw new QualinkError(
        'QLK_VALIDATION',
        `run ${dl.run_id} cannot be replayed while another run of key '${dl.run_key}' is active`,
        [{ path: '/id', message: 'the key has an active run; replay after it finishes' }],
        { cause: e },
      )
    }
    return resolveDeadLetter(d, c, now, dl, 'replayed', null, audit)
  })
}

export async function discardDeadLetter(
  d: EngineDeps,
  scope: Scope,
  id: number,
  reason: string,
  audit: Omit<AuditEntry, 'plant'>,
) {
  return d.tx(async (c, now) => {
    const dl = await openDeadLetter(c, scope, id)
    if (!dl) return undefined
    // Discarding a blocked key's failure unblocks the key: its queued events run next.
    await lockKeyInbox(c, dl)
    const r = await c.query(
      `UPDATE workflow_runs SET status = 'dead', updated_at_ms = $1 WHERE id = $2 AND status = 'failed'
        RETURNING workflow, run_key`,
      [now, dl.run_id],
    )
    if (r.rows[0]) await startNextFromInbox(c, now, String(r.rows[0].workflow), String(r.rows[0].run_key))
    return resolveDeadLetter(d, c, now, dl, 'discarded', reason, audit)
  })
}

async function resolveDeadLetter(
  d: EngineDeps,
  c: Client,
  now: number,
  dl: Row,
  status: 'replayed' | 'discarded',
  reason: string | null,
  audit: Omit<AuditEntry, 'plant'>,
): Promise<DeadLetter> {
  const r = await c.query(
    `UPDATE dead_letters SET status = $1, reason = $2, resolved_at_ms = $3, resolved_by = $4 WHERE id = $5 RETURNING *`,
    [status, reason, now, audit.actor, dl.id],
  )
  await d.writeAudit(c, now, [{ ...audit, plant: String(dl.plant) }])
  return toDeadLetter(r.rows[0])
}

export async function engineCounts(pool: pg.Pool): Promise<EngineCounts> {
  const byStatus = await pool.query('SELECT status, COUNT(*)::bigint AS n FROM workflow_runs GROUP BY status')
  const one = async (sql: string) => Number((await pool.query(sql)).rows[0].n)
  return {
    runsByStatus: Object.fromEntries(byStatus.rows.map((r) => [String(r.status), Number(r.n)])),
    openDeadLetters: await one(`SELECT COUNT(*)::bigint AS n FROM dead_letters WHERE status = 'open'`),
    blockedKeys: await one(`SELECT COUNT(*)::bigint AS n FROM workflow_runs WHERE status = 'failed'`),
    dueNow: await one(
      `SELECT COUNT(*)::bigint AS n FROM workflow_runs WHERE status IN ${CLAIMABLE_STATUSES} AND due_at_ms <= ${NOW}`,
    ),
  }
}

import { QualinkError } from '../../contracts/errors.ts'
import { CLAIMABLE_STATUSES, toDeadLetter, toRun } from '../engine-rows.ts'
import type { DeadLetter, DeadLetterFilter, EngineCounts, RunFilter, RunRow } from '../engine-types.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AuditEntry, Scope } from '../types.ts'
import { startNextFromInbox } from './engine-run-end.ts'
import { type EngineDeps, q, type Row } from './engine-tx.ts'

/** Dead letters on SQLite (list, replay, discard) and the operations views over runs. */

export function listRuns(d: EngineDeps, scope: Scope, f: RunFilter): RunRow[] {
  const sc = scopeClause(scope, 'plant', q, 0)
  const where = [sc.sql]
  const params: unknown[] = [...sc.params]
  for (const [col, v] of [
    ['workflow', f.workflow],
    ['status', f.status],
    ['run_key', f.key],
  ] as const) {
    if (v === undefined) continue
    where.push(`${col} = ?`)
    params.push(v)
  }
  const rows = d
    .q(`SELECT * FROM workflow_runs WHERE ${where.join(' AND ')} ORDER BY created_at_ms DESC LIMIT ?`)
    .all(...params, f.limit) as Row[]
  return rows.map(toRun)
}

export function listDeadLetters(d: EngineDeps, scope: Scope, f: DeadLetterFilter): DeadLetter[] {
  const sc = scopeClause(scope, 'plant', q, 0)
  const where = [sc.sql]
  const params: unknown[] = [...sc.params]
  for (const [col, v] of [
    ['workflow', f.workflow],
    ['error_code', f.errorCode],
    ['status', f.status],
    ['connector', f.connector],
  ] as const) {
    if (v === undefined) continue
    if (v === null) {
      where.push(`${col} IS NULL`)
      continue
    }
    where.push(`${col} = ?`)
    params.push(v)
  }
  const rows = d
    .q(`SELECT * FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
    .all(...params, f.limit) as Row[]
  return rows.map(toDeadLetter)
}

function openDeadLetter(d: EngineDeps, scope: Scope, id: number): Row | undefined {
  const sc = scopeClause(scope, 'plant', q, 0)
  return d
    .q(`SELECT * FROM dead_letters WHERE id = ? AND status = 'open' AND ${sc.sql}`)
    .get(id, ...sc.params) as Row | undefined
}

export function replayDeadLetter(d: EngineDeps, scope: Scope, id: number, audit: Omit<AuditEntry, 'plant'>) {
  return d.tx((now) => {
    const dl = openDeadLetter(d, scope, id)
    if (!dl) return undefined
    try {
      d.q(`UPDATE workflow_runs SET status = 'pending', attempts = 0, due_at_ms = ?, updated_at_ms = ?,
            last_error_code = NULL, last_error = NULL WHERE id = ?`).run(now, now, dl.run_id)
    } catch (e) {
      throw new QualinkError(
        'QLK_VALIDATION',
        `run ${dl.run_id} cannot be replayed while another run of key '${dl.run_key}' is active`,
        [{ path: '/id', message: 'the key has an active run; replay after it finishes' }],
        { cause: e },
      )
    }
    return resolveDeadLetter(d, now, dl, 'replayed', null, audit)
  })
}

export function discardDeadLetter(
  d: EngineDeps,
  scope: Scope,
  id: number,
  reason: string,
  audit: Omit<AuditEntry, 'plant'>,
) {
  return d.tx((now) => {
    const dl = openDeadLetter(d, scope, id)
    if (!dl) return undefined
    // Discarding a blocked key's failure unblocks the key: its queued events run next.
    const r = d
      .q(`UPDATE workflow_runs SET status = 'dead', updated_at_ms = ? WHERE id = ? AND status = 'failed'
        RETURNING workflow, run_key`)
      .get(now, dl.run_id) as Row | undefined
    if (r) startNextFromInbox(d, now, String(r.workflow), String(r.run_key))
    return resolveDeadLetter(d, now, dl, 'discarded', reason, audit)
  })
}

function resolveDeadLetter(
  d: EngineDeps,
  now: number,
  dl: Row,
  status: 'replayed' | 'discarded',
  reason: string | null,
  audit: Omit<AuditEntry, 'plant'>,
): DeadLetter {
  const r = d
    .q(`UPDATE dead_letters SET status = ?, reason = ?, resolved_at_ms = ?, resolved_by = ? WHERE id = ?
      RETURNING *`)
    .get(status, reason, now, audit.actor, dl.id) as Row
  d.writeAudit(now, { ...audit, plant: String(dl.plant) })
  return toDeadLetter(r)
}

export function engineCounts(d: EngineDeps): EngineCounts {
  const now = d.now()
  const byStatus = d.q('SELECT status, COUNT(*) AS n FROM workflow_runs GROUP BY status').all() as Row[]
  const one = (sql: string, ...p: unknown[]) => Number((d.q(sql).get(...p) as Row).n)
  return {
    runsByStatus: Object.fromEntries(byStatus.map((r) => [String(r.status), Number(r.n)])),
    openDeadLetters: one(`SELECT COUNT(*) AS n FROM dead_letters WHERE status = 'open'`),
    blockedKeys: one(`SELECT COUNT(*) AS n FROM workflow_runs WHERE status = 'failed'`),
    dueNow: one(
      `SELECT COUNT(*) AS n FROM workflow_runs WHERE status IN ${CLAIMABLE_STATUSES} AND due_at_ms <= ?`,
      now,
    ),
  }
}

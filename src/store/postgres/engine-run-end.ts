import { randomUUID } from 'node:crypto'
import { ACTIVE_STATUSES, toRun } from '../engine-rows.ts'
import type { Fence, JournalFlush, PoisonPolicy } from '../engine-types.ts'
import { scopeClause } from '../scope-sql.ts'
import type { AuditEntry, Scope } from '../types.ts'
import { lockKeyInbox } from './engine-locks.ts'
import { type Client, dollar, type EngineDeps, fenced, flushJournal, j, leaseLost } from './engine-tx.ts'
import { FENCED_PARAMS, fencedCtes, fencedValues, RUN_INBOX_LOCK, runScript } from './run-script.ts'

/** How a run ends on PostgreSQL (completed, cancelled, dead-lettered) and hands its key on. */

/** The next inbox event of a key whose run just ended starts the key's next run, in order. */
export async function startNextFromInbox(
  c: Client,
  now: number,
  workflow: string,
  key: string,
): Promise<void> {
  const next = await c.query(
    `SELECT i.seq, i.plant, i.version, i.event_seq, e.id FROM run_inbox i JOIN events e ON e.seq = i.event_seq
      WHERE i.workflow = $1 AND i.run_key = $2 AND i.run_id IS NULL ORDER BY i.seq LIMIT 1 FOR UPDATE OF i`,
    [workflow, key],
  )
  const n = next.rows[0]
  if (!n) return
  const id = randomUUID()
  await c.query(
    `INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq, trigger_event_id,
       due_at_ms, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8, $8)`,
    [id, n.plant, workflow, n.version, key, n.event_seq, n.id, now],
  )
  await c.query('UPDATE run_inbox SET run_id = $1, consumed_at_ms = $2 WHERE seq = $3', [id, now, n.seq])
}

/**
 * The completion as one round trip (run-script.ts): the key's inbox lock, then the fenced run
 * row's end, its journal, audit rows, and the key's next run started from its inbox under a
 * snapshot taken after the lock (so an event routed into the inbox while the run ends is seen).
 */
export async function completeRun(
  d: EngineDeps,
  f: Fence,
  status: 'completed' | 'cancelled',
  result: unknown,
  audit: AuditEntry,
  flush?: JournalFlush,
): Promise<void> {
  const p = (i: number) => `$${FENCED_PARAMS + i}`
  const end = `WITH ${fencedCtes(
    `status = ${p(1)}, result = ${p(2)}, completed_at_ms = (SELECT now FROM clock), due_at_ms = NULL,
         lease_owner = NULL, lease_expires_at_ms = 0`,
  )},
     nxt AS (
       SELECT i.seq, i.plant, i.version, i.event_seq, e.id FROM run, run_inbox i JOIN events e ON e.seq = i.event_seq
        WHERE i.workflow = run.workflow AND i.run_key = run.run_key AND i.run_id IS NULL
        ORDER BY i.seq LIMIT 1 FOR UPDATE OF i),
     started AS (
       INSERT INTO workflow_runs (id, plant, workflow, version, run_key, status, trigger_event_seq, trigger_event_id,
         due_at_ms, created_at_ms, updated_at_ms)
       SELECT gen_random_uuid()::text, nxt.plant, run.workflow, nxt.version, run.run_key, 'pending', nxt.event_seq,
              nxt.id, run.now, run.now, run.now
         FROM nxt, run
       RETURNING id),
     consumed AS (
       UPDATE run_inbox SET run_id = started.id, consumed_at_ms = (SELECT now FROM run)
         FROM started, nxt WHERE run_inbox.seq = nxt.seq)
     SELECT count(*)::int AS fenced FROM run`
  const rows = await runScript(d.pool, 'qlk_run_complete', RUN_INBOX_LOCK, end, [
    ...fencedValues(f, flush, [audit]),
    status,
    j(result),
  ])
  if (rows[0]!.fenced !== 1) throw leaseLost(f)
}

export async function deadLetterRun(
  d: EngineDeps,
  f: Fence,
  policy: PoisonPolicy,
  code: string,
  error: string,
  audit: AuditEntry,
  failedAt?: { readonly connector?: string; readonly target?: string },
  flush?: JournalFlush,
): Promise<void> {
  await d.tx(async (c, now) => {
    const run = await fenced(c, f)
    // entries written now reset the budget, as a separate journal write did before
    await lockKeyInbox(c, run)
    const attempts = (await flushJournal(d, c, now, f, flush)) ? 0 : Number(run.attempts)
    await c.query(
      `UPDATE workflow_runs SET status = $1, last_error_code = $2, last_error = $3, due_at_ms = NULL, lease_owner = NULL,
         lease_expires_at_ms = 0, updated_at_ms = $4 WHERE id = $5`,
      [policy === 'block' ? 'failed' : 'dead', code, error, now, f.runId],
    )
    await c.query(
      `INSERT INTO dead_letters (plant, run_id, workflow, run_key, error_code, error, attempts, status, created_at_ms,
         connector, target) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10)`,
      [
        run.plant,
        f.runId,
        run.workflow,
        run.run_key,
        code,
        error,
        attempts + 1,
        now,
        failedAt?.connector ?? null,
        failedAt?.target ?? null,
      ],
    )
    await d.writeAudit(c, now, [audit])
    if (policy === 'skip') await startNextFromInbox(c, now, String(run.workflow), String(run.run_key))
  })
}

export async function requestCancel(
  d: EngineDeps,
  scope: Scope,
  runId: string,
  reason: string,
  audit: Omit<AuditEntry, 'plant'>,
) {
  const sc = scopeClause(scope, 'plant', dollar, 3)
  return d.tx(async (c, now) => {
    const r = await c.query(
      `UPDATE workflow_runs SET cancel_requested = TRUE, cancel_reason = $1, status = 'pending', due_at_ms = $2,
         updated_at_ms = $2 WHERE id = $3 AND status IN ${ACTIVE_STATUSES} AND ${sc.sql} RETURNING *`,
      [reason, now, runId, ...sc.params],
    )
    if (!r.rows[0]) return undefined
    await d.writeAudit(c, now, [{ ...audit, plant: String(r.rows[0].plant) }])
    return toRun(r.rows[0])
  })
}

import type pg from 'pg'
import { QualinkError } from '../../contracts/errors.ts'
import type { Fence, JournalFlush } from '../engine-types.ts'
import type { AuditEntry } from '../types.ts'
import { dollar, NOW_MS as NOW } from './clock.ts'
import { applyJournalFlush } from './journal-flush.ts'

/** What every PostgresEngine module shares: the client type, the database clock, the fence. */
export type Row = Record<string, unknown>
export type Client = pg.PoolClient

export { dollar, NOW }
export const j = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v))

export type Tx = <T>(fn: (c: Client, now: number) => Promise<T>) => Promise<T>
export type WriteAudit = (c: Client, now: number, entries: readonly AuditEntry[]) => Promise<void>

/** The store's pool, transaction runner and audit writer, handed to the engine's modules. */
export interface EngineDeps {
  readonly pool: pg.Pool
  readonly tx: Tx
  readonly writeAudit: WriteAudit
}

export const leaseLost = (f: Fence) =>
  new QualinkError('QLK_LEASE_LOST', `run ${f.runId}: lease token ${f.token} no longer holds`)

/**
 * Fencing locks the run row (FOR UPDATE) and checks the token in the same transaction as the
 * write, so a takeover can never interleave with it.
 */
export async function fenced(c: Client, f: Fence): Promise<Row> {
  const r = await c.query(
    `SELECT * FROM workflow_runs WHERE id = $1 AND lease_token = $2 AND lease_expires_at_ms > ${NOW} FOR UPDATE`,
    [f.runId, f.token],
  )
  if (r.rowCount === 0) throw leaseLost(f)
  return r.rows[0]
}

export function flushJournal(
  d: EngineDeps,
  c: Client,
  now: number,
  f: Fence,
  flush: JournalFlush | undefined,
): Promise<boolean> {
  return applyJournalFlush(c, now, f.runId, flush, d.writeAudit)
}

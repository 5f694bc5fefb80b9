import type Database from 'better-sqlite3'
import { QualinkError } from '../../contracts/errors.ts'
import type { Fence, JournalFlush } from '../engine-types.ts'
import type { AuditEntry } from '../types.ts'
import { NOW_MS as NOW, q } from './clock.ts'
import { applyJournalFlush } from './journal-flush.ts'

/** What every SqliteEngine module shares: the row type, the database clock, the fence. */
export type Row = Record<string, unknown>
export { NOW, q }
export const j = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v))

/** The engine's connection as its modules use it (SqliteEngine builds it). */
export interface EngineDeps {
  /** the statement for this SQL text, prepared once */
  readonly q: (sql: string) => Database.Statement
  /** the database clock (ms) */
  readonly now: () => number
  /** one IMMEDIATE transaction, handed the database clock read at its start */
  readonly tx: <T>(fn: (now: number) => T) => T
  readonly writeAudit: (now: number, a: AuditEntry) => void
}

export function fenced(d: EngineDeps, f: Fence): void {
  const ok = d
    .q(`SELECT 1 FROM workflow_runs WHERE id = ? AND lease_token = ? AND lease_expires_at_ms > ${NOW}`)
    .get(f.runId, f.token)
  if (!ok) throw new QualinkError('QLK_LEASE_LOST', `run ${f.runId}: lease token ${f.token} no longer holds`)
}

export function flushJournal(d: EngineDeps, now: number, f: Fence, flush: JournalFlush | undefined): boolean {
  return applyJournalFlush(d.q, now, f.runId, flush, d.writeAudit)
}

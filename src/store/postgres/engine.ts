import type pg from 'pg'
import type {
  DeadLetter,
  DeadLetterFilter,
  EngineCounts,
  EngineStore,
  Fence,
  JournalFlush,
  PoisonPolicy,
  Router,
  RunFilter,
  RunRow,
  WaitRow,
} from '../engine-types.ts'
import type { AppendEvent, AuditEntry, Scope, StoredEvent } from '../types.ts'
import * as attempts from './engine-attempts.ts'
import * as deadLetters from './engine-dead-letters.ts'
import * as routing from './engine-routing.ts'
import * as runEnd from './engine-run-end.ts'
import type { Client, EngineDeps, Tx, WriteAudit } from './engine-tx.ts'
import * as waits from './engine-waits.ts'

export { lockAllSql } from './engine-locks.ts'
export { type CarriedCtes, type RoutingPlan, WAIT_MATCH_CTES } from './engine-routing.ts'
export type { Tx, WriteAudit } from './engine-tx.ts'

/**
 * The engine's tables on PostgreSQL, one module per responsibility: engine-routing.ts (ingest
 * routes events into runs, inboxes and waits), engine-attempts.ts (claim, lease, journal,
 * retry), engine-waits.ts (waitFor, inbox receive, timeouts), engine-run-end.ts (complete,
 * dead-letter, cancel; the key's next run), engine-dead-letters.ts (replay, discard, operations
 * views); engine-locks.ts and engine-tx.ts hold the advisory locks and the lease fence they share.
 */
export class PostgresEngine implements EngineStore {
  private router: Router | undefined
  private readonly d: EngineDeps

  constructor(pool: pg.Pool, tx: Tx, writeAudit: WriteAudit) {
    this.d = { pool, tx, writeAudit }
  }

  setRouter(router: Router | undefined): void {
    this.router = router
  }

  planRouting(events: readonly AppendEvent[]): routing.RoutingPlan {
    return routing.planRouting(this.router, events)
  }

  routeBatchInTx(
    c: Client,
    now: number,
    stored: ReadonlyArray<{ e: AppendEvent; seq: number }>,
    plan: routing.RoutingPlan,
    carry?: routing.CarriedCtes,
  ): Promise<boolean> {
    return routing.routeBatchInTx(c, now, stored, plan, carry)
  }

  claimRuns(owner: string, ttlMs: number, limit: number) {
    return attempts.claimRuns(this.d.pool, owner, ttlMs, limit)
  }

  renewRun(f: Fence, ttlMs: number): Promise<boolean> {
    return attempts.renewRun(this.d.pool, f, ttlMs)
  }

  loadRun(scope: Scope, runId: string) {
    return attempts.loadRun(this.d.pool, scope, runId)
  }

  getEventBySeqInternal(seq: number): Promise<StoredEvent | undefined> {
    return attempts.getEventBySeqInternal(this.d.pool, seq)
  }

  appendJournal(f: Fence, flush: JournalFlush): Promise<void> {
    return attempts.appendJournal(this.d.pool, f, flush)
  }

  registerWait(
    f: Fence,
    wait: WaitRow,
    exclude: readonly number[],
    flush?: JournalFlush,
  ): Promise<StoredEvent | undefined> {
    return waits.registerWait(this.d, f, wait, exclude, flush)
  }

  timeOutWait(runId: string, position: number): Promise<boolean> {
    return waits.timeOutWait(this.d.pool, runId, position)
  }

  takeInbox(f: Fence, wait: WaitRow, flush?: JournalFlush): Promise<StoredEvent | undefined> {
    return waits.takeInbox(this.d, f, wait, flush)
  }

  suspendRun(f: Fence, flush?: JournalFlush): Promise<void> {
    return attempts.suspendRun(this.d, f, flush)
  }

  retryRun(f: Fence, delayMs: number, code: string, error: string, flush?: JournalFlush): Promise<void> {
    return attempts.retryRun(this.d, f, delayMs, code, error, flush)
  }

  completeRun(
    f: Fence,
    status: 'completed' | 'cancelled',
    result: unknown,
    audit: AuditEntry,
    flush?: JournalFlush,
  ): Promise<void> {
    return runEnd.completeRun(this.d, f, status, result, audit, flush)
  }

  deadLetterRun(
    f: Fence,
    policy: PoisonPolicy,
    code: string,
    error: string,
    audit: AuditEntry,
    failedAt?: { readonly connector?: string; readonly target?: string },
    flush?: JournalFlush,
  ): Promise<void> {
    return runEnd.deadLetterRun(this.d, f, policy, code, error, audit, failedAt, flush)
  }

  requestCancel(scope: Scope, runId: string, reason: string, audit: Omit<AuditEntry, 'plant'>) {
    return runEnd.requestCancel(this.d, scope, runId, reason, audit)
  }

  listRuns(scope: Scope, f: RunFilter): Promise<RunRow[]> {
    return deadLetters.listRuns(this.d.pool, scope, f)
  }

  listDeadLetters(scope: Scope, f: DeadLetterFilter): Promise<DeadLetter[]> {
    return deadLetters.listDeadLetters(this.d.pool, scope, f)
  }

  replayDeadLetter(scope: Scope, id: number, _version: number, audit: Omit<AuditEntry, 'plant'>) {
    return deadLetters.replayDeadLetter(this.d, scope, id, audit)
  }

  discardDeadLetter(scope: Scope, id: number, reason: string, audit: Omit<AuditEntry, 'plant'>) {
    return deadLetters.discardDeadLetter(this.d, scope, id, reason, audit)
  }

  engineCounts(): Promise<EngineCounts> {
    return deadLetters.engineCounts(this.d.pool)
  }
}

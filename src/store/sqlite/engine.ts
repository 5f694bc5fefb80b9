import type Database from 'better-sqlite3'
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
import { type EngineDeps, NOW } from './engine-tx.ts'
import * as waits from './engine-waits.ts'

/**
 * The engine's tables on SQLite. One connection, so every method is one synchronous
 * transaction: a wait registered here and an event routed by appendEvents can never interleave.
 * One module per responsibility, as on PostgreSQL: engine-routing.ts, engine-attempts.ts,
 * engine-waits.ts, engine-run-end.ts, engine-dead-letters.ts; engine-tx.ts holds the fence.
 * The methods stay async: a synchronous throw (QLK_LEASE_LOST) reaches callers as a rejection.
 */
export class SqliteEngine implements EngineStore {
  private router: Router | undefined
  private readonly statements = new Map<string, Database.Statement>()
  private readonly d: EngineDeps

  constructor(
    private readonly db: Database.Database,
    writeAudit: (now: number, a: AuditEntry) => void,
  ) {
    this.d = {
      q: (sql) => this.q(sql),
      now: () => this.now(),
      tx: (fn) => this.db.transaction(() => fn(this.now())).immediate(),
      writeAudit,
    }
  }

  /** Prepared once per SQL text: routing runs inside every write transaction, preparing is ~13 % of it. */
  private q(sql: string): Database.Statement {
    let st = this.statements.get(sql)
    if (!st) {
      st = this.db.prepare(sql)
      this.statements.set(sql, st)
    }
    return st
  }

  private now(): number {
    return (this.q(`SELECT ${NOW} AS n`).get() as { n: number }).n
  }

  setRouter(router: Router | undefined): void {
    this.router = router
  }

  hasWaitingEventWaits(): boolean {
    return routing.hasWaitingEventWaits(this.d)
  }

  routeInTx(now: number, e: AppendEvent, seq: number, matchWaits = true): void {
    routing.routeInTx(this.d, this.router, now, e, seq, matchWaits)
  }

  async claimRuns(owner: string, ttlMs: number, limit: number) {
    return attempts.claimRuns(this.d, owner, ttlMs, limit)
  }

  async renewRun(f: Fence, ttlMs: number): Promise<boolean> {
    return attempts.renewRun(this.d, f, ttlMs)
  }

  async loadRun(scope: Scope, runId: string) {
    return attempts.loadRun(this.d, scope, runId)
  }

  async getEventBySeqInternal(seq: number): Promise<StoredEvent | undefined> {
    return attempts.getEventBySeqInternal(this.d, seq)
  }

  async appendJournal(f: Fence, flush: JournalFlush): Promise<void> {
    attempts.appendJournal(this.d, f, flush)
  }

  async registerWait(
    f: Fence,
    wait: WaitRow,
    exclude: readonly number[],
    flush?: JournalFlush,
  ): Promise<StoredEvent | undefined> {
    return waits.registerWait(this.d, f, wait, exclude, flush)
  }

  async timeOutWait(runId: string, position: number): Promise<boolean> {
    return waits.timeOutWait(this.d, runId, position)
  }

  async takeInbox(f: Fence, wait: WaitRow, flush?: JournalFlush): Promise<StoredEvent | undefined> {
    return waits.takeInbox(this.d, f, wait, flush)
  }

  async suspendRun(f: Fence, flush?: JournalFlush): Promise<void> {
    attempts.suspendRun(this.d, f, flush)
  }

  async retryRun(
    f: Fence,
    delayMs: number,
    code: string,
    error: string,
    flush?: JournalFlush,
  ): Promise<void> {
    attempts.retryRun(this.d, f, delayMs, code, error, flush)
  }

  async completeRun(
    f: Fence,
    status: 'completed' | 'cancelled',
    result: unknown,
    audit: AuditEntry,
    flush?: JournalFlush,
  ): Promise<void> {
    runEnd.completeRun(this.d, f, status, result, audit, flush)
  }

  async deadLetterRun(
    f: Fence,
    policy: PoisonPolicy,
    code: string,
    error: string,
    audit: AuditEntry,
    failedAt?: { readonly connector?: string; readonly target?: string },
    flush?: JournalFlush,
  ): Promise<void> {
    runEnd.deadLetterRun(this.d, f, policy, code, error, audit, failedAt, flush)
  }

  async requestCancel(scope: Scope, runId: string, reason: string, audit: Omit<AuditEntry, 'plant'>) {
    return runEnd.requestCancel(this.d, scope, runId, reason, audit)
  }

  async listRuns(scope: Scope, f: RunFilter): Promise<RunRow[]> {
    return deadLetters.listRuns(this.d, scope, f)
  }

  async listDeadLetters(scope: Scope, f: DeadLetterFilter): Promise<DeadLetter[]> {
    return deadLetters.listDeadLetters(this.d, scope, f)
  }

  async replayDeadLetter(scope: Scope, id: number, _version: number, audit: Omit<AuditEntry, 'plant'>) {
    return deadLetters.replayDeadLetter(this.d, scope, id, audit)
  }

  async discardDeadLetter(scope: Scope, id: number, reason: string, audit: Omit<AuditEntry, 'plant'>) {
    return deadLetters.discardDeadLetter(this.d, scope, id, reason, audit)
  }

  async engineCounts(): Promise<EngineCounts> {
    return deadLetters.engineCounts(this.d)
  }
}

/**
 * What the durable execution engine needs from the store. Both dialects implement it; the
 * engine (src/engine) holds no SQL. Every write made on behalf of a run is fenced: it commits
 * only while the caller still holds the run's lease token.
 */
import type { AppendEvent, AuditEntry, Scope, StoredEvent } from './types.ts'

export type RunStatus = 'pending' | 'waiting' | 'completed' | 'failed' | 'dead' | 'cancelled'
export type PoisonPolicy = 'block' | 'skip'

/** Where a newly stored event must go: decided by the engine's router, applied in the same transaction. */
export interface RouteTarget {
  readonly workflow: string
  readonly version: number
  readonly key: string
  /** false: join the key's active run's inbox, or nothing when none is active */
  readonly start: boolean
}

export type Router = (event: AppendEvent) => readonly RouteTarget[]

export interface RunRow {
  readonly id: string
  readonly plant: string
  readonly workflow: string
  readonly version: number
  readonly key: string
  readonly status: RunStatus
  readonly triggerEventSeq: number | null
  readonly triggerEventId: string | null
  readonly config: unknown
  readonly dueAtMs: number | null
  readonly attempts: number
  readonly leaseOwner: string | null
  readonly leaseToken: number
  readonly leaseExpiresAtMs: number
  readonly cancelRequested: boolean
  readonly cancelReason: string | null
  readonly result: unknown
  readonly lastErrorCode: string | null
  readonly lastError: string | null
  readonly createdAtMs: number
  readonly updatedAtMs: number
  readonly completedAtMs: number | null
}

/** A run as claimRuns answers it (see there). */
export type ClaimedRun = RunRow & {
  readonly takenOver: boolean
  readonly loaded?: LoadedRun
  readonly trigger?: StoredEvent
}

/** A run with its journal and waits, as loadRun answers. */
export interface LoadedRun {
  readonly run: RunRow
  readonly journal: JournalEntry[]
  readonly waits: WaitRow[]
}

export type JournalKind = 'step' | 'wait' | 'sleep' | 'now' | 'receive'

export interface JournalEntry {
  readonly position: number
  readonly kind: JournalKind
  readonly name: string
  readonly occurrence: number
  readonly idempotencyKey: string | null
  readonly result: unknown
  readonly codeVersion: number
  readonly completedAtMs: number
}

export type WaitKind = 'event' | 'inbox' | 'sleep'

export interface WaitRow {
  readonly position: number
  readonly kind: WaitKind
  readonly eventFamily: string | null
  readonly subject: string | null
  readonly afterSeq: number
  readonly timeoutAtMs: number | null
  readonly status: 'waiting' | 'matched' | 'timed_out'
  readonly eventSeq: number | null
  /**
   * On registration only: the timeout relative to the database clock of the registering
   * transaction (it sets timeoutAtMs there), so registering needs no clock read of its own.
   */
  readonly timeoutInMs?: number
}

export interface DeadLetter {
  readonly id: number
  readonly plant: string
  readonly runId: string
  readonly workflow: string
  readonly key: string
  readonly errorCode: string
  readonly error: string
  readonly attempts: number
  readonly status: 'open' | 'replayed' | 'discarded'
  readonly reason: string | null
  readonly createdAtMs: number
  readonly resolvedAtMs: number | null
  readonly resolvedBy: string | null
  /** the connector instance whose call failed the run (null: not a connector failure, or older) */
  readonly connector: string | null
  /** the called origin, scheme://host:port, when the egress client itself failed */
  readonly target: string | null
}

/**
 * Journal writes a run attempt buffered since its last write (src/engine/run-context.ts): applied
 * first, in order, in the fenced transaction that carries them, so they commit together with the
 * wait, park, completion or failure that follows them, or not at all (a stale lease refuses the
 * whole transaction with QLK_LEASE_LOST). Entries reset the retry budget (progress was made).
 */
export interface JournalFlush {
  readonly entries: readonly JournalEntry[]
  /** audit rows of the buffered steps (`workflow.step.completed`), written in the same transaction */
  readonly audits: readonly AuditEntry[]
  /** the run's configuration snapshot, stored only when the run has none yet */
  readonly config?: unknown
  /**
   * per entry, how long before this write it completed (the worker's monotonic clock): its
   * completed_at_ms is the write's database clock less that, so time-to-step metrics read from
   * the journal keep measuring the step, not the write (absent: 0)
   */
  readonly agesMs?: readonly number[]
}

/** The lease a worker holds on a run; every write on the run's behalf presents it. */
export interface Fence {
  readonly runId: string
  readonly token: number
}

export interface RunFilter {
  readonly workflow?: string
  readonly status?: RunStatus
  readonly key?: string
  readonly limit: number
}

export interface DeadLetterFilter {
  readonly workflow?: string
  readonly errorCode?: string
  readonly status?: DeadLetter['status']
  /** a connector instance name; null matches failures no connector caused */
  readonly connector?: string | null
  readonly limit: number
}

export interface EngineCounts {
  readonly runsByStatus: Record<string, number>
  readonly openDeadLetters: number
  readonly blockedKeys: number
  readonly dueNow: number
}

export interface EngineStore {
  /** Installs the router consulted inside every appendEvents transaction. */
  setRouter(router: Router | undefined): void

  /**
   * Takes up to `limit` due runs whose lease is free, raising each lease token (one statement).
   * A store may return with each run what its attempt reads next (`loaded`: as loadRun answers
   * after the claim; `trigger`: the trigger event, absent when there is none): the engine then
   * skips those reads.
   */
  claimRuns(owner: string, ttlMs: number, limit: number): Promise<ClaimedRun[]>
  renewRun(fence: Fence, ttlMs: number): Promise<boolean>
  loadRun(scope: Scope, runId: string): Promise<LoadedRun | undefined>
  getEventBySeqInternal(seq: number): Promise<StoredEvent | undefined>

  /** Journals completed commands in one transaction. Throws QLK_LEASE_LOST when the fence no longer holds. */
  appendJournal(fence: Fence, flush: JournalFlush): Promise<void>

  /**
   * Registers a wait and, in the same transaction, looks for an already stored event that
   * satisfies it: an event that arrived early is found. Returns the event when found (the wait
   * is then recorded as matched), otherwise parks the run with the given due time and releases
   * its lease (the execution ends: a wake may claim it at once). `flush` commits with it.
   */
  registerWait(
    fence: Fence,
    wait: WaitRow,
    excludeSeqs: readonly number[],
    flush?: JournalFlush,
  ): Promise<StoredEvent | undefined>
  /** Compare-and-set of a waiting wait to timed_out; false when an event won the race. */
  timeOutWait(runId: string, position: number): Promise<boolean>
  /** Consumes the next inbox event of the run's key, or registers an inbox wait (parks, releases the lease). */
  takeInbox(fence: Fence, wait: WaitRow, flush?: JournalFlush): Promise<StoredEvent | undefined>

  /** Ends this execution without finishing: releases the lease; the run stays parked. */
  suspendRun(fence: Fence, flush?: JournalFlush): Promise<void>
  retryRun(
    fence: Fence,
    delayMs: number,
    errorCode: string,
    error: string,
    flush?: JournalFlush,
  ): Promise<void>
  completeRun(
    fence: Fence,
    status: 'completed' | 'cancelled',
    result: unknown,
    audit: AuditEntry,
    flush?: JournalFlush,
  ): Promise<void>
  deadLetterRun(
    fence: Fence,
    policy: PoisonPolicy,
    errorCode: string,
    error: string,
    audit: AuditEntry,
    failedAt?: { readonly connector?: string; readonly target?: string },
    flush?: JournalFlush,
  ): Promise<void>

  requestCancel(
    scope: Scope,
    runId: string,
    reason: string,
    audit: Omit<AuditEntry, 'plant'>,
  ): Promise<RunRow | undefined>
  listRuns(scope: Scope, filter: RunFilter): Promise<RunRow[]>
  listDeadLetters(scope: Scope, filter: DeadLetterFilter): Promise<DeadLetter[]>
  /** Reopens the dead-lettered run at its next step with the given code version; completed steps stay journaled. */
  replayDeadLetter(
    scope: Scope,
    id: number,
    version: number,
    audit: Omit<AuditEntry, 'plant'>,
  ): Promise<DeadLetter | undefined>
  discardDeadLetter(
    scope: Scope,
    id: number,
    reason: string,
    audit: Omit<AuditEntry, 'plant'>,
  ): Promise<DeadLetter | undefined>
  engineCounts(): Promise<EngineCounts>
}

import type { Logger } from '../observability/logger.ts'
import { detached, startSpan, type TraceSpan } from '../observability/tracing.ts'
import type { ClaimedRun, EngineStore, RunRow } from '../store/engine-types.ts'
import type { Store, StoredEvent } from '../store/types.ts'
import { classify, Suspended } from './errors.ts'
import { WorkflowRegistry } from './registry.ts'
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './retry.ts'
import { type JournalMode, RunContext } from './run-context.ts'
import { staleTrigger } from './stale-trigger.ts'
import { upcastStoredEvent } from './upcast-event.ts'
import type { WorkflowDefinition } from './workflow.ts'

export interface EngineMetrics {
  onOutcome(
    workflow: string,
    outcome: 'completed' | 'suspended' | 'retry' | 'dead_letter' | 'cancelled' | 'lease_lost',
  ): void
  onTakeover(workflow: string): void
}

export interface EngineOptions {
  readonly store: Store
  // biome-ignore lint/suspicious/noExplicitAny: workflows with different port and config types run side by side
  readonly workflows: readonly WorkflowDefinition<any, any>[]
  readonly ports?: unknown
  readonly owner: string
  /** lease length; connector timeouts must be shorter (DESIGN §6) */
  readonly leaseTtlMs?: number
  readonly concurrency?: number
  readonly pollMs?: number
  readonly logger?: Logger
  readonly metrics?: EngineMetrics
  readonly random?: () => number
  /** the view of a stored event a run's trigger and waits get (default: upcast to the newest major) */
  readonly upcast?: (e: StoredEvent) => StoredEvent
  /**
   * When completed steps reach the journal (run-context-deps.ts JournalMode). Default `per-step`: a
   * completed step is never re-run (DESIGN §6's contract). `at-yield` is the opt-in: one fenced
   * commit per stretch of work instead of one per step (the B3 workflow: 19.4 instead of 32.6
   * commits), a crash before it re-runs the steps since, whose effects must read back.
   */
  readonly journal?: JournalMode
  /** `at-yield`: entries buffered before the next command writes them (default 64) */
  readonly journalMaxBuffered?: number
}

/**
 * The durable execution engine: claims due runs (the claim takes the run's lease, which is the
 * key lock), replays each against its journal, and settles the outcome: completed, parked on a
 * wait, retried with backoff, dead-lettered (key blocked or skipped by policy) or cancelled with
 * compensation. It knows no workflow: they are registered.
 */
export class Engine {
  readonly registry: WorkflowRegistry
  private readonly engineStore: EngineStore
  private readonly ttl: number
  private readonly concurrency: number
  private readonly inFlight = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private stopping = false
  /** polling runs only after start(); drain() alone never leaves a timer behind */
  private started = false
  private polling: Promise<void> | undefined
  private wakeRequested = false

  constructor(private readonly o: EngineOptions) {
    this.registry = new WorkflowRegistry(o.workflows)
    this.engineStore = o.store.engine
    this.engineStore.setRouter(this.registry.router())
    this.ttl = o.leaseTtlMs ?? 30_000
    this.concurrency = o.concurrency ?? 8
  }

  /** Refuses to start when an active run's version has no registered code. */
  async checkVersions(): Promise<void> {
    const active = await this.engineStore.listRuns(
      { allPlants: true, reason: 'engine start check' },
      { limit: 100_000 },
    )
    this.registry.assertExecutable(active.filter((r) => ['pending', 'waiting', 'failed'].includes(r.status)))
  }

  async start(): Promise<void> {
    await this.checkVersions()
    this.stopping = false
    this.started = true
    this.schedule(0)
  }

  /** Asks for a poll now (after this process stored events), instead of at the next tick. */
  wake(): void {
    if (this.stopping || !this.started) return
    if (this.polling) this.wakeRequested = true
    else this.schedule(0)
  }

  private schedule(ms: number): void {
    if (this.stopping || !this.started) return
    if (this.timer) clearTimeout(this.timer)
    // armed outside any trace: a wake-up from a request must not make the loop part of it
    this.timer = detached(() =>
      setTimeout(() => {
        this.timer = undefined
        this.polling = this.poll().finally(() => {
          this.polling = undefined
          const again = this.wakeRequested
          this.wakeRequested = false
          this.schedule(again ? 0 : (this.o.pollMs ?? 100))
        })
      }, ms),
    )
  }

  private async poll(): Promise<void> {
    try {
      for (;;) {
        const room = this.concurrency - this.inFlight.size
        if (room <= 0 || this.stopping) return
        const claimed = await this.engineStore.claimRuns(this.o.owner, this.ttl, room)
        if (claimed.length === 0) return
        for (const run of claimed) this.track(this.execute(run))
      }
    } catch (e) {
      this.o.logger?.error({ err: e }, 'engine poll failed; retrying at the next tick')
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p)
    p.finally(() => {
      this.inFlight.delete(p)
      if (!this.stopping) this.wake()
    })
  }

  /** Runs until nothing is due and nothing is in flight (tests, tools). */
  async drain(maxRounds = 10_000): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      const claimed = await this.engineStore.claimRuns(this.o.owner, this.ttl, this.concurrency)
      if (claimed.length === 0 && this.inFlight.size === 0) return
      for (const run of claimed) this.track(this.execute(run))
      if (this.inFlight.size > 0) await Promise.race(this.inFlight)
    }
    throw new Error('engine did not drain')
  }

  /** Graceful stop: claims nothing more and lets in-flight executions finish (or abandons them to lease expiry after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true
    if (this.timer) clearTimeout(this.timer)
    // The claim in flight and the executions share one grace: a claim stuck on the database
    // must not hold a shutdown forever (what it claimed is retaken after lease expiry).
    const grace = new Promise((r) => setTimeout(r, graceMs).unref())
    await Promise.race([this.polling, grace])
    const all = Promise.all([...this.inFlight])
    await Promise.race([all, grace])
  }

  private async execute(run: ClaimedRun): Promise<void> {
    const fence = { runId: run.id, token: run.leaseToken }
    const s = this.engineStore
    const def = this.registry.resolve(run.workflow, run.version)
    if (run.takenOver) this.o.metrics?.onTakeover(run.workflow)
    // A refused renewal means another worker owns the run: the attempt starts no further step
    // (its buffered journal would be refused by the fence anyway).
    let leaseLost = false
    const heartbeat = setInterval(
      () => {
        s.renewRun(fence, this.ttl)
          .then((ok) => {
            if (!ok) leaseLost = true
          })
          .catch(() => {})
      },
      Math.max(50, Math.floor(this.ttl / 3)),
    )
    const audit = (action: string, payload: Record<string, unknown>) => ({
      plant: run.plant,
      actor: `workflow:${run.workflow}`,
      action,
      subject: run.key,
      correlationId: null,
      payload: { runId: run.id, workflow: run.workflow, version: run.version, ...payload },
    })
    let span: TraceSpan | undefined
    let ctx: RunContext | undefined
    try {
      if (!def) {
        await s.deadLetterRun(
          fence,
          'block',
          'QLK_CONFIG_INVALID',
          `no code registered for ${run.workflow} v${run.version}`,
          audit('workflow.dead_lettered', { errorCode: 'QLK_CONFIG_INVALID' }),
        )
        return
      }
      // A store whose claim returned the attempt's reads (PostgreSQL: the same statement) saves both.
      const loaded = run.loaded ?? (await s.loadRun({ allPlants: true, reason: 'engine' }, run.id))
      const trigger = run.loaded
        ? run.trigger
        : run.triggerEventSeq === null
          ? undefined
          : await s.getEventBySeqInternal(run.triggerEventSeq)
      if (!loaded || !trigger) throw new Error(`run ${run.id} or its trigger event is missing`)
      span = this.attemptSpan(run, trigger)
      const stale =
        loaded.journal.length === 0 ? await staleTrigger(this.o.store.sql, run, trigger) : undefined
      if (stale) {
        await s.deadLetterRun(
          fence,
          'skip',
          'QLK_STALE_SEQUENCE',
          stale,
          audit('workflow.dead_lettered', { errorCode: 'QLK_STALE_SEQUENCE', error: stale }),
        )
        this.o.metrics?.onOutcome(run.workflow, 'dead_letter')
        span.set({ 'qualink.run.outcome': 'stale' })
        return
      }
      // The snapshot is taken at the first execution and stored with its first write (no commit
      // of its own); a workflow without plant configuration stores none. Until that write commits
      // nothing journaled depends on it, so an attempt that dies first leaves no trace of it.
      const upcast = this.o.upcast ?? upcastStoredEvent
      const seen = upcast(trigger)
      const unsaved = loaded.run.config === null && def.config ? def.config(run.plant) : undefined
      const config = loaded.run.config ?? unsaved ?? {}
      ctx = new RunContext({
        store: s,
        fence,
        run: loaded.run,
        trigger: seen,
        journal: loaded.journal,
        waits: loaded.waits,
        config,
        ports: this.o.ports,
        codeVersion: def.version,
        attempt: run.attempts + 1,
        dbNow: () => this.o.store.now(),
        upcast,
        compensation: loaded.run.cancelRequested,
        unsavedConfig: unsaved,
        journalMode: this.o.journal,
        maxBuffered: this.o.journalMaxBuffered,
        maxBufferedMs: Math.max(50, Math.floor(this.ttl / 3)),
        leaseLost: () => leaseLost,
      })
      if (loaded.run.cancelRequested) {
        const reason = loaded.run.cancelReason ?? 'cancelled'
        const c = ctx
        await span.run(() => def.compensate?.(c, { reason, completedSteps: c.completedSteps() }))
        const w = c.pendingWrite()
        await s.completeRun(fence, 'cancelled', { reason }, audit('workflow.cancelled', { reason }), w)
        this.o.metrics?.onOutcome(run.workflow, 'cancelled')
        span.set({ 'qualink.run.outcome': 'cancelled' })
        return
      }
      // The workflow's code runs with the attempt's span active: its steps are children of it.
      const c = ctx
      const result = await span.run(() => def.run(c, seen))
      // The completion carries the attempt's buffered journal: one commit ends the run.
      await s.completeRun(
        fence,
        'completed',
        result ?? null,
        audit('workflow.completed', {}),
        c.pendingWrite(),
      )
      this.o.metrics?.onOutcome(run.workflow, 'completed')
      span.set({ 'qualink.run.outcome': 'completed' })
    } catch (e) {
      if (e instanceof Suspended) span?.set({ 'qualink.run.outcome': 'suspended' })
      else span?.fail(e, classify(e).code)
      const settle = () => this.settleFailure(run, def, fence, e, audit, ctx)
      await (span ? span.run(settle) : settle())
    } finally {
      span?.end()
      clearInterval(heartbeat)
    }
  }

  /**
   * One span per attempt. Its parent is the trigger event's traceparent (CloudEvents extension,
   * stored in the envelope), so a run continues its event's trace across the durable boundary;
   * without one it starts a trace rather than inherit whatever context woke the engine.
   */
  private attemptSpan(run: RunRow, trigger: StoredEvent): TraceSpan {
    const tp = trigger.envelope.traceparent
    return startSpan(`run ${run.workflow}`, {
      kind: 'consumer',
      parent: typeof tp === 'string' ? tp : null,
      attributes: {
        'qualink.workflow': run.workflow,
        'qualink.workflow.version': run.version,
        'qualink.run.id': run.id,
        'qualink.run.key': run.key,
        'qualink.run.attempt': run.attempts + 1,
        'qualink.plant': run.plant,
        'cloudevents.event_id': trigger.id,
        'cloudevents.event_type': trigger.type,
        'cloudevents.event_source': trigger.source,
      },
    })
  }

  private async settleFailure(
    run: RunRow,
    // biome-ignore lint/suspicious/noExplicitAny: see EngineOptions.workflows
    def: WorkflowDefinition<any, any> | undefined,
    fence: { runId: string; token: number },
    e: unknown,
    audit: (action: string, payload: Record<string, unknown>) => Parameters<EngineStore['completeRun']>[3],
    ctx: RunContext | undefined,
  ): Promise<void> {
    const s = this.engineStore
    // Whatever the attempt completed before failing is journaled with its settlement.
    const w = ctx?.pendingWrite()
    try {
      if (e instanceof Suspended) {
        // A registration that parked the run released its lease in the same write.
        if (!ctx?.parked || w) await s.suspendRun(fence, w)
        this.o.metrics?.onOutcome(run.workflow, 'suspended')
        return
      }
      const c = classify(e)
      if (c.code === 'QLK_LEASE_LOST') {
        // Another worker owns the run now: this execution's results are void (fenced), stop here.
        this.o.logger?.warn({ runId: run.id }, 'lease lost mid-run; the new owner continues')
        this.o.metrics?.onOutcome(run.workflow, 'lease_lost')
        return
      }
      const policy: RetryPolicy = { ...DEFAULT_RETRY, ...def?.retry }
      const attempt = run.attempts + 1
      if (c.retryable && attempt < policy.maxAttempts) {
        await s.retryRun(
          fence,
          backoffDelay(attempt, policy, this.o.random, c.retryAfterMs),
          c.code,
          c.message,
          w,
        )
        this.o.metrics?.onOutcome(run.workflow, 'retry')
        return
      }
      await s.deadLetterRun(
        fence,
        def?.poisonPolicy ?? 'block',
        c.code,
        c.message,
        audit('workflow.dead_lettered', {
          errorCode: c.code,
          error: c.message,
          attempts: attempt,
          ...(c.failedAt ?? {}),
        }),
        c.failedAt,
        w,
      )
      this.o.metrics?.onOutcome(run.workflow, 'dead_letter')
      this.o.logger?.warn({ runId: run.id, workflow: run.workflow, key: run.key, code: c.code }, c.message)
    } catch (settleError) {
      // Usually a lost lease: the next owner settles the run. Never silent.
      this.o.logger?.warn({ err: settleError, runId: run.id }, 'could not settle run outcome')
    }
  }
}

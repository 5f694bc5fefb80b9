import { QualinkError } from '../contracts/errors.ts'
import { inSpan, linkActiveSpan } from '../observability/tracing.ts'
import { typeFamily } from '../store/engine-rows.ts'
import type { JournalEntry, JournalFlush, JournalKind, WaitRow } from '../store/engine-types.ts'
import type { AuditEntry, StoredEvent } from '../store/types.ts'
import { Suspended } from './errors.ts'
import { parseDuration } from './retry.ts'
import type { RunContextDeps } from './run-context-deps.ts'
import type { StepInfo, WaitResult, WorkflowContext } from './workflow.ts'

export type { JournalMode, RunContextDeps } from './run-context-deps.ts'

/**
 * Executes workflow code against its journal. Each command (step, wait, sleep, now, receive)
 * takes the next position; a journaled command returns its recorded result without running
 * again, and one whose kind or name differs from the journal at that position is
 * non-determinism. New commands run and are journaled under the run's lease (fenced).
 */
export class RunContext implements WorkflowContext {
  private position = 0
  private readonly occurrences = new Map<string, number>()
  private readonly byPosition = new Map<number, JournalEntry>()
  private readonly byName = new Map<string, JournalEntry>()
  private readonly waits = new Map<number, WaitRow>()
  private nextAppend: number
  private readonly buffer: JournalEntry[] = []
  private readonly bufferAudits: AuditEntry[] = []
  /** when each buffered entry completed, on the monotonic clock (its age goes with the write) */
  private readonly bufferAt: number[] = []
  private unsavedConfig: unknown
  /** set when a registration parked the run and released its lease in the same write */
  parked = false
  /** per-step: the buffer holds an entry that must be written before the next command starts */
  private unwritten = false

  constructor(private readonly d: RunContextDeps) {
    for (const e of d.journal) {
      this.byPosition.set(e.position, e)
      this.byName.set(`${e.kind}\u0000${e.name}\u0000${e.occurrence}`, e)
    }
    for (const w of d.waits) this.waits.set(w.position, w)
    this.nextAppend = d.journal.reduce((m, e) => Math.max(m, e.position), 0) + 1
    this.unsavedConfig = d.unsavedConfig
  }

  /**
   * What this attempt has not written yet (buffered entries, their audit rows, the config
   * snapshot), for the fenced write that ends the attempt or the next registration; undefined
   * when nothing is pending. The buffer is kept until `written` confirms the commit.
   */
  pendingWrite(): JournalFlush | undefined {
    if (this.buffer.length === 0 && this.unsavedConfig === undefined) return undefined
    const t = performance.now()
    return {
      entries: [...this.buffer],
      audits: [...this.bufferAudits],
      agesMs: this.bufferAt.map((at) => t - at),
      ...(this.unsavedConfig === undefined ? {} : { config: this.unsavedConfig }),
    }
  }

  /** The write carrying `w` committed: those entries are durable now. */
  written(w: JournalFlush | undefined): void {
    if (!w) return
    if (w.entries.length === this.buffer.length) this.unwritten = false
    this.buffer.splice(0, w.entries.length)
    this.bufferAt.splice(0, w.entries.length)
    this.bufferAudits.splice(0, w.audits.length)
    if (w.config !== undefined) this.unsavedConfig = undefined
  }

  /** Runs one fenced store write that carries the pending buffer with it. */
  private async carrying<T>(write: (w: JournalFlush | undefined) => Promise<T>): Promise<T> {
    const w = this.pendingWrite()
    const r = await write(w)
    this.written(w)
    return r
  }

  private async writeBuffer(): Promise<void> {
    const w = this.pendingWrite()
    if (!w) return
    await this.d.store.appendJournal(this.d.fence, w)
    this.written(w)
  }

  get runId() {
    return this.d.run.id
  }
  get workflow() {
    return this.d.run.workflow
  }
  get key() {
    return this.d.run.key
  }
  get plant() {
    return this.d.run.plant
  }
  get trigger() {
    return this.d.trigger
  }
  get config() {
    return this.d.config
  }
  get ports() {
    return this.d.ports
  }

  /** Completed step names in journal order (for compensation). */
  completedSteps(): string[] {
    return [...this.byPosition.values()].filter((e) => e.kind === 'step').map((e) => e.name)
  }

  private next(
    kind: JournalKind,
    name: string,
  ): { position: number; occurrence: number; entry?: JournalEntry } {
    const occKey = `${kind}\u0000${name}`
    const occurrence = (this.occurrences.get(occKey) ?? 0) + 1
    this.occurrences.set(occKey, occurrence)
    if (this.d.compensation) {
      const entry = this.byName.get(`${occKey}\u0000${occurrence}`)
      return { position: entry?.position ?? this.nextAppend, occurrence, entry }
    }
    const position = ++this.position
    const entry = this.byPosition.get(position)
    if (entry && (entry.kind !== kind || entry.name !== name)) {
      throw new QualinkError(
        'QLK_NONDETERMINISM',
        `run ${this.d.run.id} (${this.d.run.workflow}): command ${position} is ${kind} '${name}' but the journal ` +
          `recorded ${entry.kind} '${entry.name}'; the code's step sequence changed under an in-flight run`,
      )
    }
    return { position, occurrence, entry }
  }

  private async record(
    kind: JournalKind,
    name: string,
    position: number,
    occurrence: number,
    result: unknown,
    key: string | null,
    durable = false,
    tied = false,
  ) {
    const entry: JournalEntry = {
      position,
      kind,
      name,
      occurrence,
      idempotencyKey: key,
      result: result === undefined ? null : result,
      codeVersion: this.d.codeVersion,
      completedAtMs: 0,
    }
    this.buffer.push(entry)
    this.bufferAt.push(performance.now())
    if (kind === 'step')
      this.bufferAudits.push({
        plant: this.d.run.plant,
        actor: `workflow:${this.d.run.workflow}`,
        action: 'workflow.step.completed',
        subject: this.d.run.key,
        correlationId: this.d.trigger.correlationId,
        payload: { runId: this.d.run.id, step: name, occurrence, idempotencyKey: key },
      })
    this.byPosition.set(position, entry)
    this.byName.set(`${kind}\u0000${name}\u0000${occurrence}`, entry)
    this.nextAppend = Math.max(this.nextAppend, position + 1)
    if (durable) await this.writeBuffer()
    // per-step: written before the next command starts, or by the write that ends the stretch
    // (beforeCommand; pendingWrite carried by a registration, completion, retry, dead letter or
    // suspension). An inbox receive's or an early wait's event needs no write of its own: the
    // transaction that handed it over tied it to this position, a replay receives it again.
    else if (!tied) this.unwritten = true
  }

  /** Before a new command: a stale lease stops the attempt; a full or old buffer is written. */
  private async beforeCommand(): Promise<void> {
    if (this.d.leaseLost?.())
      throw new QualinkError(
        'QLK_LEASE_LOST',
        `run ${this.d.run.id}: lease token ${this.d.fence.token} no longer holds (renewal refused)`,
      )
    if (this.buffer.length === 0) return
    if (
      (this.unwritten && (this.d.journalMode ?? 'per-step') === 'per-step') ||
      this.buffer.length >= (this.d.maxBuffered ?? 64) ||
      performance.now() - this.bufferAt[0]! >= (this.d.maxBufferedMs ?? 10_000)
    )
      await this.writeBuffer()
  }

  async step<T>(
    name: string,
    fn: (info: StepInfo) => Promise<T>,
    opts: { key?: string; durable?: boolean } = {},
  ): Promise<T> {
    const { position, occurrence, entry } = this.next('step', name)
    if (entry) return entry.result as T
    await this.beforeCommand()
    const idempotencyKey =
      opts.key ??
      `${this.d.run.workflow}/${this.d.run.key}/${this.d.run.triggerEventId ?? this.d.run.id}/${name}#${occurrence}`
    // A span only for a step that runs: a journaled one returned above did nothing this attempt.
    const attributes = {
      'qualink.workflow': this.d.run.workflow,
      'qualink.run.id': this.d.run.id,
      'qualink.step.name': name,
      'qualink.step.occurrence': occurrence,
      'qualink.step.idempotency_key': idempotencyKey,
    }
    return inSpan(`step ${name}`, { attributes }, async () => {
      const result = await fn({ idempotencyKey, attempt: this.d.attempt })
      await this.record('step', name, position, occurrence, result, idempotencyKey, opts.durable)
      return result
    })
  }

  async now(): Promise<Date> {
    const { position, occurrence, entry } = this.next('now', 'now')
    if (entry) return new Date(entry.result as number)
    const t = await this.d.dbNow()
    await this.record('now', 'now', position, occurrence, t, null)
    return new Date(t)
  }

  /** A new wait's timeout, made absolute by the registering transaction on the database clock. */
  private timeoutIn(timeout: string | number | undefined): { timeoutAtMs: null; timeoutInMs?: number } {
    return timeout === undefined
      ? { timeoutAtMs: null }
      : { timeoutAtMs: null, timeoutInMs: parseDuration(timeout) }
  }

  private async resolveWait(
    kind: JournalKind,
    name: string,
    position: number,
    occurrence: number,
    w: WaitRow,
  ): Promise<WaitResult | undefined> {
    if (w.status === 'waiting' && w.timeoutAtMs !== null && (await this.d.dbNow()) >= w.timeoutAtMs) {
      // Timeout and arrival race through one compare-and-set on the wait: only one wins.
      if (!(await this.d.store.timeOutWait(this.d.run.id, position))) {
        const fresh = (
          await this.d.store.loadRun({ allPlants: true, reason: 'engine' }, this.d.run.id)
        )?.waits.find((x) => x.position === position)
        if (fresh) return this.resolveWait(kind, name, position, occurrence, fresh)
      }
      await this.record(kind, name, position, occurrence, { timedOut: true }, null)
      return { timedOut: true }
    }
    if (w.status === 'timed_out') {
      await this.record(kind, name, position, occurrence, { timedOut: true }, null)
      return { timedOut: true }
    }
    if (w.status === 'matched' && w.eventSeq !== null && kind === 'wait') {
      const event = await this.d.store.getEventBySeqInternal(w.eventSeq)
      if (event) return this.deliver(kind, name, position, occurrence, event)
    }
    return undefined
  }

  private async deliver(
    kind: JournalKind,
    name: string,
    position: number,
    occurrence: number,
    event: StoredEvent,
  ) {
    const up = this.d.upcast(event)
    // The event's sender traced its own ingest; the attempt that receives it points there.
    linkActiveSpan(up.envelope.traceparent, { 'cloudevents.event_id': up.id, 'qualink.wait': name })
    await this.record(kind, name, position, occurrence, { event: up }, null, false, true)
    return { event: up }
  }

  private journaledWait(entry: JournalEntry): WaitResult {
    return entry.result as WaitResult
  }

  private consumedSeqs(): number[] {
    return [...this.byPosition.values()]
      .filter((e) => e.kind === 'wait' && (e.result as { event?: StoredEvent } | null)?.event)
      .map((e) => (e.result as { event: StoredEvent }).event.seq)
  }

  async waitFor(
    type: string,
    opts: { subject: string; timeout?: string | number; afterSeq?: number },
  ): Promise<WaitResult> {
    const family = typeFamily(type)
    const name = `${family}@${opts.subject}`
    const { position, occurrence, entry } = this.next('wait', name)
    if (entry) return this.journaledWait(entry)
    const existing = this.waits.get(position)
    if (existing) {
      const r = await this.resolveWait('wait', name, position, occurrence, existing)
      if (r) return r
      throw new Suspended()
    }
    const wait: WaitRow = {
      position,
      kind: 'event',
      eventFamily: family,
      subject: opts.subject,
      afterSeq: opts.afterSeq ?? 0,
      ...this.timeoutIn(opts.timeout),
      status: 'waiting',
      eventSeq: null,
    }
    const early = await this.carrying((w) =>
      this.d.store.registerWait(this.d.fence, wait, this.consumedSeqs(), w),
    )
    if (early) return this.deliver('wait', name, position, occurrence, early)
    this.parked = true
    throw new Suspended()
  }

  async receive(opts: { timeout?: string | number } = {}): Promise<WaitResult> {
    const { position, occurrence, entry } = this.next('receive', 'inbox')
    if (entry) return this.journaledWait(entry)
    const existing = this.waits.get(position)
    if (existing?.status === 'timed_out' || (existing && existing.status === 'waiting')) {
      const r = await this.resolveWait('receive', 'inbox', position, occurrence, existing)
      if (r) return r
    }
    const wait: WaitRow = {
      position,
      kind: 'inbox',
      eventFamily: null,
      subject: null,
      afterSeq: 0,
      ...(existing ? { timeoutAtMs: existing.timeoutAtMs } : this.timeoutIn(opts.timeout)),
      status: 'waiting',
      eventSeq: null,
    }
    const event = await this.carrying((w) => this.d.store.takeInbox(this.d.fence, wait, w))
    if (event) return this.deliver('receive', 'inbox', position, occurrence, event)
    this.parked = true
    throw new Suspended()
  }

  async sleep(duration: string | number): Promise<void> {
    const { position, occurrence, entry } = this.next('sleep', 'sleep')
    if (entry) return
    const existing = this.waits.get(position)
    if (existing) {
      if (existing.timeoutAtMs !== null && (await this.d.dbNow()) >= existing.timeoutAtMs) {
        await this.record('sleep', 'sleep', position, occurrence, null, null)
        return
      }
      throw new Suspended()
    }
    const wait: WaitRow = {
      position,
      kind: 'sleep',
      eventFamily: null,
      subject: null,
      afterSeq: 0,
      timeoutAtMs: null,
      timeoutInMs: parseDuration(duration),
      status: 'waiting',
      eventSeq: null,
    }
    await this.carrying((w) => this.d.store.registerWait(this.d.fence, wait, [], w))
    this.parked = true
    throw new Suspended()
  }
}

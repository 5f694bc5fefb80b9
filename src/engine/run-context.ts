import { QualinkError } from '../contracts/errors.ts'
import { inSpan, linkActiveSpan } from '../observability/tracing.ts'
import { typeFamily } from '../store/engine-rows.ts'
import type { EngineStore, Fence, JournalEntry, JournalKind, RunRow, WaitRow } from '../store/engine-types.ts'
import type { StoredEvent } from '../store/types.ts'
import { Suspended } from './errors.ts'
import { parseDuration } from './retry.ts'
import type { StepInfo, WaitResult, WorkflowContext } from './workflow.ts'

export interface RunContextDeps {
  readonly store: EngineStore
  readonly fence: Fence
  readonly run: RunRow
  readonly trigger: StoredEvent
  readonly journal: readonly JournalEntry[]
  readonly waits: readonly WaitRow[]
  readonly config: unknown
  readonly ports: unknown
  readonly codeVersion: number
  readonly attempt: number
  readonly dbNow: () => Promise<number>
  readonly upcast: (e: StoredEvent) => StoredEvent
  /** compensation journals by name and occurrence, appended after the main run's entries */
  readonly compensation?: boolean
}

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

  constructor(private readonly d: RunContextDeps) {
    for (const e of d.journal) {
      this.byPosition.set(e.position, e)
      this.byName.set(`${e.kind}\u0000${e.name}\u0000${e.occurrence}`, e)
    }
    for (const w of d.waits) this.waits.set(w.position, w)
    this.nextAppend = d.journal.reduce((m, e) => Math.max(m, e.position), 0) + 1
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
    await this.d.store.appendJournal(
      this.d.fence,
      entry,
      kind === 'step'
        ? {
            plant: this.d.run.plant,
            actor: `workflow:${this.d.run.workflow}`,
            action: 'workflow.step.completed',
            subject: this.d.run.key,
            correlationId: this.d.trigger.correlationId,
            payload: { runId: this.d.run.id, step: name, occurrence, idempotencyKey: key },
          }
        : undefined,
    )
    this.byPosition.set(position, entry)
    this.byName.set(`${kind}\u0000${name}\u0000${occurrence}`, entry)
    this.nextAppend = Math.max(this.nextAppend, position + 1)
  }

  async step<T>(name: string, fn: (info: StepInfo) => Promise<T>, opts: { key?: string } = {}): Promise<T> {
    const { position, occurrence, entry } = this.next('step', name)
    if (entry) return entry.result as T
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
      await this.record('step', name, position, occurrence, result, idempotencyKey)
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

  private async timeoutAt(timeout: string | number | undefined): Promise<number | null> {
    return timeout === undefined ? null : (await this.d.dbNow()) + parseDuration(timeout)
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
    await this.record(kind, name, position, occurrence, { event: up }, null)
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
      timeoutAtMs: await this.timeoutAt(opts.timeout),
      status: 'waiting',
      eventSeq: null,
    }
    const early = await this.d.store.registerWait(this.d.fence, wait, this.consumedSeqs())
    if (early) return this.deliver('wait', name, position, occurrence, early)
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
      timeoutAtMs: existing?.timeoutAtMs ?? (await this.timeoutAt(opts.timeout)),
      status: 'waiting',
      eventSeq: null,
    }
    const event = await this.d.store.takeInbox(this.d.fence, wait)
    if (event) return this.deliver('receive', 'inbox', position, occurrence, event)
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
      timeoutAtMs: (await this.d.dbNow()) + parseDuration(duration),
      status: 'waiting',
      eventSeq: null,
    }
    await this.d.store.registerWait(this.d.fence, wait, [])
    throw new Suspended()
  }
}

import { QualinkError } from '../contracts/errors.ts'
import type { AppendRequest, AppendResult, Store } from './types.ts'

export interface WriteQueueMetrics {
  onCommit(groupRequests: number, groupEvents: number, seconds: number, ok: boolean): void
  onDepth(depth: number): void
}

export interface WriteQueueOptions {
  /** true: concurrent requests share one transaction; false: one transaction per request */
  readonly groupCommit?: boolean
  /** most events in one group transaction */
  readonly maxGroupEvents?: number
  readonly metrics?: WriteQueueMetrics
}

interface Waiting {
  readonly request: AppendRequest
  readonly resolve: (r: AppendResult[]) => void
  readonly reject: (e: unknown) => void
}

/**
 * The one write path for the event log. With group commit, requests that arrive while a commit
 * is in flight wait and then share the next transaction: one fsync answers many requests, and
 * each request's events stay atomic because the whole group commits or none of it does. A
 * request is resolved only after its commit returned, so a 2xx is never sent before durability.
 * A failed commit fails every member with QLK_STORE_UNAVAILABLE (503) and stores none of them.
 */
export class WriteQueue {
  private readonly waiting: Waiting[] = []
  private inFlight = 0
  private closed = false
  private idle: Array<() => void> = []
  private readonly group: boolean
  private readonly maxGroupEvents: number

  constructor(
    private readonly store: Store,
    private readonly opts: WriteQueueOptions = {},
  ) {
    this.group = opts.groupCommit ?? true
    this.maxGroupEvents = opts.maxGroupEvents ?? 2000
  }

  get depth(): number {
    return this.waiting.length
  }

  submit(request: AppendRequest): Promise<AppendResult[]> {
    if (this.closed)
      return Promise.reject(new QualinkError('QLK_SHUTTING_DOWN', 'the write queue is draining'))
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject })
      this.opts.metrics?.onDepth(this.waiting.length)
      if (this.group) {
        // setImmediate: let every request already parsed in this turn of the loop join the group.
        if (this.inFlight === 0 && this.waiting.length === 1) setImmediate(() => this.flush())
      } else {
        this.flushOne()
      }
    })
  }

  private takeGroup(): Waiting[] {
    const taken: Waiting[] = []
    let events = 0
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!
      if (taken.length > 0 && events + next.request.events.length > this.maxGroupEvents) break
      taken.push(this.waiting.shift()!)
      events += next.request.events.length
    }
    return taken
  }

  private async flush(): Promise<void> {
    if (this.inFlight > 0 || this.waiting.length === 0) return
    const members = this.takeGroup()
    this.opts.metrics?.onDepth(this.waiting.length)
    await this.commit(members)
    if (this.waiting.length > 0) setImmediate(() => this.flush())
    else this.notifyIdle()
  }

  private flushOne(): void {
    const member = this.waiting.shift()
    if (!member) return
    this.commit([member]).then(() => {
      if (this.inFlight === 0 && this.waiting.length === 0) this.notifyIdle()
    })
  }

  private async commit(members: Waiting[]): Promise<void> {
    this.inFlight++
    const started = process.hrtime.bigint()
    const events = members.reduce((n, m) => n + m.request.events.length, 0)
    try {
      const results = await this.store.appendEvents(members.map((m) => m.request))
      this.opts.metrics?.onCommit(members.length, events, seconds(started), true)
      members.forEach((m, i) => {
        m.resolve(results[i]!)
      })
    } catch (cause) {
      this.opts.metrics?.onCommit(members.length, events, seconds(started), false)
      const err = new QualinkError(
        'QLK_STORE_UNAVAILABLE',
        `the group commit of ${members.length} request(s) failed; none of their events was stored`,
        [],
        { cause },
      )
      for (const m of members) m.reject(err)
    } finally {
      this.inFlight--
    }
  }

  private notifyIdle(): void {
    const waiters = this.idle
    this.idle = []
    for (const w of waiters) w()
  }

  /** Stops taking requests and resolves once everything queued has been committed or failed. */
  async drain(): Promise<void> {
    this.closed = true
    if (this.inFlight === 0 && this.waiting.length === 0) return
    await new Promise<void>((resolve) => this.idle.push(resolve))
  }
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9
}

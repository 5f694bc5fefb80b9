import type { Logger } from '../observability/logger.ts'
import type { Lease, Store } from '../store/types.ts'

export interface SingletonOptions {
  readonly store: Store
  readonly name: string
  readonly owner: string
  readonly ttlMs?: number
  readonly logger?: Logger
  /** start the duty; called when this process takes the lease */
  readonly run: (lease: Lease) => Promise<void> | void
  /** stop the duty; called when the lease is lost or on stop */
  readonly halt: () => Promise<void> | void
}

/**
 * Something that must run once across all processes (an MQTT session with one client id, a
 * file watcher, a polling cursor, the relay): it runs only while this process holds the lease,
 * renews it by heartbeat, halts the moment a renewal fails, and another process takes over
 * after expiry (DESIGN §6 "Singletons when scaled out").
 */
export class Singleton {
  private lease: Lease | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly ttl: number

  constructor(private readonly o: SingletonOptions) {
    this.ttl = o.ttlMs ?? 15_000
  }

  get held(): boolean {
    return this.lease !== undefined
  }

  /** the duty started under the current lease (false after `run` threw: retried at the next tick) */
  private running = false

  private async tick(): Promise<void> {
    try {
      if (this.lease) {
        this.lease = await this.o.store.renewLease(this.lease, this.ttl)
        if (!this.lease) {
          this.o.logger?.warn({ singleton: this.o.name }, 'lease lost: halting')
          this.running = false
          await this.o.halt()
          return
        }
      } else {
        this.lease = await this.o.store.acquireLease(this.o.name, this.o.owner, this.ttl)
        if (this.lease)
          this.o.logger?.info({ singleton: this.o.name, token: this.lease.token }, 'lease taken: running')
      }
      // A duty that failed to start (its broker or folder unreachable) is retried while the
      // lease is held, instead of holding the lease with nothing running.
      if (this.lease && !this.running) {
        await this.o.run(this.lease)
        this.running = true
      }
    } catch (e) {
      this.o.logger?.error({ err: e, singleton: this.o.name }, 'singleton heartbeat failed')
    }
  }

  start(): void {
    const loop = async () => {
      await this.tick()
      if (!this.stopped) this.timer = setTimeout(loop, Math.max(50, Math.floor(this.ttl / 3)))
    }
    void loop()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.lease) {
      await this.o.halt()
      await this.o.store.releaseLease(this.lease).catch(() => {})
      this.lease = undefined
      this.running = false
    }
  }
}

type Duty = Pick<SingletonOptions, 'run' | 'halt'>

/** A duty that is a resource: opened when this process takes the lease, closed when it loses it. */
export function resourceDuty(
  open: (lease: Lease) => Promise<{ close(): Promise<void> }> | { close(): Promise<void> },
): Duty {
  let handle: { close(): Promise<void> } | undefined
  return {
    run: async (lease) => {
      handle = await open(lease)
    },
    halt: async () => {
      const h = handle
      handle = undefined
      await h?.close()
    },
  }
}

/** A duty that repeats `pass` every `everyMs` while the lease is held; halting waits for the pass in flight. */
export function periodicDuty(pass: () => Promise<unknown>, everyMs: number, firstMs = everyMs): Duty {
  let timer: NodeJS.Timeout | undefined
  let active = false
  let current: Promise<unknown> = Promise.resolve()
  const loop = () => {
    current = pass()
      .catch(() => undefined)
      .finally(() => {
        if (active) timer = setTimeout(loop, everyMs)
      })
  }
  return {
    run: () => {
      active = true
      timer = setTimeout(loop, firstMs)
    },
    halt: async () => {
      active = false
      if (timer) clearTimeout(timer)
      timer = undefined
      await current
    },
  }
}

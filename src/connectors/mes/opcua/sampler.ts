/**
 * What a stream of OPC UA values on one measurement node becomes: pure, no I/O. Good values feed
 * the sampling policy (every Nth value, or one summary per window of source time); values whose
 * StatusCode is not Good are counted and dropped; a value not newer than the last one seen (a
 * reconnect re-reads the current value) is a repeat and dropped too.
 */

export type SamplingPolicy =
  /** every Nth good value becomes a sampled result (1 = every value: only for slow nodes) */
  | { readonly every: number }
  /** one summary (n, mean, min, max) per window of source time, aligned to the epoch */
  | { readonly windowMs: number }
  /** no sampled results: the values only feed the completion's measurement */
  | { readonly none: true }

export type AtCompletion = 'last' | 'mean' | 'min' | 'max'

export interface Reading {
  readonly value: number
  /** the OPC UA SourceTimestamp (else the server's), ms since the epoch */
  readonly atMs: number
  /** StatusCode is Good */
  readonly good: boolean
}

export interface Summary {
  readonly count: number
  readonly mean: number
  readonly min: number
  readonly max: number
  readonly fromMs: number
  readonly toMs: number
}

export interface Sample {
  /** the sampled value, or the window's mean */
  readonly value: number
  readonly atMs: number
  readonly summary?: Summary
  /** identifies the sample within its node: the value's source time, or the window start */
  readonly key: string
}

export type Outcome = 'bad-quality' | 'repeat' | 'accepted'

class Accumulator {
  count = 0
  sum = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  fromMs = 0
  toMs = 0
  last = 0

  add(r: Reading): void {
    if (this.count === 0) this.fromMs = r.atMs
    this.count++
    this.sum += r.value
    this.min = Math.min(this.min, r.value)
    this.max = Math.max(this.max, r.value)
    this.toMs = r.atMs
    this.last = r.value
  }

  summary(): Summary {
    return {
      count: this.count,
      mean: this.sum / this.count,
      min: this.min,
      max: this.max,
      fromMs: this.fromMs,
      toMs: this.toMs,
    }
  }
}

export class NodeSampler {
  private lastAtMs = Number.NEGATIVE_INFINITY
  private seen = 0
  private window: { startMs: number; acc: Accumulator } | undefined
  /** good values since the last completion, for its measurement */
  private sinceCompletion = new Accumulator()

  constructor(private readonly policy: SamplingPolicy) {}

  /** Feeds one value; returns what happened to it and the samples it closed. */
  accept(r: Reading): { outcome: Outcome; samples: Sample[] } {
    if (!r.good || !Number.isFinite(r.value)) return { outcome: 'bad-quality', samples: [] }
    if (r.atMs <= this.lastAtMs) return { outcome: 'repeat', samples: [] }
    this.lastAtMs = r.atMs
    this.sinceCompletion.add(r)
    const samples: Sample[] = []
    if ('every' in this.policy) {
      this.seen++
      if (this.seen % this.policy.every === 0)
        samples.push({ value: r.value, atMs: r.atMs, key: `at:${new Date(r.atMs).toISOString()}` })
    } else if ('windowMs' in this.policy) {
      const startMs = Math.floor(r.atMs / this.policy.windowMs) * this.policy.windowMs
      if (this.window && this.window.startMs !== startMs) samples.push(...this.flush())
      this.window ??= { startMs, acc: new Accumulator() }
      this.window.acc.add(r)
    }
    return { outcome: 'accepted', samples }
  }

  /** Closes the open window once `nowMs` (source time) is past its end: no value may arrive late for it. */
  tick(nowMs: number): Sample[] {
    if (!this.window || !('windowMs' in this.policy)) return []
    return nowMs >= this.window.startMs + this.policy.windowMs ? this.flush() : []
  }

  private flush(): Sample[] {
    const w = this.window
    this.window = undefined
    if (!w) return []
    const summary = w.acc.summary()
    return [
      {
        value: summary.mean,
        atMs: summary.toMs,
        summary,
        key: `window:${new Date(w.startMs).toISOString()}`,
      },
    ]
  }

  /** The value a completion reports for this node, and a fresh start for the next operation. */
  complete(at: AtCompletion): { value: number; atMs: number } | undefined {
    const acc = this.sinceCompletion
    this.sinceCompletion = new Accumulator()
    if (acc.count === 0) return undefined
    const value = at === 'last' ? acc.last : at === 'mean' ? acc.sum / acc.count : acc[at]
    return { value, atMs: acc.toMs }
  }
}

/**
 * Whether a completion node's new value means "an operation completed": a Boolean going true,
 * or a counter that moved up. The first value seen after (re)connecting is only a baseline for a
 * counter; for a Boolean already true it counts, and its id (node, source time) deduplicates a re-read.
 */
export class CompletionTrigger {
  private previous: boolean | number | undefined

  fires(value: unknown): boolean {
    const prev = this.previous
    if (typeof value === 'boolean') {
      this.previous = value
      return value && prev !== true
    }
    const n = typeof value === 'bigint' ? Number(value) : value
    if (typeof n !== 'number' || !Number.isFinite(n)) return false
    this.previous = n
    return typeof prev === 'number' && n > prev
  }
}

/** A plain decimal string (no exponent, ≤ 9 decimals) as DecimalString requires. */
export function toDecimal(x: number): string {
  const s = x.toFixed(9).replace(/\.?0+$/, '')
  return s === '-0' ? '0' : s
}

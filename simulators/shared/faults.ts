/**
 * Fault injection shared by every simulator. Decisions come from a seeded PRNG, so a given seed
 * and request sequence misbehave identically on every run.
 */
import { createRng, type Rng } from './rng.ts'

export interface FaultMatch {
  /** Only requests with this HTTP method (case-insensitive). */
  readonly method?: string
  /** Only requests whose path contains this substring. */
  readonly path?: string
}

export interface FaultConfig {
  /** Delay before a matched request is handled (or a callback is sent). */
  latencyMs: number
  /** Probability of answering a matched request with `errorStatus` without handling it. */
  errorRate: number
  errorStatus: number
  /** Probability of answering 429 with `Retry-After: retryAfterSeconds`, without handling it. */
  rateLimitRate: number
  retryAfterSeconds: number
  /** Probability of never answering (the socket stays open until the client gives up). */
  hangRate: number
  /**
   * Probability that a modifying request is applied and then its socket destroyed with no answer:
   * the client cannot tell whether its change happened. Reads are never dropped.
   */
  dropResponseRate: number
  /** Probability that an outbound callback/webhook/message is delivered twice. */
  duplicateRate: number
  /** Probability that an outbound callback is held back and delivered after the next one. */
  outOfOrderRate: number
  /** Stop injecting after this many faults (request faults and callback faults together). */
  times?: number
  match?: FaultMatch
  seed: number
}

export type RequestFault =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'hang'; latencyMs: number }
  | { kind: 'rate-limit'; latencyMs: number; retryAfterSeconds: number }
  | { kind: 'error'; latencyMs: number; status: number }
  | { kind: 'drop-response'; latencyMs: number }

export type CallbackFault = 'none' | 'duplicate' | 'out-of-order'

export interface FaultCounts {
  hang: number
  rateLimit: number
  error: number
  dropResponse: number
  duplicate: number
  outOfOrder: number
}

export const NO_FAULTS: Readonly<FaultConfig> = {
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  hangRate: 0,
  dropResponseRate: 0,
  duplicateRate: 0,
  outOfOrderRate: 0,
  seed: 1,
}

const MODIFYING = new Set(['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE'])

export class Faults {
  private cfg: FaultConfig = { ...NO_FAULTS }
  private rng: Rng = createRng(NO_FAULTS.seed)
  readonly counts: FaultCounts = {
    hang: 0,
    rateLimit: 0,
    error: 0,
    dropResponse: 0,
    duplicate: 0,
    outOfOrder: 0,
  }

  constructor(initial?: Partial<FaultConfig>) {
    if (initial) this.set(initial)
  }

  /** Replaces the whole configuration; unspecified knobs fall back to "no fault". */
  set(partial: Partial<FaultConfig>): FaultConfig {
    const next: FaultConfig = { ...NO_FAULTS, ...partial }
    for (const k of [
      'errorRate',
      'rateLimitRate',
      'hangRate',
      'dropResponseRate',
      'duplicateRate',
      'outOfOrderRate',
    ] as const) {
      const v = next[k]
      if (typeof v !== 'number' || !(v >= 0 && v <= 1))
        throw new RangeError(`faults.${k} must be a number in [0, 1]`)
    }
    for (const k of ['latencyMs', 'retryAfterSeconds', 'errorStatus', 'seed'] as const) {
      if (typeof next[k] !== 'number' || !Number.isFinite(next[k]) || next[k] < 0) {
        throw new RangeError(`faults.${k} must be a non-negative number`)
      }
    }
    if (next.errorStatus < 500 || next.errorStatus > 599)
      throw new RangeError('faults.errorStatus must be 5xx')
    this.cfg = next
    this.rng = createRng(next.seed)
    return this.get()
  }

  reset(): void {
    this.set({})
  }

  get(): FaultConfig {
    return { ...this.cfg, match: this.cfg.match ? { ...this.cfg.match } : undefined }
  }

  private matches(method: string, path: string): boolean {
    const m = this.cfg.match
    if (!m) return true
    if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false
    if (m.path && !path.includes(m.path)) return false
    return true
  }

  private spend(): boolean {
    if (this.cfg.times === undefined) return true
    if (this.cfg.times <= 0) return false
    this.cfg.times -= 1
    return true
  }

  /** Decides, once per incoming request, what goes wrong with it. */
  decideRequest(method: string, path: string): RequestFault {
    if (!this.matches(method, path)) return { kind: 'none', latencyMs: 0 }
    const latencyMs = this.cfg.latencyMs
    const c = this.cfg
    if (c.times !== undefined && c.times <= 0) return { kind: 'none', latencyMs: 0 }
    if (this.rng.chance(c.hangRate) && this.spend()) {
      this.counts.hang++
      return { kind: 'hang', latencyMs }
    }
    if (this.rng.chance(c.rateLimitRate) && this.spend()) {
      this.counts.rateLimit++
      return { kind: 'rate-limit', latencyMs, retryAfterSeconds: c.retryAfterSeconds }
    }
    if (this.rng.chance(c.errorRate) && this.spend()) {
      this.counts.error++
      return { kind: 'error', latencyMs, status: c.errorStatus }
    }
    if (MODIFYING.has(method.toUpperCase()) && this.rng.chance(c.dropResponseRate) && this.spend()) {
      this.counts.dropResponse++
      return { kind: 'drop-response', latencyMs }
    }
    return { kind: 'none', latencyMs }
  }

  /** Decides, once per outbound callback, whether it is duplicated or delivered out of order. */
  decideCallback(): CallbackFault {
    const c = this.cfg
    if (c.times !== undefined && c.times <= 0) return 'none'
    if (this.rng.chance(c.duplicateRate) && this.spend()) {
      this.counts.duplicate++
      return 'duplicate'
    }
    if (this.rng.chance(c.outOfOrderRate) && this.spend()) {
      this.counts.outOfOrder++
      return 'out-of-order'
    }
    return 'none'
  }

  callbackLatencyMs(): number {
    return this.cfg.latencyMs
  }
}

export function isFaultConfigPatch(v: unknown): v is Partial<FaultConfig> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

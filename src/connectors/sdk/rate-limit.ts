/**
 * Token bucket per remote target. `reserve` never blocks: it answers how long the caller must wait,
 * so the egress client can report the wait (metrics) and sleep on its injected clock. A 429/503
 * Retry-After pauses the whole target, so concurrent calls wait instead of hammering.
 *
 * This class is the per-process part. Scaled out, the egress client also asks `SharedLimits`
 * (the database, on PostgreSQL) so N processes together keep the configured rate, share a
 * remote's Retry-After and an open circuit (DESIGN §6).
 */
export interface RateLimitSettings {
  /** sustained requests per second toward the target */
  readonly ratePerSecond: number
  /** requests that may go at once after an idle period */
  readonly burst: number
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { ratePerSecond: 20, burst: 10 }

export class TokenBucket {
  private tokens: number
  private last: number
  private pausedUntil = 0

  constructor(
    private readonly s: RateLimitSettings,
    now: number,
  ) {
    if (!(s.ratePerSecond > 0) || !(s.burst >= 1))
      throw new RangeError('rate limit needs ratePerSecond > 0 and burst >= 1')
    this.tokens = s.burst
    this.last = now
  }

  /** Takes a token and returns 0, or returns the wait in ms (and takes nothing). */
  reserve(now: number): { waitMs: number; reason: 'bucket' | 'retry-after' } {
    if (now < this.pausedUntil) return { waitMs: this.pausedUntil - now, reason: 'retry-after' }
    this.tokens = Math.min(this.s.burst, this.tokens + ((now - this.last) / 1000) * this.s.ratePerSecond)
    this.last = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      return { waitMs: 0, reason: 'bucket' }
    }
    return { waitMs: Math.ceil(((1 - this.tokens) / this.s.ratePerSecond) * 1000), reason: 'bucket' }
  }

  /** The remote said "not before now + ms" (Retry-After). */
  pause(now: number, ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + ms)
  }
}

/** Limits toward each target shared by every process on one database. */
export interface SharedLimits {
  /**
   * Takes a token for `target` from the shared bucket: `waitMs` 0 means go; otherwise nothing was
   * taken. `circuitOpenForMs` > 0: another process opened the target's circuit.
   */
  reserve(
    target: string,
    s: RateLimitSettings,
  ): Promise<{ waitMs: number; reason: 'bucket' | 'retry-after'; circuitOpenForMs: number }>
  /** the remote said "not before now + ms" (Retry-After), for every process */
  pause(target: string, ms: number): Promise<void>
  /** this process's breaker opened: every process stays away for `ms` */
  openCircuit(target: string, ms: number): Promise<void>
}

/**
 * Connectors are built from qualink.yaml before the store is open; the process binds the shared
 * limits here once it is (PostgreSQL only: an embedded SQLite store has one process anyway).
 */
export interface SharedLimitsRef {
  current?: SharedLimits
}

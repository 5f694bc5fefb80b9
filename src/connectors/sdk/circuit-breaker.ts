/**
 * Circuit breaker per remote target (closed → open after N consecutive failures → half-open after
 * `openMs` → closed after a successful probe, or open again). A failure is a timeout, a lost
 * connection or a 5xx — evidence the target is unwell; a 4xx or 429 proves it is alive.
 */
import type { CircuitState } from './metrics.ts'

export interface BreakerSettings {
  /** consecutive failures that open the circuit */
  readonly failureThreshold: number
  /** how long it stays open before one probe is let through */
  readonly openMs: number
  /** probes allowed at once while half-open */
  readonly halfOpenProbes: number
}

export const DEFAULT_BREAKER: BreakerSettings = { failureThreshold: 5, openMs: 30_000, halfOpenProbes: 1 }

export class CircuitBreaker {
  private s: CircuitState = 'closed'
  private failures = 0
  private openedAt = 0
  private probes = 0

  constructor(
    private readonly settings: BreakerSettings,
    private readonly onChange: (state: CircuitState) => void = () => {},
  ) {}

  get state(): CircuitState {
    return this.s
  }

  /** Asks to send; returns 0 when allowed, else how long until a probe may go. */
  admit(now: number): number {
    if (this.s === 'open') {
      const left = this.openedAt + this.settings.openMs - now
      if (left > 0) return left
      this.set('half-open')
      this.probes = 0
    }
    if (this.s === 'half-open') {
      if (this.probes >= this.settings.halfOpenProbes) return this.settings.openMs
      this.probes++
    }
    return 0
  }

  success(): void {
    this.failures = 0
    if (this.s !== 'closed') this.set('closed')
  }

  failure(now: number): void {
    this.failures++
    if (this.s === 'half-open' || (this.s === 'closed' && this.failures >= this.settings.failureThreshold)) {
      this.openedAt = now
      this.set('open')
    }
  }

  private set(s: CircuitState): void {
    this.s = s
    this.onChange(s)
  }
}

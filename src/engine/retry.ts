/** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export interface RetryPolicy {
  /** attempts of one step before the run is dead-lettered (1 = no retry) */
  readonly maxAttempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly factor: number
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 8,
  initialDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  factor: 2,
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failures (attempt >= 1). `random` is
 * injectable so tests are exact; a remote's Retry-After wins when it asks for longer.
 */
export function backoffDelay(
  attempt: number,
  p: RetryPolicy,
  random: () => number = Math.random,
  retryAfterMs = 0,
) {
  const ceiling = Math.min(p.maxDelayMs, p.initialDelayMs * p.factor ** Math.max(0, attempt - 1))
  return Math.max(Math.round(random() * ceiling), retryAfterMs)
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `'72h'`, `'5m'`, `'30s'`, `'250ms'` or a number of milliseconds. */
export function parseDuration(d: string | number): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0)
      throw new Error(`duration must be a non-negative number of ms, got ${d}`)
    return d
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(d.trim())
  if (!m) throw new Error(`duration '${d}' must look like 250ms, 30s, 5m, 72h or 2d`)
  return Math.round(Number(m[1]) * UNITS[m[2]!]!)
}

import { describe, expect, it, vi } from 'vitest'
import { backoffDelay, DEFAULT_RETRY, parseDuration } from './retry.ts'

describe('backoff', () => {
  it('grows exponentially to its ceiling with full jitter', () => {
    const top = () => 0.999999
    const delays = [1, 2, 3, 4, 5, 10, 20].map((a) => backoffDelay(a, DEFAULT_RETRY, top))
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 300000, 300000])
    expect(backoffDelay(3, DEFAULT_RETRY, () => 0)).toBe(0)
    expect(backoffDelay(3, DEFAULT_RETRY, () => 0.5)).toBe(2000)
  })

  it('honours a longer Retry-After from the remote', () => {
    expect(backoffDelay(1, DEFAULT_RETRY, () => 0.5, 30_000)).toBe(30_000)
  })

  it('schedules retries on fake timers exactly as computed', async () => {
    vi.useFakeTimers()
    try {
      const fired: number[] = []
      const start = Date.now()
      let attempt = 0
      const schedule = () => {
        attempt++
        if (attempt > 4) return
        setTimeout(
          () => {
            fired.push(Date.now() - start)
            schedule()
          },
          backoffDelay(attempt, DEFAULT_RETRY, () => 0.5),
        )
      }
      schedule()
      await vi.advanceTimersByTimeAsync(60_000)
      // cumulative: 500, 500+1000, +2000, +4000
      expect(fired).toEqual([500, 1500, 3500, 7500])
    } finally {
      vi.useRealTimers()
    }
  })

  it('parses durations and refuses nonsense', () => {
    expect(parseDuration('72h')).toBe(259_200_000)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration(5)).toBe(5)
    expect(() => parseDuration('soon')).toThrow(/must look like/)
  })
})

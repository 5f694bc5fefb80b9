import { describe, expect, it } from 'vitest'
import { decide, formatValue, quantile, type SloObjective } from './slo.ts'

const hold: SloObjective = {
  name: 'hold-fast',
  indicator: 'completion-to-erp-hold',
  threshold: 60_000,
  windowMs: 3_600_000,
  plants: ['P100'],
}

describe('SLO decisions', () => {
  it('nearest-rank quantile: p95 of 1..20 is 19, p50 of 1..4 is 2, none of nothing', () => {
    // Nearest-rank definition (NIST/SEMATECH e-Handbook 7.2.6.2): rank = ceil(q·n).
    const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1)
    expect(quantile(oneToTwenty, 0.95)).toBe(19)
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2)
    expect(quantile([7], 0.99)).toBe(7)
    expect(quantile([], 0.95)).toBeUndefined()
  })

  it('breaches above the threshold once, stays breached without a new transition, recovers once', () => {
    expect(decide(hold, 'P100', 60_000, undefined)).toMatchObject({ state: 'met', transition: undefined })
    const b = decide(hold, 'P100', 60_001, undefined)
    expect(b).toMatchObject({ state: 'breached', transition: 'breach' })
    expect(decide(hold, 'P100', 90_000, 'breached').transition).toBeUndefined()
    expect(decide(hold, 'P100', 10_000, 'breached')).toMatchObject({ state: 'met', transition: 'recovery' })
    // no leg in the window is no evidence of a breach
    expect(decide(hold, 'P100', undefined, 'breached')).toMatchObject({
      state: 'met',
      transition: 'recovery',
    })
  })

  it('formats latencies as durations and counts as numbers', () => {
    expect(formatValue('completion-to-erp-hold', 90_000)).toBe('90 s')
    expect(formatValue('receipt-to-erp-posting', 3 * 3_600_000)).toBe('3.0 h')
    expect(formatValue('dead-letters', 3)).toBe('3')
    expect(formatValue('dead-letters', undefined)).toBe('no data')
  })
})

import { describe, expect, it } from 'vitest'
import { CompletionTrigger, NodeSampler, toDecimal } from './sampler.ts'

const T0 = Date.UTC(2026, 0, 1)
const good = (value: number, atMs: number) => ({ value, atMs, good: true })

describe('NodeSampler', () => {
  it('passes every Nth good value; bad-quality and repeated values do not count', () => {
    const s = new NodeSampler({ every: 3 })
    const outcomes = [
      s.accept(good(1, T0 + 1)),
      s.accept({ value: 99, atMs: T0 + 2, good: false }),
      s.accept(good(2, T0 + 3)),
      s.accept(good(2, T0 + 3)), // a reconnect's re-read: same source time
      s.accept(good(3, T0 + 4)),
    ]
    expect(outcomes.map((o) => o.outcome)).toEqual([
      'accepted',
      'bad-quality',
      'accepted',
      'repeat',
      'accepted',
    ])
    expect(outcomes.flatMap((o) => o.samples)).toEqual([
      { value: 3, atMs: T0 + 4, key: `at:${new Date(T0 + 4).toISOString()}` },
    ])
    expect(s.accept({ value: Number.NaN, atMs: T0 + 5, good: true }).outcome).toBe('bad-quality')
  })

  it('summarises a window of source time when the next window starts, or on a tick past its end', () => {
    const s = new NodeSampler({ windowMs: 1000 })
    for (const [v, t] of [
      [10, 100],
      [14, 400],
      [12, 900],
    ] as const)
      expect(s.accept(good(v, T0 + t)).samples).toEqual([])
    const [closed] = s.accept(good(20, T0 + 1100)).samples
    expect(closed).toEqual({
      value: 12,
      atMs: T0 + 900,
      key: `window:${new Date(T0).toISOString()}`,
      summary: { count: 3, mean: 12, min: 10, max: 14, fromMs: T0 + 100, toMs: T0 + 900 },
    })
    expect(s.tick(T0 + 1999)).toEqual([])
    expect(s.tick(T0 + 2000).map((x) => x.summary?.count)).toEqual([1])
  })

  it('reports the chosen value of the values since the previous completion, then starts over', () => {
    const s = new NodeSampler({ none: true })
    for (const [v, t] of [
      [5, 1],
      [9, 2],
      [7, 3],
    ] as const)
      s.accept(good(v, T0 + t))
    expect(s.complete('max')).toEqual({ value: 9, atMs: T0 + 3 })
    expect(s.complete('last')).toBeUndefined()
    s.accept(good(4, T0 + 4))
    s.accept(good(8, T0 + 5))
    expect(s.complete('mean')).toEqual({ value: 6, atMs: T0 + 5 })
  })
})

describe('CompletionTrigger', () => {
  it('fires on a Boolean rising edge, including a first true after (re)connecting', () => {
    const t = new CompletionTrigger()
    expect([true, true, false, false, true].map((v) => t.fires(v))).toEqual([true, false, false, false, true])
  })

  it('fires on a counter that moved up; the first value is only a baseline', () => {
    const t = new CompletionTrigger()
    expect([4, 4, 5, 7, 7, 'x'].map((v) => t.fires(v))).toEqual([false, false, true, true, false, false])
  })
})

describe('toDecimal', () => {
  it('writes a plain decimal string (DecimalString: no exponent, at most 9 decimals)', () => {
    expect([12.1, 0.1 + 0.2, 1e-7, -0, 1e21 / 1e6, -3.5].map(toDecimal)).toEqual([
      '12.1',
      '0.3',
      '0.0000001',
      '0',
      '1000000000000000',
      '-3.5',
    ])
  })
})

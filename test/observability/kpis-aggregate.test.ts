import { describe, expect, it } from 'vitest'
import { isQualinkError } from '../../src/contracts/errors.ts'
import {
  AGE_BUCKETS,
  aggregateKpis,
  bucketCounts,
  type CountSample,
  type DurationSample,
  dayRange,
  nearestRank,
  windowSummary,
} from '../../src/observability/kpis.ts'

const at = (iso: string) => Date.parse(iso)
const P100 = { plants: ['P100'] }

describe('KPI aggregation (pure)', () => {
  it('nearest-rank percentiles match the worked example', () => {
    // Wikipedia, "Percentile", nearest-rank method: for {15, 20, 35, 40, 50} the 30th percentile
    // is 20, the 40th 20, the 50th 35 and the 100th 50.
    const v = [15, 20, 35, 40, 50]
    expect(nearestRank(v, 0.3)).toBe(20)
    expect(nearestRank(v, 0.4)).toBe(20)
    expect(nearestRank(v, 0.5)).toBe(35)
    expect(nearestRank(v, 1)).toBe(50)
    expect(nearestRank([], 0.5)).toBeNull()
  })

  it('day ranges are inclusive UTC days; bad ones name the field', () => {
    const r = dayRange(at('2026-11-27T10:00:00Z'), '2026-11-25', '2026-11-27')
    expect(r.days).toEqual(['2026-11-25', '2026-11-26', '2026-11-27'])
    expect(r.toMs - r.fromMs).toBe(3 * 86_400_000)
    expect(dayRange(at('2026-11-27T10:00:00Z')).days).toHaveLength(14)
    const bad = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        expect(isQualinkError(e) && e.code).toBe('QLK_VALIDATION')
        return (e as { errors: Array<{ path: string }> }).errors[0]!.path
      }
      throw new Error('expected a validation error')
    }
    expect(bad(() => dayRange(0, '2026-02-30', '2026-03-01'))).toBe('/querystring/from')
    expect(bad(() => dayRange(0, '2026-03-02', '2026-03-01'))).toBe('/querystring/from')
    expect(bad(() => dayRange(0, '2026-01-01', '2026-12-31'))).toBe('/querystring/from')
    expect(bad(() => dayRange(0, undefined, '26-01-01'))).toBe('/querystring/to')
  })

  it('buckets durations on the day they ended, counts per day, and counts hidden plants', () => {
    const range = dayRange(0, '2026-11-25', '2026-11-26')
    const d = (plant: string, id: string, start: string, end: string): DurationSample => ({
      kpi: 'lotRelease',
      plant,
      id,
      startMs: at(start),
      endMs: at(end),
    })
    const durations = [
      d('P100', 'a', '2026-11-24T23:00:00Z', '2026-11-25T01:00:00Z'), // 7,200 s, ends on the 25th
      d('P100', 'b', '2026-11-25T10:00:00Z', '2026-11-25T10:10:00Z'), // 600 s
      d('P100', 'c', '2026-11-25T10:00:00Z', '2026-11-25T10:01:00Z'), // 60 s
      d('P100', 'z', '2026-11-20T00:00:00Z', '2026-11-27T00:00:00Z'), // outside the range
      d('P200', 'x', '2026-11-26T00:00:00Z', '2026-11-26T00:00:05Z'),
    ]
    const counts: CountSample[] = [
      { kpi: 'deadLetters', plant: 'P100', workflow: 'w1', atMs: at('2026-11-26T08:00:00Z') },
      { kpi: 'deadLetters', plant: 'P100', workflow: 'w2', atMs: at('2026-11-26T09:00:00Z') },
      { kpi: 'driftHealed', plant: 'P100', atMs: at('2026-11-25T09:00:00Z') },
      { kpi: 'deadLetters', plant: 'P200', workflow: 'w1', atMs: at('2026-11-26T09:00:00Z') },
    ]
    const r = aggregateKpis(range, P100, durations, counts)
    expect(r.plants.map((p) => p.plant)).toEqual(['P100'])
    expect(r.outOfScope).toEqual({ plants: 1, samples: 2 })
    const p = r.plants[0]!
    expect(p.lotRelease).toEqual([
      { day: '2026-11-25', count: 3, p50Seconds: 600, p90Seconds: 7200 },
      { day: '2026-11-26', count: 0, p50Seconds: null, p90Seconds: null },
    ])
    expect(p.deadLetters.map((x) => x.count)).toEqual([0, 2])
    expect(p.deadLettersByWorkflow.w2!.map((x) => x.count)).toEqual([0, 1])
    expect(p.driftHealed.map((x) => x.count)).toEqual([1, 0])
    // asking for a plant outside the scope shows nothing and counts it
    const hidden = aggregateKpis(range, P100, durations, counts, 'P200')
    expect(hidden.plants).toEqual([])
    expect(hidden.outOfScope).toEqual({ plants: 1, samples: 2 })
    const all = aggregateKpis(range, { allPlants: true, reason: 'test' }, durations, counts)
    expect(all.plants.map((x) => x.plant)).toEqual(['P100', 'P200'])
    expect(all.outOfScope.samples).toBe(0)
  })

  it('window summary and age buckets', () => {
    const s = windowSummary(
      [
        { kpi: 'capaResponse', plant: 'P1', id: 'a', startMs: 0, endMs: 10_000 },
        { kpi: 'capaResponse', plant: 'P1', id: 'b', startMs: 0, endMs: 30_000 },
        { kpi: 'capaResponse', plant: 'P1', id: 'old', startMs: 0, endMs: 1_000 },
      ],
      5_000,
    )
    expect(s).toEqual([{ plant: 'P1', kpi: 'capaResponse', count: 2, p50: 10, p90: 30 }])
    const h = 3_600_000
    expect(bucketCounts(AGE_BUCKETS, (b) => b.maxMs, [0, h, h + 1, 30 * 24 * h]).map((b) => b.value)).toEqual(
      [2, 1, 0, 0, 0, 1],
    )
  })
})

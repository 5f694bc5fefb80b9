/**
 * The soak's judgement (bench/lib/soak-report.ts): flat saw-tooth series pass, a steady climb fails,
 * warm-up and the drain after the last receipt are not judged, and the holder's recovery is timed
 * from its release. Synthetic samples: no timing is measured here.
 */
import { describe, expect, it } from 'vitest'
import { holderReport, latencyWindows, type SoakSample, verdicts } from '../../bench/lib/soak-report.ts'

function sample(t: number, over: Partial<SoakSample> = {}): SoakSample {
  return {
    t,
    sent: t * 2,
    completed: t * 2 - 2,
    rssMb: 150 + (t % 30 === 0 ? 10 : 0),
    heapUsedMb: 50 + (t % 20) / 2,
    lagP99Ms: 20,
    elu: 0.3,
    deadTuples: 500,
    deadShare: 0.1 + (t % 40) / 400,
    topDead: 'workflow_runs',
    xminAgeOurs: 50,
    xminAgeCluster: 60,
    dbSizeMb: 10 + t / 10,
    vacuums: Math.floor(t / 60),
    ...over,
  }
}

const series = (seconds: number, f: (t: number) => Partial<SoakSample> = () => ({})) =>
  Array.from({ length: seconds / 10 }, (_, i) => sample((i + 1) * 10, f((i + 1) * 10)))

function windowsOf(seconds: number, p99: (t: number) => number) {
  const sentAt = new Map<string, number>()
  const postedAt = new Map<string, number>()
  for (let t = 0; t < seconds; t++) {
    sentAt.set(`b${t}`, t * 1000)
    postedAt.set(`b${t}`, t * 1000 + p99(t))
  }
  return latencyWindows(sentAt, postedAt, 0, 10)
}

describe('soak verdicts', () => {
  it('groups latencies by the 10 s window of their scheduled send and counts the unposted as lost', () => {
    const sentAt = new Map([
      ['a', 1_000],
      ['b', 9_000],
      ['c', 12_000],
      ['d', 15_000],
    ])
    const postedAt = new Map([
      ['a', 1_100],
      ['b', 9_300],
      ['c', 12_050],
    ])
    expect(latencyWindows(sentAt, postedAt, 0, 10)).toEqual([
      { t: 0, receipts: 2, p50: 100, p99: 300, lost: 0 },
      { t: 10, receipts: 2, p50: 50, p99: 50, lost: 1 },
    ])
  })

  it('passes flat saw-tooth series and fails each metric that climbs steadily', () => {
    const flat = verdicts(
      series(300),
      windowsOf(300, () => 100),
      60,
      2,
      300,
    )
    expect(flat.filter((j) => !j.ok).map((j) => j.name)).toEqual([])

    const leaking = verdicts(
      series(300, (t) => ({ rssMb: 150 + t, xminAgeOurs: 50 + t * 100, deadShare: 0.1 + t / 600 })),
      windowsOf(300, (t) => 100 + t * 10),
      60,
      2,
      300,
    )
    expect(leaking.filter((j) => !j.ok).map((j) => j.name.split(',')[0])).toEqual([
      'RSS',
      'receipt → posting p99 per 10 s window',
      'dead tuples',
      'age of the oldest xmin of our sessions',
    ])
    expect(leaking.find((j) => j.name.startsWith('RSS'))!.slopePerMinute).toBeCloseTo(60, 5)
  })

  it('judges dead tuples by count when vacuum runs at a fixed period: a saw-tooth passes, a climb fails', () => {
    const judge = (f: (t: number) => number) =>
      verdicts(
        series(300, (t) => ({ deadTuples: f(t) })),
        windowsOf(300, () => 100),
        60,
        2,
        300,
        'count',
      ).find((j) => j.name === 'dead tuples in the database')!
    expect(judge((t) => 200 + (t % 60) * 30).ok).toBe(true)
    expect(judge((t) => 200 + t * 30).ok).toBe(false)
  })

  it('does not judge the warm-up nor the drain after the last scheduled receipt', () => {
    const samples = series(400, (t) => ({ rssMb: t < 60 || t > 300 ? 1_000 : 150 }))
    const js = verdicts(
      samples,
      windowsOf(300, () => 100),
      60,
      2,
      300,
    )
    expect(js.find((j) => j.name.startsWith('RSS'))).toMatchObject({ first: 150, last: 150, ok: true })
  })
})

describe('idle-in-transaction holder', () => {
  it('times the recovery from the release to the first sample with dead share and p99 back within rule', () => {
    // hold 60..180 s: dead share climbs, p99 rises; released at 180, dead share back at 230, p99 at 210
    const samples = series(400, (t) => ({
      deadShare: t <= 60 ? 0.1 : t <= 180 ? 0.1 + (t - 60) / 300 : t < 230 ? 0.4 : 0.1,
      xminAgeOurs: t > 60 && t <= 180 ? (t - 60) * 100 : 20,
    }))
    const windows = windowsOf(400, (t) => (t >= 60 && t < 210 ? 800 : 100))
    const h = holderReport(samples, windows, 60, 180)
    expect(h.before).toEqual({ deadShare: 0.1, deadTuples: 500, p99: 100, xminAge: 20 })
    expect(h.peak.deadShare).toBeCloseTo(0.5, 5)
    expect(h.peak.p99).toBe(800)
    expect(h.peak.xminAge).toBe(12_000)
    expect(h.recoverySeconds).toBe(50)
    expect(h.ok).toBe(true)
  })

  it('with vacuum at a fixed period, waits for the dead-tuple count to come back', () => {
    // hold 60..120 s: dead tuples climb to 8,750; the next vacuum (at 180 s) brings them back
    const samples = series(300, (t) => ({ deadTuples: t <= 60 ? 500 : t < 180 ? 500 + (t - 60) * 75 : 400 }))
    const h = holderReport(
      samples,
      windowsOf(300, () => 100),
      60,
      120,
      'count',
    )
    expect(h.peak.deadTuples).toBe(8_750)
    expect(h.recoverySeconds).toBe(60)
    expect(h.ok).toBe(true)
  })

  it('fails when the dead share never comes back within the run', () => {
    const samples = series(300, (t) => ({ deadShare: t <= 60 ? 0.1 : 0.6 }))
    const h = holderReport(
      samples,
      windowsOf(300, () => 100),
      60,
      120,
    )
    expect(h).toMatchObject({ recoverySeconds: null, ok: false })
  })
})

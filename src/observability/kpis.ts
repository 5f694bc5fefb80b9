import { QualinkError } from '../contracts/errors.ts'
import { type Scope, scopeIncludes } from '../store/types.ts'

/**
 * Outcome KPIs a plant manager reports on, per plant and UTC day: pure aggregation over the
 * samples src/observability/kpis-queries.ts reads from the store. Durations are bucketed on the
 * day they ended (the day the lot was released, the NC dispositioned, the CAPA closed), as a
 * monthly quality report counts closures.
 */
export const DURATION_KPIS = ['lotRelease', 'ncContainment', 'capaResponse'] as const
export type DurationKpi = (typeof DURATION_KPIS)[number]
export const COUNT_KPIS = ['driftHealed', 'deadLetters'] as const
export type CountKpi = (typeof COUNT_KPIS)[number]

export interface DurationSample {
  readonly kpi: DurationKpi
  readonly plant: string
  /** what makes one sample unique (run id, NC id, CAPA id) */
  readonly id: string
  readonly startMs: number
  readonly endMs: number
}

export interface CountSample {
  readonly kpi: CountKpi
  readonly plant: string
  readonly atMs: number
  /** dead letters: the workflow whose run died */
  readonly workflow?: string
}

export interface DurationDay {
  readonly day: string
  readonly count: number
  readonly p50Seconds: number | null
  readonly p90Seconds: number | null
}

export interface CountDay {
  readonly day: string
  readonly count: number
}

export interface PlantKpis {
  readonly plant: string
  readonly lotRelease: DurationDay[]
  readonly ncContainment: DurationDay[]
  readonly capaResponse: DurationDay[]
  readonly driftHealed: CountDay[]
  readonly deadLetters: CountDay[]
  /** dead letters opened per day and workflow */
  readonly deadLettersByWorkflow: Record<string, CountDay[]>
}

export interface KpiReport {
  readonly from: string
  readonly to: string
  readonly days: string[]
  readonly plants: PlantKpis[]
  /** samples of plants outside the caller's scope: counted, never shown */
  readonly outOfScope: { readonly plants: number; readonly samples: number }
}

export const MAX_RANGE_DAYS = 92
const DAY_MS = 86_400_000
const DAY = /^\d{4}-\d{2}-\d{2}$/

export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

function dayStart(day: string, field: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`)
  if (!DAY.test(day) || Number.isNaN(ms) || dayOf(ms) !== day)
    throw new QualinkError('QLK_VALIDATION', `${field} must be a calendar date YYYY-MM-DD`, [
      { path: `/querystring/${field}`, message: `${day} is not a date in YYYY-MM-DD` },
    ])
  return ms
}

export interface DayRange {
  readonly from: string
  readonly to: string
  readonly days: string[]
  /** first millisecond of `from` (UTC) */
  readonly fromMs: number
  /** first millisecond after `to` (UTC) */
  readonly toMs: number
}

/** `from`..`to` inclusive (UTC days); defaults: the 14 days ending on the day of `nowMs`. */
export function dayRange(nowMs: number, from?: string, to?: string): DayRange {
  const toDay = to ?? dayOf(nowMs)
  const end = dayStart(toDay, 'to')
  const fromDay = from ?? dayOf(end - 13 * DAY_MS)
  const start = dayStart(fromDay, 'from')
  if (start > end)
    throw new QualinkError('QLK_VALIDATION', 'from must not be after to', [
      { path: '/querystring/from', message: `${fromDay} is after ${toDay}` },
    ])
  const n = (end - start) / DAY_MS + 1
  if (n > MAX_RANGE_DAYS)
    throw new QualinkError('QLK_VALIDATION', `the range may span at most ${MAX_RANGE_DAYS} days`, [
      { path: '/querystring/from', message: `${fromDay}..${toDay} spans ${n} days` },
    ])
  const days = Array.from({ length: n }, (_, i) => dayOf(start + i * DAY_MS))
  return { from: fromDay, to: toDay, days, fromMs: start, toMs: end + DAY_MS }
}

/**
 * Nearest-rank percentile: the smallest sample with at least p of the samples at or below it
 * (https://en.wikipedia.org/wiki/Percentile#The_nearest-rank_method). Always an observed value,
 * so a day with two releases reports one of the two, never an interpolation neither lot had.
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!
}

function durationDays(days: readonly string[], samples: readonly DurationSample[]): DurationDay[] {
  const byDay = new Map<string, number[]>()
  for (const s of samples) {
    const d = dayOf(s.endMs)
    const list = byDay.get(d) ?? []
    list.push(Math.max(0, (s.endMs - s.startMs) / 1000))
    byDay.set(d, list)
  }
  return days.map((day) => {
    const v = (byDay.get(day) ?? []).sort((a, b) => a - b)
    return { day, count: v.length, p50Seconds: nearestRank(v, 0.5), p90Seconds: nearestRank(v, 0.9) }
  })
}

function countDays(days: readonly string[], samples: readonly CountSample[]): CountDay[] {
  const byDay = new Map<string, number>()
  for (const s of samples) byDay.set(dayOf(s.atMs), (byDay.get(dayOf(s.atMs)) ?? 0) + 1)
  return days.map((day) => ({ day, count: byDay.get(day) ?? 0 }))
}

/**
 * The report for the plants the caller may see. `plant` narrows it to one plant (a plant outside
 * the scope then yields no rows, only its count). Samples outside the range are ignored.
 */
export function aggregateKpis(
  range: DayRange,
  scope: Scope,
  durations: readonly DurationSample[],
  counts: readonly CountSample[],
  plant?: string,
): KpiReport {
  const inRange = (ms: number) => ms >= range.fromMs && ms < range.toMs
  const wanted = (p: string) => plant === undefined || p === plant
  const d = durations.filter((s) => inRange(s.endMs) && wanted(s.plant))
  const c = counts.filter((s) => inRange(s.atMs) && wanted(s.plant))
  const hidden = new Set<string>()
  let hiddenSamples = 0
  for (const s of [...d, ...c])
    if (!scopeIncludes(scope, s.plant)) {
      hidden.add(s.plant)
      hiddenSamples++
    }
  const plants = new Set<string>()
  if (plant !== undefined) {
    if (scopeIncludes(scope, plant)) plants.add(plant)
  } else if ('plants' in scope) for (const p of scope.plants) plants.add(p)
  for (const s of [...d, ...c]) if (scopeIncludes(scope, s.plant)) plants.add(s.plant)
  return {
    from: range.from,
    to: range.to,
    days: range.days,
    plants: [...plants].sort().map((p) => {
      const dp = d.filter((s) => s.plant === p)
      const cp = c.filter((s) => s.plant === p)
      const dead = cp.filter((s) => s.kpi === 'deadLetters')
      const workflows = [...new Set(dead.map((s) => s.workflow ?? 'unknown'))].sort()
      return {
        plant: p,
        lotRelease: durationDays(
          range.days,
          dp.filter((s) => s.kpi === 'lotRelease'),
        ),
        ncContainment: durationDays(
          range.days,
          dp.filter((s) => s.kpi === 'ncContainment'),
        ),
        capaResponse: durationDays(
          range.days,
          dp.filter((s) => s.kpi === 'capaResponse'),
        ),
        driftHealed: countDays(
          range.days,
          cp.filter((s) => s.kpi === 'driftHealed'),
        ),
        deadLetters: countDays(range.days, dead),
        deadLettersByWorkflow: Object.fromEntries(
          workflows.map((w) => [
            w,
            countDays(
              range.days,
              dead.filter((s) => (s.workflow ?? 'unknown') === w),
            ),
          ]),
        ),
      }
    }),
    outOfScope: { plants: hidden.size, samples: hiddenSamples },
  }
}

/** Durations over a trailing window, for the gauges: count and nearest-rank p50/p90 per plant. */
export function windowSummary(
  samples: readonly DurationSample[],
  sinceMs: number,
): Array<{ plant: string; kpi: DurationKpi; count: number; p50: number; p90: number }> {
  const groups = new Map<string, number[]>()
  for (const s of samples) {
    if (s.endMs < sinceMs) continue
    const k = `${s.plant}\u0000${s.kpi}`
    const list = groups.get(k) ?? []
    list.push(Math.max(0, (s.endMs - s.startMs) / 1000))
    groups.set(k, list)
  }
  return [...groups].map(([k, v]) => {
    const [plant, kpi] = k.split('\u0000') as [string, DurationKpi]
    v.sort((a, b) => a - b)
    return { plant, kpi, count: v.length, p50: nearestRank(v, 0.5)!, p90: nearestRank(v, 0.9)! }
  })
}

/** Age buckets of the overview's hold-aging chart: upper bounds in ms, the last open-ended. */
export const AGE_BUCKETS: ReadonlyArray<{ readonly label: string; readonly maxMs: number }> = [
  { label: '<1h', maxMs: 3_600_000 },
  { label: '1-4h', maxMs: 4 * 3_600_000 },
  { label: '4-24h', maxMs: DAY_MS },
  { label: '1-3d', maxMs: 3 * DAY_MS },
  { label: '3-7d', maxMs: 7 * DAY_MS },
  { label: '>7d', maxMs: Number.POSITIVE_INFINITY },
]

/** Business latency buckets of the overview's leg charts, in seconds (coarser than LEG_BUCKETS). */
export const LATENCY_BUCKETS: ReadonlyArray<{ readonly label: string; readonly maxS: number }> = [
  { label: '<1m', maxS: 60 },
  { label: '1-15m', maxS: 900 },
  { label: '15m-1h', maxS: 3600 },
  { label: '1-8h', maxS: 8 * 3600 },
  { label: '8-24h', maxS: 86_400 },
  { label: '>1d', maxS: Number.POSITIVE_INFINITY },
]

/** How many values fall in each bucket (a value equal to a bound falls in that bucket). */
export function bucketCounts<B extends { readonly label: string }>(
  buckets: readonly B[],
  bound: (b: B) => number,
  values: readonly number[],
): Array<{ label: string; value: number }> {
  const out = buckets.map((b) => ({ label: b.label, value: 0 }))
  for (const v of values) {
    const i = buckets.findIndex((b) => v <= bound(b))
    out[i === -1 ? out.length - 1 : i]!.value++
  }
  return out
}

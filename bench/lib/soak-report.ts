/**
 * The soak's samples, its table and its verdict (bench/soak.ts).
 *
 * How drift is judged: samples taken during the warm-up (the first `warmupSeconds`: JIT, pools, the
 * first autovacuum) are left out; of the rest, the median of the first third (A) is compared with
 * the median of the last third (C). A metric FAILs when C > A × factor + slack (the rule of each is
 * printed beside it). Medians of thirds rather than first and last samples, because heap, dead
 * tuples and latency saw-tooth (GC, autovacuum) and one sample says little; a leak or a stuck
 * horizon grows steadily and shows as C well above A whatever the phase of the saw-tooth. The
 * least-squares slope over the steady samples is printed beside it, per minute, for information.
 */
import { fmt, median, percentile } from './stats.ts'

export interface SoakSample {
  /** seconds since the open loop started */
  readonly t: number
  /** receipts sent so far, workflows completed so far (the system's count) */
  readonly sent: number
  readonly completed: number
  readonly rssMb: number
  readonly heapUsedMb: number
  readonly lagP99Ms: number
  readonly elu: number
  /** sum over the database's tables of pg_stat_user_tables.n_dead_tup, and their dead share */
  readonly deadTuples: number
  readonly deadShare: number
  /** the table with most dead tuples now */
  readonly topDead: string
  /** age in transaction ids of the oldest backend_xmin: sessions on our database, and the cluster's */
  readonly xminAgeOurs: number
  readonly xminAgeCluster: number
  readonly dbSizeMb: number
  /** vacuums of the database's tables so far (pg_stat_user_tables vacuum_count + autovacuum_count) */
  readonly vacuums: number
}

export interface Window {
  /** start of the window, seconds since the open loop started (by scheduled send time) */
  readonly t: number
  readonly receipts: number
  readonly p50: number
  readonly p99: number
  readonly lost: number
}

/** Receipt → posting latencies grouped by the 10 s window in which each receipt was scheduled. */
export function latencyWindows(
  sentAt: ReadonlyMap<string, number>,
  postedAt: ReadonlyMap<string, number>,
  t0: number,
  windowSeconds: number,
): Window[] {
  const by = new Map<number, { ms: number[]; lost: number }>()
  for (const [batch, sent] of sentAt) {
    const k = Math.floor((sent - t0) / 1000 / windowSeconds)
    const w = by.get(k) ?? { ms: [], lost: 0 }
    by.set(k, w)
    const at = postedAt.get(batch)
    if (at === undefined) w.lost++
    else w.ms.push(at - sent)
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, w]) => ({
      t: k * windowSeconds,
      receipts: w.ms.length + w.lost,
      p50: percentile(w.ms, 50),
      p99: percentile(w.ms, 99),
      lost: w.lost,
    }))
}

interface Rule {
  readonly name: string
  readonly unit: string
  readonly factor: number
  readonly slack: number
  readonly why: string
  readonly digits?: number
}

export interface Judgement {
  readonly name: string
  readonly first: number
  readonly last: number
  readonly slopePerMinute: number
  readonly rule: string
  readonly ok: boolean
}

function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length
  if (n < 2) return Number.NaN
  const mx = points.reduce((a, p) => a + p[0], 0) / n
  const my = points.reduce((a, p) => a + p[1], 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den === 0 ? Number.NaN : num / den
}

/** C (median of the last third) against A (median of the first third) of the steady points. */
function judge(rule: Rule, points: ReadonlyArray<readonly [number, number]>): Judgement {
  const third = Math.max(1, Math.floor(points.length / 3))
  const a = median(points.slice(0, third).map((p) => p[1]))
  const c = median(points.slice(-third).map((p) => p[1]))
  const limit = a * rule.factor + rule.slack
  return {
    name: rule.name,
    first: a,
    last: c,
    slopePerMinute: slope(points) * 60,
    rule: `last ≤ first × ${rule.factor}${rule.slack ? ` + ${fmt(rule.slack, rule.digits ?? 0)}${rule.unit ? ` ${rule.unit}` : ''}` : ''} (${rule.why})`,
    ok: points.length >= 3 && c <= limit,
  }
}

export function verdicts(
  samples: readonly SoakSample[],
  windows: readonly Window[],
  warmupSeconds: number,
  ratePerSecond: number,
  /** when the last receipt was scheduled: samples after it see the drain, not the load */
  endSeconds: number,
  /**
   * 'count' when vacuum runs at a fixed period (the soak's own, autovacuum being off): the dead
   * tuples saw-tooth between vacuums and a held horizon makes them climb. 'share' under autovacuum,
   * whose trigger scales with each table (50 rows + 20 % of live rows), so counts grow with the data.
   */
  dead: 'count' | 'share' = 'share',
): Judgement[] {
  const steady = samples.filter((s) => s.t >= warmupSeconds && s.t <= endSeconds + 1)
  const pts = (f: (s: SoakSample) => number) => steady.map((s) => [s.t, f(s)] as const)
  const steadyWindows = windows.filter((w) => w.t >= warmupSeconds && w.t < endSeconds && w.receipts > 0)
  const rules: Array<[Rule, ReadonlyArray<readonly [number, number]>]> = [
    [
      { name: 'RSS, MB', unit: 'MB', factor: 1.1, slack: 0, why: 'a leak grows it steadily' },
      pts((s) => s.rssMb),
    ],
    [
      { name: 'V8 heap used, MB', unit: 'MB', factor: 1.2, slack: 0, why: 'GC saw-tooth allowed' },
      pts((s) => s.heapUsedMb),
    ],
    [
      {
        name: 'event-loop delay p99 per sample, ms',
        unit: 'ms',
        factor: 2,
        slack: 10,
        why: '10 ms: the histogram resolution',
      },
      pts((s) => s.lagP99Ms),
    ],
    [
      {
        name: 'receipt → posting p99 per 10 s window, ms',
        unit: 'ms',
        factor: 2,
        slack: 0,
        why: "B8's p99 ≤ 2× baseline",
      },
      steadyWindows.map((w) => [w.t, w.p99] as const),
    ],
    [
      {
        name: 'backlog (receipts sent − workflows completed)',
        unit: 'workflows',
        factor: 2,
        slack: Math.ceil(ratePerSecond),
        why: 'one second of receipts: a system that keeps up holds a flat backlog (rate × latency)',
      },
      pts((s) => s.sent - s.completed),
    ],
    dead === 'share'
      ? [
          {
            name: 'dead tuples, share of all tuples in the database',
            unit: '',
            factor: 1.5,
            slack: 0.05,
            digits: 2,
            why: 'autovacuum keeps each table near its own trigger, 20 % of live rows',
          },
          pts((s) => s.deadShare),
        ]
      : [
          {
            name: 'dead tuples in the database',
            unit: 'tuples',
            factor: 2,
            slack: 1_000,
            why: 'vacuumed at a fixed period: a saw-tooth of one period of updates',
          },
          pts((s) => s.deadTuples),
        ],
    [
      {
        name: 'age of the oldest xmin of our sessions, xids',
        unit: 'xids',
        factor: 2,
        slack: 1_000,
        why: 'a held snapshot grows it by every xid the cluster assigns',
      },
      pts((s) => s.xminAgeOurs),
    ],
  ]
  return rules.map(([r, p]) => judge(r, p))
}

const mb = (x: number) => fmt(x, 0)

export function sampleTable(samples: readonly SoakSample[], windows: readonly Window[]): string {
  const rows = [
    '| t s | sent | done | wf/s in window | receipts in window | p50 / p99 ms | RSS MB | heap MB | loop delay p99 ms | loop busy | dead tuples (share; most in) | vacuums | oldest xmin age ours / cluster | DB MB |',
    '|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---|---:|',
  ]
  let prev: SoakSample | undefined
  for (const s of samples) {
    const dt = prev ? s.t - prev.t : s.t
    const done = prev ? s.completed - prev.completed : s.completed
    // the window of latencies whose receipts were scheduled in (prev.t, s.t]
    const ws = windows.filter((w) => w.t >= (prev?.t ?? 0) && w.t < s.t)
    const p = (f: (w: Window) => number) => (ws.length ? fmt(Math.max(...ws.map(f)), 0) : '–')
    rows.push(
      `| ${fmt(s.t)} | ${s.sent} | ${s.completed} | ${fmt(done / dt, 1)} | ${ws.reduce((a, w) => a + w.receipts, 0)} | ${p((w) => w.p50)} / ${p((w) => w.p99)} | ${mb(s.rssMb)} | ${mb(s.heapUsedMb)} | ${fmt(s.lagP99Ms, 1)} | ${fmt(s.elu * 100)} % | ${s.deadTuples} (${fmt(s.deadShare * 100, 1)} %; ${s.topDead}) | ${s.vacuums} | ${s.xminAgeOurs} / ${s.xminAgeCluster} | ${mb(s.dbSizeMb)} |`,
    )
    prev = s
  }
  return rows.join('\n')
}

export function verdictTable(js: readonly Judgement[]): string {
  const d = (j: Judgement, x: number) => fmt(x, j.name.startsWith('dead tuples,') ? 3 : 1)
  return [
    '| Metric | First third (median) | Last third (median) | Slope per minute | Rule | Result |',
    '|---|---:|---:|---:|---|---|',
    ...js.map(
      (j) =>
        `| ${j.name} | ${d(j, j.first)} | ${d(j, j.last)} | ${d(j, j.slopePerMinute)} | ${j.rule} | ${j.ok ? 'PASS' : 'FAIL'} |`,
    ),
  ].join('\n')
}

export interface HolderReport {
  readonly start: number
  readonly end: number
  readonly dead: 'count' | 'share'
  readonly before: { deadShare: number; deadTuples: number; p99: number; xminAge: number }
  readonly peak: { deadShare: number; deadTuples: number; p99: number; xminAge: number }
  /** seconds from the holder's release until dead share and p99 were back within their rules */
  readonly recoverySeconds: number | null
  readonly ok: boolean
}

export const RECOVERY_TARGET_SECONDS = 300

/**
 * B8's idle-in-transaction holder: a session that kept one snapshot open from `start` to `end`
 * (seconds since the open loop started). Baseline = the samples and windows of the minute before it;
 * peak = the worst during it and until recovery; recovered = the first sample after the release
 * whose dead share is ≤ baseline × 1.5 + 0.05 and whose latest complete 10 s window has p99 ≤ 2 ×
 * the baseline's (B8: p99 ≤ 2× baseline; recovery ≤ 5 min). With `dead` = 'count' (vacuum at a fixed
 * period), dead tuples are back when their count is ≤ 2 × the baseline's median + 1,000 instead.
 */
export function holderReport(
  samples: readonly SoakSample[],
  windows: readonly Window[],
  start: number,
  end: number,
  dead: 'count' | 'share' = 'share',
): HolderReport {
  const base = samples.filter((s) => s.t >= start - 60 && s.t <= start)
  const baseWin = windows.filter((w) => w.t >= start - 60 && w.t + 10 <= start && w.receipts > 0)
  const before = {
    deadShare: median(base.map((s) => s.deadShare)),
    deadTuples: median(base.map((s) => s.deadTuples)),
    p99: median(baseWin.map((w) => w.p99)),
    xminAge: median(base.map((s) => s.xminAgeOurs)),
  }
  const during = samples.filter((s) => s.t > start)
  const duringWin = windows.filter((w) => w.t + 10 > start && w.receipts > 0)
  const peak = {
    deadShare: Math.max(...during.map((s) => s.deadShare)),
    deadTuples: Math.max(...during.map((s) => s.deadTuples)),
    p99: Math.max(...duringWin.map((w) => w.p99)),
    xminAge: Math.max(...during.map((s) => s.xminAgeOurs)),
  }
  let recoverySeconds: number | null = null
  for (const s of samples.filter((x) => x.t >= end)) {
    const last = windows.filter((w) => w.t + 10 <= s.t && w.receipts > 0).at(-1)
    const deadOk =
      dead === 'count'
        ? s.deadTuples <= before.deadTuples * 2 + 1_000
        : s.deadShare <= before.deadShare * 1.5 + 0.05
    const p99Ok = last !== undefined && last.t >= end && last.p99 <= 2 * before.p99
    if (deadOk && p99Ok) {
      recoverySeconds = s.t - end
      break
    }
  }
  return {
    start,
    end,
    dead,
    before,
    peak,
    recoverySeconds,
    ok: recoverySeconds !== null && recoverySeconds <= RECOVERY_TARGET_SECONDS,
  }
}

export function holderTable(h: HolderReport): string {
  const pct = (x: number) => `${fmt(x * 100, 1)} %`
  return [
    `Idle-in-transaction holder: one session on Qualink's database ran BEGIN ISOLATION LEVEL REPEATABLE READ and one SELECT, then sat idle in that transaction from t = ${fmt(h.start)} s to ${fmt(h.end)} s (its snapshot holds the xmin horizon: vacuum may remove no tuple that died after it began).`,
    '',
    '| What | Minute before | Worst from the hold on | Rule after the release | Result |',
    '|---|---:|---:|---|---|',
    h.dead === 'count'
      ? `| dead tuples (share of all) | ${fmt(h.before.deadTuples)} (${pct(h.before.deadShare)}) | ${fmt(h.peak.deadTuples)} (${pct(h.peak.deadShare)}) | count ≤ before × 2 + 1,000 | — |`
      : `| dead tuples, share of all | ${pct(h.before.deadShare)} | ${pct(h.peak.deadShare)} (${h.peak.deadTuples} tuples) | ≤ before × 1.5 + 5 points | — |`,
    `| receipt → posting p99 per 10 s window, ms | ${fmt(h.before.p99)} | ${fmt(h.peak.p99)} | ≤ 2 × before | — |`,
    `| oldest xmin age of our sessions, xids | ${fmt(h.before.xminAge)} | ${fmt(h.peak.xminAge)} | information | — |`,
    `| time to recover (both rules met at a sample) | | ${h.recoverySeconds === null ? 'not within the run' : `${fmt(h.recoverySeconds)} s after the release`} | ≤ ${RECOVERY_TARGET_SECONDS} s (B8) | ${h.ok ? 'PASS' : 'FAIL'} |`,
  ].join('\n')
}

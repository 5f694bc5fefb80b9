/**
 * Kernel II benchmark (issue 3): the durable execution engine.
 *
 * 1. Backlog drain: N no-op runs (one no-op step each) preloaded through appendEvents, whose
 *    routing inserts the runs in the append transaction; then an engine is started and timed
 *    until the N-th run is completed. Baseline in the same run: graphile-worker 0.17.3 draining
 *    N no-op jobs (added with its add_jobs) in its own fresh database, same concurrency.
 * 2. Idle latency: an idle engine as the server ships it; one event appended at a time at a
 *    fixed open-loop rate, engine.wake() after the append as the server's onResponse hook does;
 *    latency = append committed → the step function starts. Baseline: graphile-worker add_job →
 *    task start (its LISTEN/NOTIFY path), same rate.
 *
 * Every measurement runs `--runs` times (default 3) in a fresh database or temp directory and the
 * median is reported; our runs and the baseline's alternate so drift on the box hits both.
 *
 * Run: npx tsx bench/engine.ts [--dialect sqlite|postgres|both] [--quick] [--runs N] [--drain-seconds S]
 *      (or npm run bench -- engine …). Needs PostgreSQL at QUALINK_BENCH_PG_URL
 *      (default postgres://postgres@127.0.0.1:5432/postgres) for the postgres dialect.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { graphileDrain, graphileLatency } from './lib/engine-graphile.ts'
import {
  type Dialect,
  DRAIN_CONCURRENCY,
  type DrainResult,
  type LatencyResult,
  preloadBacklog,
  qualinkDrain,
  qualinkLatency,
} from './lib/engine-qualink.ts'
import { describeMachine, fmt, type Machine, median } from './lib/engine-support.ts'
import { describeMachine as describeBox } from './lib/machine.ts'
import { writeReadmeSection, writeResultsRow } from './lib/readme.ts'

const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const HERE = path.dirname(fileURLToPath(import.meta.url))
/** Engine defaults as src/server/qualink.ts runs them: concurrency 8, pollMs 100, lease 30 s. */
const SHIPPED_CONCURRENCY = 8
const LATENCY_RATE = 20
const LATENCY_WARMUP = 10
/** Issue 12's later targets, reported as information only (issue 3 has no numeric target). */
const TARGET_P50_MS = 10
const TARGET_STEPS_PER_S = 5_000

interface Options {
  readonly dialects: Dialect[]
  readonly quick: boolean
  readonly reps: number
  /** `--drain-seconds`: the drain window; long enough, the whole backlog drains */
  readonly drainSeconds?: number
}

interface Plan {
  readonly backlog: number
  /** a drain is timed until the backlog is empty or this window closes */
  readonly drainWindowSeconds: number
  readonly latencySeconds: number
}

function parseArgs(argv: readonly string[]): Options {
  let dialect = 'both'
  let quick = false
  let reps = 3
  let drainSeconds: number | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--quick') quick = true
    else if (a === '--dialect') dialect = argv[++i] ?? ''
    else if (a === '--runs') reps = Number(argv[++i])
    else if (a === '--drain-seconds') drainSeconds = Number(argv[++i])
    else
      throw new Error(
        `unknown argument ${a}; usage: engine.ts [--dialect sqlite|postgres|both] [--quick] [--runs N] [--drain-seconds S]`,
      )
  }
  if (!['sqlite', 'postgres', 'both'].includes(dialect))
    throw new Error(`--dialect must be sqlite, postgres or both, not '${dialect}'`)
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--runs must be a positive integer')
  if (drainSeconds !== undefined && !(Number.isFinite(drainSeconds) && drainSeconds > 0))
    throw new Error('--drain-seconds must be a positive number of seconds')
  const dialects: Dialect[] = dialect === 'both' ? ['sqlite', 'postgres'] : [dialect as Dialect]
  return { dialects, quick, reps, drainSeconds }
}

const log = (s: string) => process.stderr.write(`${s}\n`)

interface Series<T> {
  readonly reps: T[]
}

interface DialectResult {
  readonly dialect: Dialect
  preloadSeconds?: number
  readonly drain: Series<DrainResult>
  readonly latency: Series<LatencyResult>
  readonly graphileDrain?: Series<DrainResult>
  readonly graphileLatency?: Series<LatencyResult>
}

const drainRate = (s: Series<DrainResult>) => median(s.reps.map((r) => r.runsPerSecond))
const p50 = (s: Series<LatencyResult>) => median(s.reps.map((r) => r.p50Ms))
const p99 = (s: Series<LatencyResult>) => median(s.reps.map((r) => r.p99Ms))

async function measure(dialect: Dialect, plan: Plan, reps: number): Promise<DialectResult> {
  const out: DialectResult = {
    dialect,
    drain: { reps: [] },
    latency: { reps: [] },
    ...(dialect === 'postgres' ? { graphileDrain: { reps: [] }, graphileLatency: { reps: [] } } : {}),
  }
  const rate = (r: DrainResult) =>
    `${fmt(r.runsPerSecond)}/s (${fmt(r.completed)} in ${fmt(r.seconds, 1)} s${r.drained ? ', drained' : ''}; start ${fmt(r.startSeconds, 2)} s) ${JSON.stringify(r.otherOutcomes)}`
  const backlog = await preloadBacklog(dialect, ADMIN_URL, plan.backlog)
  out.preloadSeconds = backlog.preloadSeconds
  log(
    `${dialect} backlog: ${fmt(plan.backlog)} events appended (runs routed) in ${fmt(backlog.preloadSeconds, 1)} s`,
  )
  try {
    for (let i = 1; i <= reps; i++) {
      const ours = await qualinkDrain(backlog, DRAIN_CONCURRENCY, plan.drainWindowSeconds)
      out.drain.reps.push(ours)
      log(`${dialect} drain ${i}/${reps}: qualink ${rate(ours)}`)
      if (out.graphileDrain) {
        const gw = await graphileDrain(ADMIN_URL, plan.backlog, DRAIN_CONCURRENCY, plan.drainWindowSeconds)
        out.graphileDrain.reps.push(gw)
        log(`${dialect} drain ${i}/${reps}: graphile-worker ${rate(gw)}; add_jobs ${fmt(gw.addSeconds, 2)} s`)
      }
    }
  } finally {
    await backlog.drop()
  }
  const lat = (r: LatencyResult) => `p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms (${r.samples})`
  for (let i = 1; i <= reps; i++) {
    const ours = await qualinkLatency(dialect, ADMIN_URL, LATENCY_RATE, plan.latencySeconds, LATENCY_WARMUP)
    out.latency.reps.push(ours)
    log(`${dialect} latency ${i}/${reps}: qualink ${lat(ours)}`)
    if (out.graphileLatency) {
      const gw = await graphileLatency(
        ADMIN_URL,
        LATENCY_RATE,
        plan.latencySeconds,
        LATENCY_WARMUP,
        SHIPPED_CONCURRENCY,
      )
      out.graphileLatency.reps.push(gw)
      log(`${dialect} latency ${i}/${reps}: graphile-worker ${lat(gw)}`)
    }
  }
  return out
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL')

function table(results: readonly DialectResult[], plan: Plan): string {
  const rows: string[] = [
    '| Measurement | Qualink | graphile-worker 0.17.3 (PostgreSQL) | Qualink ÷ baseline | Issue 12 target (info) |',
    '|---|---|---|---|---|',
  ]
  const pg = results.find((r) => r.dialect === 'postgres')
  const gwRate = pg?.graphileDrain ? drainRate(pg.graphileDrain) : Number.NaN
  const gwP50 = pg?.graphileLatency ? p50(pg.graphileLatency) : Number.NaN
  const gwP99 = pg?.graphileLatency ? p99(pg.graphileLatency) : Number.NaN
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${fmt(a / b, 2)}×` : 'n/a')
  for (const r of results) {
    const d = r.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'
    const rate = drainRate(r.drain)
    rows.push(
      `| Backlog drain, ${fmt(plan.backlog)} no-op runs, steps/s (${d}) | ${fmt(rate)} | ${fmt(gwRate)} jobs/s | ${ratio(rate, gwRate)} | ≥ ${fmt(TARGET_STEPS_PER_S)}: ${verdict(rate >= TARGET_STEPS_PER_S)} |`,
    )
  }
  for (const r of results) {
    const d = r.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'
    const a = p50(r.latency)
    const b = p99(r.latency)
    rows.push(
      `| Idle latency p50, ms (${d}) | ${fmt(a, 2)} | ${fmt(gwP50, 2)} | ${ratio(a, gwP50)} | ≤ ${TARGET_P50_MS}: ${verdict(a <= TARGET_P50_MS)} |`,
      `| Idle latency p99, ms (${d}) | ${fmt(b, 2)} | ${fmt(gwP99, 2)} | ${ratio(b, gwP99)} | — |`,
    )
  }
  return rows.join('\n')
}

function perRep(results: readonly DialectResult[]): string {
  const lines: string[] = []
  const list = (xs: readonly number[], d = 0) => xs.map((x) => fmt(x, d)).join(' / ')
  const drains = (xs: readonly DrainResult[]) =>
    xs
      .map(
        (x) =>
          `${fmt(x.runsPerSecond)} (${fmt(x.completed)} in ${fmt(x.seconds, 1)} s${x.drained ? ', all' : ''})`,
      )
      .join(' / ')
  for (const r of results) {
    lines.push(
      `- ${r.dialect} drain runs/s: ${drains(r.drain.reps)}; start() took ${list(
        r.drain.reps.map((x) => x.startSeconds),
        2,
      )} s; backlog preload ${fmt(r.preloadSeconds ?? Number.NaN, 1)} s (${fmt(r.drain.reps[0]?.backlog ?? 0)} events through appendEvents, once)`,
    )
    if (r.graphileDrain) lines.push(`- graphile-worker drain jobs/s: ${drains(r.graphileDrain.reps)}`)
    lines.push(
      `- ${r.dialect} latency p50/p99 ms: ${r.latency.reps.map((x) => `${fmt(x.p50Ms, 2)}/${fmt(x.p99Ms, 2)}`).join(', ')} (samples ${r.latency.reps[0]?.samples ?? 0} each)`,
    )
    if (r.graphileLatency)
      lines.push(
        `- graphile-worker latency p50/p99 ms: ${r.graphileLatency.reps.map((x) => `${fmt(x.p50Ms, 2)}/${fmt(x.p99Ms, 2)}`).join(', ')}`,
      )
  }
  return lines.join('\n')
}

function machineLine(m: Machine): string {
  const pg = m.postgres
    ? `PostgreSQL ${m.postgres.version} (local, loopback TCP; fsync=${m.postgres.settings.fsync}, synchronous_commit=${m.postgres.settings.synchronous_commit}, wal_sync_method=${m.postgres.settings.wal_sync_method}, shared_buffers=${m.postgres.settings.shared_buffers})`
    : 'PostgreSQL not measured'
  return `Machine: ${m.cpuModel}, nproc ${m.nproc}, ${m.memGiB} GiB, Node ${m.node}, ${pg}; SQLite via better-sqlite3 (WAL, synchronous=FULL) on the temp directory's disk; load average at start ${m.loadAvgAtStart.join(' ')}; ${m.date}.`
}

function method(plan: Plan, reps: number): string {
  return `Run: \`npm run bench -- engine\` (or \`npx tsx bench/engine.ts [--dialect sqlite|postgres|both] [--quick] [--runs N] [--drain-seconds S]\`); raw numbers in \`bench/results/engine-<dialect>.json\`.
The drain above is timed over a ${plan.drainWindowSeconds} s window of the ${fmt(plan.backlog)} backlog (\`--drain-seconds S\` sets the window; long enough, each repetition drains the whole backlog, which at the rates above takes minutes per system).

How it was measured (each cell is the median of ${reps} repetitions, each in a fresh database or temp directory; ours and the baseline alternate):
- **Backlog drain.** ${fmt(plan.backlog)} \`qualink.test.pinged.v1\` events appended once through \`store.appendEvents\` in batches of 2,000; routing creates one pending run per event (keyed by event id) in the append transaction. Each repetition starts on its own copy of that backlog (\`CREATE DATABASE … TEMPLATE\` on PostgreSQL, a file copy on SQLite): an \`Engine\` with concurrency ${DRAIN_CONCURRENCY} (PostgreSQL pool as shipped: 10), timed from \`start()\` until the backlog is empty or ${plan.drainWindowSeconds} s have passed; runs/s = runs whose completion committed (\`onOutcome('completed')\`, cross-checked against the table) ÷ elapsed. The window keeps the whole benchmark under ~8 minutes: at the measured rates a full ${fmt(plan.backlog)} drain would take minutes per repetition; the backlog stays deep through the window, so the rate is the rate of draining a ${fmt(plan.backlog)} backlog. The workflow has exactly one no-op \`ctx.step\`, so runs/s = steps/s.
- **graphile-worker baseline.** 0.17.3, defaults (no local queue, no batched completion, LISTEN/NOTIFY), concurrency ${DRAIN_CONCURRENCY}, pool ${Math.max(10, DRAIN_CONCURRENCY + 2)} (its documented recommendation), its own fresh database per repetition; ${fmt(plan.backlog)} jobs added through \`graphile_worker.add_jobs\` in batches of 10,000 before the runner starts; timed from \`run()\` by the same rule (\`job:complete\` count; an empty jobs table if it drains, since 0.17 does not await its completion write).
- **Idle latency.** Engine as the server runs it (concurrency ${SHIPPED_CONCURRENCY}, pollMs 100, lease 30 s). ${LATENCY_RATE} events/s for ${plan.latencySeconds} s, one event per \`appendEvents\` call on an open-loop schedule, \`engine.wake()\` after each append as the server's onResponse hook does; t0 = the append resolved (committed), t1 = the step function starts; the first ${LATENCY_WARMUP} events are warm-up and not counted. p99 is nearest-rank over ${LATENCY_RATE * plan.latencySeconds} samples. Baseline: graphile-worker \`addJob\` resolved → task function starts, same rate, concurrency ${SHIPPED_CONCURRENCY}, runner idle in between (woken by its LISTEN/NOTIFY).
- Benchmark process, PostgreSQL and the engine share the same cores; nothing pinned.`
}

export async function main(argv: readonly string[]): Promise<void> {
  const opts = parseArgs(argv)
  const base: Plan = opts.quick
    ? { backlog: 10_000, drainWindowSeconds: 6, latencySeconds: 3 }
    : { backlog: 100_000, drainWindowSeconds: 25, latencySeconds: 10 }
  const plan: Plan = { ...base, drainWindowSeconds: opts.drainSeconds ?? base.drainWindowSeconds }
  const machine = await describeMachine(opts.dialects.includes('postgres') ? ADMIN_URL : undefined)
  log(machineLine(machine))
  const started = Date.now()
  const results: DialectResult[] = []
  for (const d of opts.dialects) results.push(await measure(d, plan, opts.reps))
  const elapsed = (Date.now() - started) / 1000

  mkdirSync(path.join(HERE, 'results'), { recursive: true })
  for (const r of results) {
    writeFileSync(
      path.join(HERE, 'results', `engine-${r.dialect}.json`),
      `${JSON.stringify({ machine, plan, reps: opts.reps, quick: opts.quick, elapsedSeconds: elapsed, ...r }, null, 2)}\n`,
    )
  }
  const t = table(results, plan)
  process.stdout.write(`\n${t}\n\nPer repetition:\n${perRep(results)}\n\n(${fmt(elapsed)} s)\n`)
  if (opts.quick || opts.reps < 3 || opts.dialects.length < 2) {
    log('README not updated: only a full run (both dialects, 3 repetitions, no --quick) is written there')
    return
  }
  const body = `Issue 3's benchmark: idle latency (event stored → first step started) p50/p99 and steps per
second draining a backlog of ${fmt(plan.backlog)} no-op runs, both dialects, graphile-worker 0.17.3
on PostgreSQL in the same run as the baseline. Issue 3 sets no numeric target; issue 12's later
targets (idle p50 ≤ ${TARGET_P50_MS} ms, ≥ ${fmt(TARGET_STEPS_PER_S)} no-op steps/s on 2 cores) are shown as information.

${machineLine(machine)}

${t}

Per repetition:
${perRep(results)}

${method(plan, opts.reps)}

Whole benchmark: ${fmt(elapsed)} s; load average at the end ${os
    .loadavg()
    .map((x) => fmt(x, 2))
    .join(
      ' ',
    )} (other processes on the box are not controlled; a load above 2 on 2 cores means the numbers shared the CPU).`
  writeReadmeSection(path.join(HERE, 'README.md'), 'Kernel II: engine', body)
  const pg = results.find((r) => r.dialect === 'postgres')
  const summary = results
    .map(
      (r) =>
        `${r.dialect}: drain ${fmt(drainRate(r.drain))} steps/s, idle p50 ${fmt(p50(r.latency), 2)} ms (target ≥ ${fmt(TARGET_STEPS_PER_S)}: ${verdict(drainRate(r.drain) >= TARGET_STEPS_PER_S)}; ≤ ${TARGET_P50_MS} ms: ${verdict(p50(r.latency) <= TARGET_P50_MS)})`,
    )
    .join('; ')
  const gw = pg?.graphileDrain ? `; graphile-worker ${fmt(drainRate(pg.graphileDrain))} jobs/s` : ''
  writeResultsRow(
    'engine',
    'Kernel II: backlog drain and idle latency (B4, B5)',
    `${summary}${gw}`,
    { ...(await describeBox()), date: machine.date, loadAvgAtStart: machine.loadAvgAtStart },
    machine.postgres,
  )
  log('bench/README.md: section "Kernel II: engine" and bench/RESULTS.md row written')
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2))
}

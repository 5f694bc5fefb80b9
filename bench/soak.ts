/**
 * B8 soak (issue 12; reference/perf-reliability.md §5): the B3 workload (bench/lib/pipeline-harness.ts:
 * signed S/4 goods receipts in, the QMS decides each lot at once, each workflow ends with the ERP
 * posting confirmed; simulators at 5 ms) run open-loop against Qualink on PostgreSQL for `--minutes`
 * at a fixed fraction of its maximum, watching for drift: every `--sample-seconds` the Qualink
 * process's RSS, V8 heap and event-loop delay (it runs in a child process, bench/lib/
 * soak-qualink-main.ts, so its memory is measured without the simulators'), the backlog, the dead
 * tuples of its database's tables (pg_stat_user_tables), and the age of the oldest xmin of its
 * sessions (pg_stat_activity.backend_xmin); p50/p99 receipt → posting per 10 s window of scheduled
 * sends. Prints the table and a verdict per metric (how it is judged: bench/lib/soak-report.ts).
 *
 * The maximum is measured first in the same run: a closed loop of `--probe-workflows` receipts from
 * 16 senders against the same child-process Qualink (fresh database); the soak offers
 * `--fraction` of it (or `--rate` workflows/s, if given).
 *
 * `--holder-seconds S` adds B8's idle-in-transaction holder: at the end of the warm-up a session on
 * Qualink's database opens a REPEATABLE READ transaction, reads once and sits idle in it for S
 * seconds (the xmin horizon held), then commits; reported: dead tuples and p99 before, at worst, and
 * the time to recover after the release (B8: ≤ 5 min). Its result is written to its own README
 * section and RESULTS row (`soak-xmin`). Not done (B8 in the reference): 2 hours at 200 events/s
 * (`--minutes 120` gives the length; this machine does not reach that rate).
 *
 * Run: npm run bench -- soak [--minutes M (5)] [--fraction F (0.5)] [--rate R] [--sample-seconds S (10)]
 *      [--warmup-seconds S (60)] [--probe-workflows N (100)] [--holder-seconds S (0: none)].
 *      PostgreSQL at QUALINK_BENCH_PG_URL.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pg from 'pg'
import { createTempDatabase, describeMachine, describePostgres, waitForQuiet } from './lib/machine.ts'
import {
  closedLoop,
  newTracking,
  openLoop,
  postedAtByBatch,
  type Sims,
  type SystemUnderTest,
  startSims,
} from './lib/pipeline-harness.ts'
import { qualinkSut } from './lib/pipeline-qualink.ts'
import { machineSummary, writeReadmeSection, writeResultsRow } from './lib/readme.ts'
import type { SoakProcessSample } from './lib/soak-qualink-main.ts'
import {
  holderReport,
  holderTable,
  latencyWindows,
  RECOVERY_TARGET_SECONDS,
  type SoakSample,
  sampleTable,
  verdicts,
  verdictTable,
} from './lib/soak-report.ts'
import { fmt, percentile } from './lib/stats.ts'

const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const HERE = path.dirname(fileURLToPath(import.meta.url))
const log = (s: string) => process.stderr.write(`${s}\n`)

interface Options {
  minutes: number
  fraction: number
  rate?: number
  sampleSeconds: number
  warmupSeconds: number
  probeWorkflows: number
  holderSeconds: number
  /** VACUUM the database every S seconds (0: leave it to autovacuum); default: off when autovacuum is on */
  vacuumSeconds?: number
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    minutes: 5,
    fraction: 0.5,
    sampleSeconds: 10,
    warmupSeconds: 60,
    probeWorkflows: 100,
    holderSeconds: 0,
  }
  const num = (a: string, v: string | undefined, max = Number.POSITIVE_INFINITY) => {
    const n = Number(v)
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new Error(`${a} must be a number in (0, ${max}], not '${v}'`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--minutes') o.minutes = num(a, argv[++i])
    else if (a === '--fraction') o.fraction = num(a, argv[++i], 1)
    else if (a === '--rate') o.rate = num(a, argv[++i])
    else if (a === '--sample-seconds') o.sampleSeconds = num(a, argv[++i])
    else if (a === '--warmup-seconds') o.warmupSeconds = num(a, argv[++i])
    else if (a === '--probe-workflows') o.probeWorkflows = Math.round(num(a, argv[++i]))
    else if (a === '--holder-seconds') o.holderSeconds = num(a, argv[++i])
    else if (a === '--vacuum-seconds') {
      const v = Number(argv[++i])
      if (!Number.isFinite(v) || v < 0)
        throw new Error(`--vacuum-seconds must be ≥ 0 (0: autovacuum), not '${argv[i]}'`)
      o.vacuumSeconds = v
    } else throw new Error(`unknown argument ${a}; see the header of bench/soak.ts`)
  }
  if (o.warmupSeconds + o.holderSeconds >= o.minutes * 60)
    throw new Error('--warmup-seconds (+ --holder-seconds) must be shorter than the run (--minutes × 60)')
  return o
}

type Child = ChildProcess & { url: string }

async function spawnQualink(dbUrl: string, sims: Sims, anchorFile: string): Promise<Child> {
  const child = fork(
    path.join(HERE, 'lib', 'soak-qualink-main.ts'),
    [dbUrl, sims.erp.url, sims.qms.url, anchorFile],
    {
      cwd: path.resolve(HERE, '..'),
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => {
      const r = m as { type?: string; url?: string }
      if (r.type === 'ready' && r.url) resolve(r.url)
      else reject(new Error(`unexpected first message from the soak's Qualink: ${JSON.stringify(m)}`))
    })
    child.once('exit', (code) =>
      reject(new Error(`the soak's Qualink exited with ${code} before it was ready`)),
    )
  })
  return Object.assign(child, { url })
}

function sampleChild(child: ChildProcess): Promise<SoakProcessSample> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no sample from the Qualink process within 10 s')), 10_000)
    child.once('message', (m) => {
      clearTimeout(t)
      resolve(m as SoakProcessSample)
    })
    child.send('sample')
  })
}

/** A Qualink in a child process with a fresh database; `sut.close()` stops it and drops the database. */
async function startChildSut(sims: Sims): Promise<{ sut: SystemUnderTest; child: Child; dbUrl: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-soak-'))
  const db = await createTempDatabase(ADMIN_URL, 'soak')
  const child = await spawnQualink(db.url, sims, path.join(dir, 'anchors.jsonl'))
  const sut = await qualinkSut('qualink', child.url, db.url, async () => {
    if (child.exitCode === null) {
      child.send('stop')
      await once(child, 'exit')
    }
    await db.drop()
    rmSync(dir, { recursive: true, force: true })
  })
  return { sut, child, dbUrl: db.url }
}

const DB_SQL = `
SELECT coalesce(sum(n_dead_tup), 0)::bigint AS dead, coalesce(sum(n_live_tup), 0)::bigint AS live,
       coalesce(sum(vacuum_count + autovacuum_count), 0)::bigint AS vacuums,
       (SELECT relname FROM pg_stat_user_tables ORDER BY n_dead_tup DESC LIMIT 1) AS top,
       (SELECT coalesce(max(age(backend_xmin)), 0) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()) AS ours,
       (SELECT coalesce(max(age(backend_xmin)), 0) FROM pg_stat_activity WHERE pid <> pg_backend_pid()) AS cluster,
       pg_database_size(current_database()) AS size
  FROM pg_stat_user_tables`

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv)
  const machine = await describeMachine()
  const postgres = await describePostgres(ADMIN_URL)
  const av = await autovacuumSettings()
  // Autovacuum off (as on the shared development server): the soak vacuums as autovacuum would,
  // every naptime, so that what it measures is what a server with autovacuum on would see.
  const vacuumSeconds = o.vacuumSeconds ?? (av.on ? 0 : av.naptimeSeconds)
  log(
    `autovacuum ${av.on ? 'on' : 'off'} (naptime ${av.naptimeSeconds} s); ${vacuumSeconds > 0 ? `the soak runs VACUUM on Qualink's database every ${vacuumSeconds} s` : 'vacuum left to autovacuum'}`,
  )
  const started = Date.now()

  // 1. The maximum, in this run, against the same child-process Qualink.
  let max = Number.NaN
  if (o.rate === undefined) {
    const idle = await waitForQuiet()
    const sims = await startSims(o.probeWorkflows, `sp${Date.now().toString(36)}`)
    const { sut } = await startChildSut(sims)
    try {
      const r = await closedLoop(sims, sut, 16, 240_000)
      max = r.perSecond
      log(
        `probe: ${fmt(max, 1)} workflows/s closed loop (${r.completed}/${r.workflows}; idle before ${fmt(idle * 100)} %)`,
      )
    } finally {
      await sut.close()
      await sims.close()
    }
  }
  const rate = o.rate ?? max * o.fraction
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`no rate to offer (maximum measured: ${max})`)
  const n = Math.max(1, Math.round(rate * o.minutes * 60))
  log(`soak: ${n} receipts at ${fmt(rate, 2)} workflows/s for ${o.minutes} min; preloading the ERP simulator`)

  // 2. The soak.
  const idle = await waitForQuiet()
  const sims = await startSims(n, `sk${Date.now().toString(36)}`)
  const { sut, child, dbUrl } = await startChildSut(sims)
  const probe = new pg.Client({ connectionString: dbUrl })
  await probe.connect()
  const tracking = newTracking()
  const samples: SoakSample[] = []
  const sampleErrors: string[] = []
  let t0 = Date.now()
  const takeSample = async () => {
    const [p, db, completed] = await Promise.all([sampleChild(child), probe.query(DB_SQL), sut.completed()])
    const r = db.rows[0]
    const dead = Number(r.dead)
    const s: SoakSample = {
      t: Math.round((Date.now() - t0) / 100) / 10,
      sent: tracking.sentAt.size,
      completed,
      rssMb: p.rss / 2 ** 20,
      heapUsedMb: p.heapUsed / 2 ** 20,
      lagP99Ms: p.lagP99Ms,
      elu: p.elu,
      deadTuples: dead,
      deadShare: dead / Math.max(1, dead + Number(r.live)),
      topDead: String(r.top ?? '–'),
      xminAgeOurs: Number(r.ours),
      xminAgeCluster: Number(r.cluster),
      dbSizeMb: Number(r.size) / 2 ** 20,
      vacuums: Number(r.vacuums),
    }
    samples.push(s)
    log(
      `t=${fmt(s.t)} s sent ${s.sent} done ${s.completed} rss ${fmt(s.rssMb)} MB heap ${fmt(s.heapUsedMb)} MB loop p99 ${fmt(s.lagP99Ms, 1)} ms dead ${s.deadTuples} (${s.topDead}) xmin age ${s.xminAgeOurs}/${s.xminAgeCluster}`,
    )
  }
  let timer: NodeJS.Timeout | undefined
  const hold = { start: Number.NaN, end: Number.NaN, error: '' }
  let holder: Promise<void> = Promise.resolve()
  const startHolder = () => {
    holder = (async () => {
      const c = new pg.Client({ connectionString: dbUrl })
      await c.connect()
      try {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
        await c.query('SELECT count(*) FROM workflow_runs')
        hold.start = (Date.now() - t0) / 1000
        log(`t=${fmt(hold.start)} s holder: idle in transaction for ${o.holderSeconds} s`)
        await new Promise((r) => setTimeout(r, o.holderSeconds * 1000))
        await c.query('COMMIT')
        hold.end = (Date.now() - t0) / 1000
        log(`t=${fmt(hold.end)} s holder released`)
      } finally {
        await c.end().catch(() => {})
      }
    })().catch((e) => {
      hold.error = (e as Error).message
    })
  }
  const vacuumer = vacuumSeconds > 0 ? new pg.Client({ connectionString: dbUrl }) : undefined
  await vacuumer?.connect()
  let vacuumTimer: NodeJS.Timeout | undefined
  let vacuuming: Promise<unknown> = Promise.resolve()
  let result: Awaited<ReturnType<typeof openLoop>>
  try {
    await sampleChild(child) // resets the child's loop-delay histogram
    t0 = Date.now()
    timer = setInterval(
      () => void takeSample().catch((e) => sampleErrors.push((e as Error).message)),
      o.sampleSeconds * 1000,
    )
    if (vacuumer)
      vacuumTimer = setInterval(() => {
        vacuuming = vacuuming.then(() =>
          vacuumer.query('VACUUM').catch((e) => sampleErrors.push(`VACUUM: ${(e as Error).message}`)),
        )
      }, vacuumSeconds * 1000)
    const holderTimer = o.holderSeconds > 0 ? setTimeout(startHolder, o.warmupSeconds * 1000) : undefined
    result = await openLoop(sims, sut, rate, 300_000, tracking).finally(() => clearTimeout(holderTimer))
    await holder
    clearInterval(timer)
    await takeSample()
  } finally {
    clearInterval(timer)
    clearInterval(vacuumTimer)
    await vacuuming
    await vacuumer?.end().catch(() => {})
    await probe.end().catch(() => {})
  }
  const windows = latencyWindows(tracking.sentAt, postedAtByBatch(sims), t0 + 20, 10)
  await sut.close()
  await sims.close()
  const elapsed = (Date.now() - started) / 1000

  const js = verdicts(
    samples,
    windows,
    o.warmupSeconds,
    rate,
    o.minutes * 60,
    vacuumSeconds > 0 ? 'count' : 'share',
  )
  const held =
    o.holderSeconds > 0
      ? holderReport(samples, windows, hold.start, hold.end, vacuumSeconds > 0 ? 'count' : 'share')
      : undefined
  if (hold.error) throw new Error(`the idle-in-transaction holder failed: ${hold.error}`)
  // With a holder the drift rules see the hold, not a leak: they are printed, the recovery is judged.
  const ok = (held ? held.ok : js.every((j) => j.ok)) && result.duplicates === 0 && result.lost === 0
  const head = `Offered ${fmt(rate, 2)} workflows/s (${o.rate === undefined ? `${o.fraction} × the ${fmt(max, 1)} measured closed-loop just before` : '--rate'}) for ${o.minutes} min: ${result.workflows} receipts, ${result.completed} completed, duplicates ${result.duplicates}, lost ${result.lost}; receipt → posting over the whole run p50 ${fmt(percentile(result.receiptToPostingMs, 50))} ms, p99 ${fmt(percentile(result.receiptToPostingMs, 99))} ms.`
  const text = `${head}\n\n${sampleTable(samples, windows)}\n\n${held ? `${holderTable(held)}\n\nDrift by thirds, for information (the hold is in the first third):\n\n` : ''}${verdictTable(js)}\n\nVerdict: ${ok ? 'PASS' : 'FAIL'} (PASS needs ${held ? `recovery within ${RECOVERY_TARGET_SECONDS} s of the release` : 'every metric within its rule'}, 0 duplicates and 0 lost; samples after the last scheduled receipt are shown, not judged)${sampleErrors.length ? `; ${sampleErrors.length} samples failed, first: ${sampleErrors[0]}` : ''}${result.failures.length ? `; ${result.failures.length} feed failures, first: ${result.failures[0]}` : ''}.`
  process.stdout.write(`\n${text}\n\n(${fmt(elapsed)} s; idle before the soak ${fmt(idle * 100)} %)\n`)
  mkdirSync(path.join(HERE, 'results'), { recursive: true })
  writeFileSync(
    path.join(HERE, 'results', held ? 'soak-xmin.json' : 'soak.json'),
    `${JSON.stringify({ machine, postgres, options: o, max, rate, elapsedSeconds: elapsed, samples, windows, verdicts: js, holder: held, duplicates: result.duplicates, lost: result.lost, failures: result.failures }, null, 2)}\n`,
  )
  if (o.minutes < 5) {
    log('README and RESULTS.md not updated: only a run of at least 5 minutes is written there')
    return
  }
  writeReadmeSection(
    path.join(HERE, 'README.md'),
    held ? 'B8: soak with an idle-in-transaction holder' : 'B8: soak',
    `Run: \`npm run bench -- soak [--minutes M]${held ? ` --holder-seconds ${o.holderSeconds}` : ''}\` (options in the header of bench/soak.ts); raw samples in \`bench/results/${held ? 'soak-xmin' : 'soak'}.json\`. Not a test: no assertion, exit 0.

${machineSummary(machine, postgres)}

${text}

${method(o, av, vacuumSeconds)}

Whole benchmark: ${fmt(elapsed)} s; idle share before the soak ${fmt(idle * 100)} %; load average at the end ${os
      .loadavg()
      .map((x) => fmt(x, 2))
      .join(' ')}.`,
  )
  writeResultsRow(
    held ? 'soak-xmin' : 'soak',
    `B8 soak: B3 open loop for ${o.minutes} min at ${o.rate === undefined ? `${o.fraction} × max` : 'a fixed rate'}${held ? `, xmin held ${o.holderSeconds} s` : ''} (issue 12)`,
    held
      ? `${fmt(rate, 1)} wf/s for ${o.minutes} min; dead tuples ${fmt(held.before.deadTuples)} → ${fmt(held.peak.deadTuples)}, p99 ${fmt(held.before.p99)} → ${fmt(held.peak.p99)} ms; recovered ${held.recoverySeconds === null ? 'not within the run' : `in ${fmt(held.recoverySeconds)} s`} (≤ ${RECOVERY_TARGET_SECONDS} s); duplicates ${result.duplicates}, lost ${result.lost}: ${ok ? 'PASS' : 'FAIL'}`
      : `${fmt(rate, 1)} wf/s for ${o.minutes} min; ${js.map((j) => `${j.name.split(',')[0]} ${j.ok ? 'flat' : 'GREW'}`).join(', ')}; duplicates ${result.duplicates}, lost ${result.lost}: ${ok ? 'PASS' : 'FAIL'}`,
    machine,
    postgres,
  )
  log(
    `bench/README.md section "B8: soak${held ? ' with an idle-in-transaction holder' : ''}" and bench/RESULTS.md row written`,
  )
}

async function autovacuumSettings(): Promise<{ on: boolean; naptimeSeconds: number }> {
  const c = new pg.Client({ connectionString: ADMIN_URL })
  await c.connect()
  try {
    const on = (await c.query('SHOW autovacuum')).rows[0].autovacuum === 'on'
    const nap = await c.query(`SELECT setting::int AS s FROM pg_settings WHERE name = 'autovacuum_naptime'`)
    return { on, naptimeSeconds: Number(nap.rows[0].s) }
  } finally {
    await c.end()
  }
}

function method(o: Options, av: { on: boolean; naptimeSeconds: number }, vacuumSeconds: number): string {
  return `How it is measured: the B3 workload and feed (see "B3: end-to-end pipeline"; bench/lib/pipeline-harness.ts), open loop (receipt i sent at t0 + i / rate whatever the system does; latency from the scheduled time). Qualink runs alone in a child process (bench/lib/soak-qualink-main.ts: every role, PostgreSQL store in a fresh database, shipped connectors with the egress rate limit raised as in B3), so RSS and heap are its own; the simulators and the feed, which keep every lot, are in the parent. Every ${o.sampleSeconds} s: the child's process.memoryUsage() (RSS, V8 heap used), its event-loop delay p99 since the last sample (perf_hooks.monitorEventLoopDelay, 10 ms resolution) and busy share (eventLoopUtilization); receipts sent and workflows completed (its workflow_runs); over its database: the sum of pg_stat_user_tables.n_dead_tup and their share of live + dead tuples, the table holding most, the count of vacuums (vacuum_count + autovacuum_count); age(backend_xmin) of the oldest snapshot among its sessions and, for information, the cluster's (other databases on this server count there); pg_database_size. Latency p50/p99 per 10 s window of scheduled sends (receipt → the ERP's UD stock posting). Vacuum: autovacuum is ${av.on ? 'on' : 'off'} on this server (naptime ${av.naptimeSeconds} s); ${vacuumSeconds > 0 ? `the soak ran a plain \`VACUUM\` of Qualink's database every ${vacuumSeconds} s from a session of its own, as autovacuum would (\`--vacuum-seconds\`), so dead tuples are judged by count (a saw-tooth of one period of updates; a held horizon makes them climb)` : 'the soak left it to autovacuum, so dead tuples are judged by their share of all tuples (autovacuum triggers per table at 50 rows + 20 % of live rows, so counts grow with the data)'}.

Verdict (bench/lib/soak-report.ts): the first ${o.warmupSeconds} s are warm-up and not judged; of the remaining samples (10 s windows for latency), the median of the last third is compared with the median of the first third, and a metric fails when last > first × factor + slack (each rule is in the table). Thirds' medians rather than single samples, because heap, dead tuples and latency saw-tooth with GC and autovacuum, while a leak or a held xmin horizon grows steadily and ends far above its start. The slope per minute (least squares over the steady samples) is shown for information. The database grows by design (every event, run and journal entry is kept), so its size is shown, not judged. With \`--holder-seconds\`, the holder's table above is what is judged (recovery ≤ ${RECOVERY_TARGET_SECONDS} s after the release, B8's rule; rules in bench/lib/soak-report.ts). Not done here: B8's 2 hours at 200 events/s (\`--minutes 120\` gives the length; this machine does not reach 200 workflows/s) and its 15-minute hold (\`--holder-seconds 900\`).`
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2))
}

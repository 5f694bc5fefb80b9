/**
 * B3 (issue 12): the end-to-end supplier-receipt pipeline, Qualink beside graphile-worker 0.17.3 and
 * Node-RED, each against its own fresh ERP (S/4) and QMS simulator pair with 5 ms latency, in one run
 * on one machine. The workload and the feed: bench/lib/pipeline-harness.ts.
 *
 * Per repetition and system: a closed loop of `--workflows` receipts from `--connections` senders
 * (completed workflows/s, the system's maximum). Then Qualink in an open loop at half its median
 * maximum for `--open-seconds` (p50/p99 receipt → final ERP posting). Targets of issue 12, printed
 * PASS/FAIL: Qualink ≥ 2× graphile-worker; p99 ≤ 500 ms at the half-max rate; 0 duplicate effects.
 * The physical limit, `pgbench` in --systems: the graphile-worker pipeline's eleven writing commits per
 * workflow replayed by pgbench for `--floor-seconds` per repetition, no HTTP (bench/lib/pipeline-pgbench.ts).
 *
 * Run: npm run bench -- pipeline [--workflows N] [--runs N] [--open-seconds S] [--connections N]
 *      [--floor-seconds S] [--systems qualink,graphile-worker,node-red,pgbench].
 *      QUALINK_BENCH_JOURNAL=at-yield runs Qualink with the opt-in journal mode (default per-step,
 *      the engine's). Needs PostgreSQL at QUALINK_BENCH_PG_URL
 *      (default postgres://postgres@127.0.0.1:5432/postgres). Node-RED is installed on first use
 *      into bench/baselines/node-red (npm ci).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describeMachine, describePostgres, pgTestFsync, waitForQuiet } from './lib/machine.ts'
import { startGraphileSut } from './lib/pipeline-graphile.ts'
import {
  closedLoop,
  type FeedResult,
  openLoop,
  SIM_LATENCY_MS,
  type Sims,
  type SystemUnderTest,
  startSims,
} from './lib/pipeline-harness.ts'
import { ensureNodeRed, startNodeRedSut } from './lib/pipeline-node-red.ts'
import {
  FLOOR_CLIENTS,
  FLOOR_COMMITS_PER_WORKFLOW,
  type FloorResult,
  runPipelineFloor,
} from './lib/pipeline-pgbench.ts'
import { BENCH_JOURNAL, startQualinkSut } from './lib/pipeline-qualink.ts'
import { machineSummary, writeReadmeSection, writeResultsRow } from './lib/readme.ts'
import { fmt, median, percentile } from './lib/stats.ts'

const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const HERE = path.dirname(fileURLToPath(import.meta.url))
const SYSTEMS = ['qualink', 'graphile-worker', 'node-red', 'pgbench'] as const
type SystemName = (typeof SYSTEMS)[number]
type FedSystem = Exclude<SystemName, 'pgbench'>
const TIMEOUT_MS = 180_000

const STARTERS: Record<FedSystem, (sims: Sims) => Promise<SystemUnderTest>> = {
  qualink: (sims) => startQualinkSut(ADMIN_URL, sims),
  'graphile-worker': (sims) => startGraphileSut(ADMIN_URL, sims),
  'node-red': (sims) => startNodeRedSut(sims),
}

interface Options {
  workflows: number
  runs: number
  openSeconds: number
  connections: number
  floorSeconds: number
  systems: SystemName[]
}

/**
 * 1,000 receipts per repetition: at 100 a repetition lasts 2–4 s and measures a fresh Qualink's
 * warm-up (statements prepared per connection, JIT) more than its rate — 28.7 workflows/s in a
 * 100-receipt repetition against 44.4–46.5 at 1,000, on the same build and machine, quiet, while
 * graphile-worker moved less (47.8 against 53.4–56.6). bench/README.md, "B3: where the time goes".
 */
const DEFAULTS: Options = {
  workflows: 1_000,
  runs: 3,
  openSeconds: 10,
  connections: 16,
  floorSeconds: 5,
  systems: [...SYSTEMS],
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { ...DEFAULTS, systems: [...DEFAULTS.systems] }
  const int = (a: string, v: string | undefined) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1) throw new Error(`${a} must be a positive integer, not '${v}'`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--workflows') o.workflows = int(a, argv[++i])
    else if (a === '--runs') o.runs = int(a, argv[++i])
    else if (a === '--open-seconds') o.openSeconds = int(a, argv[++i])
    else if (a === '--connections') o.connections = int(a, argv[++i])
    else if (a === '--floor-seconds') o.floorSeconds = int(a, argv[++i])
    else if (a === '--systems') {
      const list = (argv[++i] ?? '').split(',')
      for (const s of list)
        if (!SYSTEMS.includes(s as SystemName))
          throw new Error(`--systems: '${s}' is not one of ${SYSTEMS.join(', ')}`)
      o.systems = list as SystemName[]
    } else throw new Error(`unknown argument ${a}; see the header of bench/pipeline.ts`)
  }
  return o
}

const log = (s: string) => process.stderr.write(`${s}\n`)

type Result = FeedResult & { failures: string[]; idle: number }

async function once(
  system: FedSystem,
  n: number,
  feed: (
    sims: Awaited<ReturnType<typeof startSims>>,
    sut: SystemUnderTest,
  ) => Promise<FeedResult & { failures: string[] }>,
): Promise<Result> {
  const idle = await waitForQuiet()
  const sims = await startSims(n, `${system.slice(0, 2)}${Date.now().toString(36)}`)
  let sut: SystemUnderTest | undefined
  try {
    sut = await STARTERS[system](sims)
    return { ...(await feed(sims, sut)), idle }
  } finally {
    await sut?.close()
    await sims.close()
  }
}

function line(system: string, r: Result): string {
  const p = (xs: number[], q: number) => fmt(percentile(xs, q), 0)
  return `${system}: ${fmt(r.perSecond, 1)} workflows/s (${r.completed}/${r.workflows} in ${fmt(r.seconds, 1)} s${r.offeredPerSecond ? `, offered ${fmt(r.offeredPerSecond, 1)}/s` : ''}); receipt→posting p50 ${p(r.receiptToPostingMs, 50)} ms p99 ${p(r.receiptToPostingMs, 99)} ms; decision→posting p50 ${p(r.decisionToPostingMs, 50)} ms; duplicates ${r.duplicates}; lost ${r.lost}; idle before ${fmt(r.idle * 100)} %${r.failures.length ? `; ${r.failures.length} failures, first: ${r.failures[0]}` : ''}`
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL')

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv)
  const machine = await describeMachine()
  const postgres = await describePostgres(ADMIN_URL)
  const fsync = await pgTestFsync(os.tmpdir(), 2)
  const started = Date.now()
  const fed = o.systems.filter((s): s is FedSystem => s !== 'pgbench')
  // Before any simulator starts: a first-use `npm ci` runs synchronously and blocks the event loop,
  // and the simulators' idle keep-alive sockets were then reset under the next request (ECONNRESET
  // on a fresh machine, 2026-11-29).
  if (fed.includes('node-red')) ensureNodeRed()
  const closed = new Map<FedSystem, Result[]>(fed.map((s) => [s, []]))
  const open: Result[] = []
  const floor: Array<FloorResult & { idle: number }> = []
  for (let rep = 1; rep <= o.runs; rep++) {
    if (o.systems.includes('pgbench')) {
      const idle = await waitForQuiet()
      const f = { ...(await runPipelineFloor(ADMIN_URL, o.floorSeconds)), idle }
      floor.push(f)
      log(
        `floor ${rep}/${o.runs} pgbench: ${fmt(f.perSecond, 1)} workflows/s (${f.workflows} in ${o.floorSeconds} s, avg ${fmt(f.latencyAvgMs ?? Number.NaN, 1)} ms each); ${fmt(f.commitsPerWorkflow, 2)} commits/workflow; ${f.confirmed} confirmed, ${f.jobsLeft} jobs left; idle before ${fmt(idle * 100)} %`,
      )
    }
    for (const s of fed) {
      const r = await once(s, o.workflows, (sims, sut) => closedLoop(sims, sut, o.connections, TIMEOUT_MS))
      closed.get(s)!.push(r)
      log(`closed ${rep}/${o.runs} ${line(s, r)}`)
    }
  }
  const med = (s: FedSystem, f: (r: Result) => number) => median((closed.get(s) ?? []).map(f))
  const qMax = med('qualink', (r) => r.perSecond)
  if (o.systems.includes('qualink') && Number.isFinite(qMax)) {
    const rate = qMax / 2
    const n = Math.max(1, Math.round(rate * o.openSeconds))
    for (let rep = 1; rep <= o.runs; rep++) {
      const r = await once('qualink', n, (sims, sut) => openLoop(sims, sut, rate, TIMEOUT_MS))
      open.push(r)
      log(`open ${rep}/${o.runs} ${line('qualink', r)}`)
    }
  }
  const elapsed = (Date.now() - started) / 1000
  const all = [...[...closed.values()].flat(), ...open]
  const duplicates = all.reduce((s, r) => s + r.duplicates, 0)
  const lost = all.reduce((s, r) => s + r.lost, 0)
  const gwMax = med('graphile-worker', (r) => r.perSecond)
  const ratio = qMax / gwMax
  const openP50 = median(open.map((r) => percentile(r.receiptToPostingMs, 50)))
  const openP99 = median(open.map((r) => percentile(r.receiptToPostingMs, 99)))

  const rows = [
    '| System | Completed workflows/s, closed loop (median) | Reps | Receipt → posting p50 / p99 ms under that load | ERP + QMS requests per workflow | PostgreSQL commits per workflow | Duplicates | Lost |',
    '|---|---:|---|---|---|---:|---:|---:|',
  ]
  const labels: Record<FedSystem, string> = {
    qualink: `Qualink (PostgreSQL, worker in-process, journal ${BENCH_JOURNAL})`,
    'graphile-worker': 'graphile-worker 0.17.3, 3 chained jobs (PostgreSQL)',
    'node-red': 'Node-RED 4.1.7, http-in → function → http request (no durability)',
  }
  const floorMax = median(floor.map((f) => f.perSecond))
  if (floor.length)
    rows.push(
      `| Physical limit: pgbench replaying the graphile-worker pipeline's ${FLOOR_COMMITS_PER_WORKFLOW} writing commits per workflow, -c ${FLOOR_CLIENTS} (the database-side floor, no HTTP) | ${fmt(floorMax, 1)} | ${floor.map((f) => fmt(f.perSecond, 1)).join(' / ')} | n/a (no ERP; ${fmt(median(floor.map((f) => f.latencyAvgMs ?? Number.NaN)), 1)} ms average per workflow's ${FLOOR_COMMITS_PER_WORKFLOW} commits) | 0 + 0 | ${fmt(
        median(floor.map((f) => f.commitsPerWorkflow)),
        1,
      )} | n/a | ${floor.reduce((a, f) => a + f.jobsLeft, 0)} jobs left |`,
    )
  for (const s of fed) {
    const rs = closed.get(s)!
    rows.push(
      `| ${labels[s]} | ${fmt(
        med(s, (r) => r.perSecond),
        1,
      )} | ${rs.map((r) => fmt(r.perSecond, 1)).join(' / ')} | ${fmt(med(s, (r) => percentile(r.receiptToPostingMs, 50)))} / ${fmt(med(s, (r) => percentile(r.receiptToPostingMs, 99)))} | ${fmt(
        med(s, (r) => r.erpRequestsPerWorkflow),
        1,
      )} + ${fmt(
        med(s, (r) => r.qmsRequestsPerWorkflow),
        1,
      )} | ${fmt(
        med(s, (r) => r.commitsPerWorkflow ?? Number.NaN),
        1,
      )} | ${rs.reduce((a, r) => a + r.duplicates, 0)} | ${rs.reduce((a, r) => a + r.lost, 0)} |`,
    )
  }
  const targets = [
    '| Target | Measured | Rule | Result |',
    '|---|---|---|---|',
    `| Qualink vs graphile-worker, same durability | ${fmt(ratio, 2)}× (${fmt(qMax, 1)} vs ${fmt(gwMax, 1)} workflows/s) | ≥ 2× | ${Number.isFinite(ratio) ? verdict(ratio >= 2) : 'n/a'} |`,
    `| p99 at half of Qualink's max, open loop | p50 ${fmt(openP50)} ms, p99 ${fmt(openP99)} ms at ${fmt(qMax / 2, 1)} workflows/s (reps: ${open.map((r) => fmt(percentile(r.receiptToPostingMs, 99))).join(' / ')}) | p99 ≤ 500 ms | ${open.length ? verdict(openP99 <= 500) : 'n/a'} |`,
    `| Duplicate effects, every run above | ${duplicates} (lost ${lost}) | = 0 | ${verdict(duplicates === 0)} |`,
  ]
  if (o.systems.includes('node-red') && o.systems.includes('qualink'))
    targets.push(
      `| Qualink vs Node-RED (information: Node-RED keeps nothing durable) | ${fmt(qMax / med('node-red', (r) => r.perSecond), 2)}× | — | info |`,
    )
  if (floor.length)
    for (const s of fed.filter((x) => x !== 'node-red'))
      targets.push(
        `| ${s === 'qualink' ? 'Qualink' : 'graphile-worker'}'s share of the database-side floor (information) | ${fmt((100 * med(s, (r) => r.perSecond)) / floorMax, 1)} % (${fmt(
          med(s, (r) => r.perSecond),
          1,
        )} of ${fmt(floorMax, 1)} workflows/s) | — | info |`,
      )
  const failures = all.flatMap((r) => r.failures)
  const qCommits = med('qualink', (r) => r.commitsPerWorkflow ?? Number.NaN)
  const gwCommits = med('graphile-worker', (r) => r.commitsPerWorkflow ?? Number.NaN)
  const reading = Number.isFinite(qCommits / gwCommits)
    ? `\n\nFor the same ERP + QMS requests per workflow, Qualink committed ${fmt(qCommits / gwCommits, 1)}× as many PostgreSQL transactions per workflow as the graphile-worker pipeline (${fmt(qCommits, 1)} vs ${fmt(gwCommits, 1)}).`
    : ''
  const text = `${rows.join('\n')}\n\n${targets.join('\n')}${reading}`
  process.stdout.write(
    `\n${text}\n\n(${fmt(elapsed)} s${failures.length ? `; ${failures.length} failures, e.g. ${failures.slice(0, 3).join('; ')}` : ''})\n`,
  )
  mkdirSync(path.join(HERE, 'results'), { recursive: true })
  writeFileSync(
    path.join(HERE, 'results', 'pipeline.json'),
    `${JSON.stringify({ machine, postgres, fsync, options: o, elapsedSeconds: elapsed, closed: Object.fromEntries(closed), open, floor }, null, 2)}\n`,
  )
  const full =
    o.runs >= 3 &&
    SYSTEMS.every((s) => o.systems.includes(s)) &&
    o.workflows >= DEFAULTS.workflows &&
    o.floorSeconds >= DEFAULTS.floorSeconds
  if (!full) {
    log(
      'README and RESULTS.md not updated: only a full run (all systems, ≥ 3 runs, ≥ 100 workflows, ≥ 5 floor seconds) is written there',
    )
    return
  }
  const summary = machineSummary(machine, postgres, fsync)
  writeReadmeSection(
    path.join(HERE, 'README.md'),
    'B3: end-to-end pipeline',
    `Issue 12's end-to-end benchmark. Run: \`npm run bench -- pipeline\` (options in the header of bench/pipeline.ts); raw numbers in \`bench/results/pipeline.json\`.

${summary}

${text}

${method(o)}

Whole benchmark: ${fmt(elapsed)} s; load average at the end ${os
      .loadavg()
      .map((x) => fmt(x, 2))
      .join(
        ' ',
      )}; idle share before each measurement: min ${fmt(Math.min(...all.map((r) => r.idle)) * 100)} %.`,
  )
  writeResultsRow(
    'pipeline',
    'B3 end-to-end supplier receipt (issue 12)',
    `Qualink ${fmt(qMax, 1)} wf/s vs graphile-worker ${fmt(gwMax, 1)} (${fmt(ratio, 2)}×, ≥ 2× ${verdict(ratio >= 2)}); pgbench floor ${fmt(floorMax, 1)} wf/s (Qualink ${fmt((100 * qMax) / floorMax, 1)} % of it); p99 ${fmt(openP99)} ms at ${fmt(qMax / 2, 1)} wf/s (≤ 500 ${verdict(openP99 <= 500)}); Node-RED ${fmt(
      med('node-red', (r) => r.perSecond),
      1,
    )} wf/s; duplicates ${duplicates}`,
    machine,
    postgres,
    fsync,
  )
  log('bench/README.md section "B3: end-to-end pipeline" and bench/RESULTS.md row written')
}

function method(o: Options): string {
  return `How it is measured (bench/lib/pipeline-harness.ts): every system gets a fresh S/4 simulator and QMS simulator with ${SIM_LATENCY_MS} ms latency on every request they serve (simulators' fault latency), in the benchmark process. ${fmt(o.workflows)} goods receipts (100 KG each, QM-active material) are posted in the ERP simulator before the timed part; the timed part POSTs their GoodsReceiptPosted webhook bodies, signed as the simulator signs them, to the system from ${o.connections} senders in a closed loop. When the system creates the QMS inspection lot, the harness decides it at once (ACCEPT A1, whole lot used as is) and POSTs the usage_decision.made webhook, signed, to the system. (The simulators' own webhook senders deliver one at a time; through them the feed would be measured.) Completed workflows/s = the system's own count of finished posting confirmations ÷ time from the first receipt sent to the last confirmation (polled every 10 ms). Receipt → posting = the ERP simulator's PostedAt of the lot's UD stock posting − the receipt's send time (open loop: its scheduled time, so queueing is not hidden). Requests per workflow = requests the two simulators served during the timed part ÷ workflows (CSRF token fetches and read-backs included): the check that the systems make comparable calls. PostgreSQL commits per workflow = pg_stat_database.xact_commit of the system's database over the timed part ÷ workflows, less the benchmark's own completion polls (each a transaction there; counted and subtracted). The counter is read from the admin database before the first receipt and again once the system has stopped and no backend of its database is left: PostgreSQL 15 publishes a busy backend's counts at most once a second and an idle backend's only after 10 s (PGSTAT_MIN_INTERVAL, PGSTAT_IDLE_INTERVAL in src/backend/utils/activity/pgstat.c), but every backend publishes what it holds when it exits, so the count is complete (until 2e24b1c it was read 1.5 s after the run and missed what idle backends still held: 36.6 and 10.8 per workflow where a read 13.5 s later gave 48.4 and 19.8). It includes each system's background transactions over that time and its shutdown's (Qualink: engine polls every 100 ms when idle, leases, the audit sealer; graphile-worker: its polling), so a slower run counts a few more. The pgbench floor's count is exact (read after pgbench exited). Duplicate effects, from the simulators' records: an ERP inspection lot with more posted out than it holds, or a second QMS inspection lot for one batch; lost = a receipt whose lot has no UD posting at the end. The ERP simulator runs with requireConcurrencyToken off for all three (Node-RED's flow sends no If-Match).
- **Qualink**: startQualink as \`qualink start\` runs it (HTTP ingress with HMAC check → raw delivery → translation → event → supplier-receipt-inspection v2 run; engine concurrency 8 as shipped; PostgreSQL store in a fresh database; worker in the same process); the shipped S/4 and QMS connectors with the egress rate limit raised to 10,000/s.
- **graphile-worker 0.17.3** (bench/lib/pipeline-graphile.ts): fastify takes the webhooks (HMAC checked); receipt → row + \`add_job\` in one transaction; jobs create_qms_lot → (decision webhook) post_stock → confirm_posting, through the same connector instances, so the same HTTP calls, Idempotency-Keys and read-backs; concurrency 8, pool 10, its own fresh database.
- **Node-RED 4.1.7** (bench/lib/pipeline-node-red.ts), embedded in the benchmark process: http-in → function → http request (QMS lot) → http response; http-in → function → http request (UD) → function → http request (stock posting) → function → http request (confirm read) → http response. No durability, no retries, no read-backs, no webhook signature check; the lot ↔ ERP inspection lot map lives in flow context (memory). Installed only for the benchmark (bench/baselines/node-red, \`npm ci\` on first use).
- **Physical limit, pgbench** (bench/lib/pipeline-pgbench.ts): the database-side floor, no HTTP. One pgbench transaction of its script is one workflow: the ${FLOOR_COMMITS_PER_WORKFLOW} writing commits the graphile-worker pipeline cannot do without (receipt: lot row + first job row in one transaction; per job: lock it, complete it by DELETE; the next job's INSERT; the lot's two UPDATEs), on the same row shapes (its \`bench_lots\`; a job table with graphile-worker 0.17's columns and partial indexes), each committed on its own. Its read-only transactions (each task's SELECT of the lot, empty polls), add_job's plpgsql and NOTIFY, and every HTTP call are left out, so it is a floor no system above can reach. \`pgbench -n -M prepared -j 2 -c ${FLOOR_CLIENTS} -T ${o.floorSeconds}\` on a fresh database per repetition; workflows/s = its tps; commits per workflow read from pg_stat_database after pgbench exited (a little above ${FLOOR_COMMITS_PER_WORKFLOW}: autovacuum's transactions on the database count there too). Qualink's share of it is printed among the targets, for information.
- Open loop: Qualink only, at half its median closed-loop maximum, ${o.openSeconds} s of receipts per repetition.
- Each cell is the median of ${o.runs} repetitions, systems interleaved; each measurement waited for ≥ 85 % idle CPU (up to 15 s). Simulators, feed and system share the process and the 2 cores with PostgreSQL; nothing pinned.`
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2))
}

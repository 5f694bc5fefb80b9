/**
 * Kernel I ingest benchmark (issue 2, "Benchmark"): three request shapes against a real Qualink
 * (startQualink, real store, write queue, audit sealer), each beside its physical limit measured in the
 * same run on this machine, on SQLite and PostgreSQL.
 *
 *   (a) one event per POST, 64 connections: group commit vs one transaction per event, beside a bare
 *       schema-validating fastify POST (the HTTP ceiling)
 *   (b) batches of 100 events, 8 connections, beside pgbench ins100.sql -c 8 (PostgreSQL) or a
 *       better-sqlite3 100-row transaction loop (SQLite)
 *   (c) one transaction per event (groupCommit: false), 8 connections, beside pgbench outbox.sql -c 8
 *       or the better-sqlite3 event+outbox+audit transaction loop
 *   plus open-loop latency at half of each shape's measured maximum rate.
 *
 * Run: npx tsx bench/ingest.ts [--dialect sqlite|postgres|both] [--quick]
 * Not a test: it prints PASS/FAIL against the issue's targets and always exits 0 when it ran.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import pino from 'pino'
import { startQualink } from '../src/server/qualink.ts'
import { preparePgbench, runPgbench, runSqliteBaseline } from './lib/baselines.ts'
import { startCeilingServer } from './lib/http-ceiling.ts'
import type { LoadResult, LoadSpec } from './lib/load-generator.ts'
import {
  createTempDatabase,
  describeMachine,
  describePostgres,
  type MachineDescription,
  type PostgresDescription,
  pgTestFsync,
  type TempDatabase,
  waitForQuiet,
} from './lib/machine.ts'
import { writeReadmeSection, writeResultsRow } from './lib/readme.ts'
import { fmt, median } from './lib/stats.ts'

const execFileP = promisify(execFile)
const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const GENERATOR = path.join(HERE, 'lib', 'load-generator.ts')
const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

type Dialect = 'sqlite' | 'postgres'

/** Connections per shape; pgbench gets the same client count as the matching Qualink shape. */
const SINGLE_CONNECTIONS = 64
const BATCH_CONNECTIONS = 8
const BATCH_SIZE = 100
const PER_EVENT_CONNECTIONS = 8
const PGBENCH_CLIENTS = 8
const LATENCY_P99_TARGET_MS = 25

interface Timing {
  readonly reps: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly baselineS: number
}

const FULL: Timing = { reps: 3, warmupMs: 1000, durationMs: 5000, baselineS: 5 }
const QUICK: Timing = { reps: 3, warmupMs: 500, durationMs: 2000, baselineS: 2 }

interface Target {
  readonly id: string
  readonly what: string
  readonly measured: string
  readonly rule: string
  readonly pass: boolean
}

interface Row {
  readonly shape: string
  readonly what: string
  readonly perRep: readonly number[]
  readonly median: number
  readonly unit: string
  readonly extra?: string
}

interface DialectReport {
  readonly benchmark: 'ingest'
  readonly dialect: Dialect
  readonly quick: boolean
  readonly timing: Timing
  readonly generatorPinned: boolean
  readonly machine: MachineDescription
  readonly postgres?: PostgresDescription
  readonly rows: readonly Row[]
  readonly targets: readonly Target[]
  /** idle share of the machine just before each measurement (other work on the box distorts numbers) */
  readonly idleBefore: readonly number[]
  readonly raw: Record<string, unknown[]>
}

const generatorPinned = os.availableParallelism() >= 2 && existsSync('/usr/bin/taskset')

async function generate(spec: LoadSpec): Promise<LoadResult> {
  const node = [process.execPath, '--import', 'tsx', GENERATOR, JSON.stringify(spec)]
  const cmd = generatorPinned ? ['/usr/bin/taskset', '-c', '1', ...node] : node
  const { stdout } = await execFileP(cmd[0]!, cmd.slice(1), { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadResult
}

function target(url: string): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port) }
}

let runCounter = 0
function idPrefix(label: string): string {
  return `bench-${process.pid}-${Date.now().toString(36)}-${label}-${runCounter++}`
}

interface DialectContext {
  readonly dialect: Dialect
  readonly dir: string
  readonly dataDir: string
  readonly qualinkDb?: TempDatabase
  readonly baselineDb?: TempDatabase
}

/** Production logging level (info: one line per ingest) into /dev/null, so its cost is counted. */
const logger = pino({ level: 'info', base: { service: 'qualink' } }, pino.destination({ dest: '/dev/null' }))

async function againstQualink(
  ctx: DialectContext,
  groupCommit: boolean,
  spec: Omit<LoadSpec, 'host' | 'port' | 'path' | 'idPrefix'>,
  label: string,
): Promise<LoadResult> {
  await quiet()
  const q = await startQualink({
    dataDir: ctx.dataDir,
    databaseUrl: ctx.qualinkDb?.url,
    port: 0,
    groupCommit,
    logger,
  })
  try {
    return await generate({ ...spec, ...target(q.url), path: '/v1/events', idPrefix: idPrefix(label) })
  } finally {
    await q.close()
  }
}

async function againstCeiling(
  spec: Omit<LoadSpec, 'host' | 'port' | 'path' | 'idPrefix'>,
): Promise<LoadResult> {
  await quiet()
  const s = await startCeilingServer()
  try {
    return await generate({ ...spec, ...target(s.url), path: '/v1/events', idPrefix: idPrefix('ceiling') })
  } finally {
    await s.close()
  }
}

async function baseline(ctx: DialectContext, script: 'ins100' | 'outbox', t: Timing): Promise<number> {
  await quiet()
  if (ctx.dialect === 'postgres') {
    const r = await runPgbench(ctx.baselineDb!.url, ctx.dir, script, PGBENCH_CLIENTS, t.baselineS)
    return r.tps
  }
  return runSqliteBaseline(path.join(ctx.dir, 'raw.db'), script, t.baselineS).tps
}

const QUIET_IDLE = 0.85
/** idle share of the machine measured just before each measurement, in run order */
const quietBefore: number[] = []

async function quiet(): Promise<void> {
  const idle = await waitForQuiet(QUIET_IDLE)
  quietBefore.push(Math.round(idle * 100) / 100)
  if (idle < QUIET_IDLE) log(`machine busy before this measurement: only ${Math.round(idle * 100)} % idle`)
}

function log(msg: string): void {
  process.stderr.write(`[ingest] ${msg}\n`)
}

function errorsOf(r: LoadResult): number {
  return r.non2xx + r.socketErrors + r.unfinished
}

async function benchDialect(
  dialect: Dialect,
  t: Timing,
  machine: MachineDescription,
  pg: PostgresDescription | undefined,
): Promise<DialectReport> {
  quietBefore.length = 0
  const dir = mkdtempSync(path.join(os.tmpdir(), `qualink-bench-${dialect}-`))
  let qualinkDb: TempDatabase | undefined
  let baselineDb: TempDatabase | undefined
  try {
    if (dialect === 'postgres') {
      qualinkDb = await createTempDatabase(ADMIN_URL, 'q')
      baselineDb = await createTempDatabase(ADMIN_URL, 'b')
      await preparePgbench(baselineDb.url, dir)
    }
    const ctx: DialectContext = { dialect, dir, dataDir: path.join(dir, 'qualink'), qualinkDb, baselineDb }
    const closed = (connections: number, batch: number) => ({
      mode: 'closed' as const,
      connections,
      batch,
      warmupMs: t.warmupMs,
      durationMs: t.durationMs,
    })
    const raw: Record<string, LoadResult[]> = {
      ceiling: [],
      aGroup: [],
      aPerEvent: [],
      bOurs: [],
      cOurs: [],
      aLatency: [],
      bLatency: [],
      cLatency: [],
    }
    const bBase: number[] = []
    const cBase: number[] = []
    // Repetitions are interleaved (rep 1 of everything, then rep 2, ...) so drift hits all alike.
    for (let rep = 1; rep <= t.reps; rep++) {
      log(`${dialect} rep ${rep}/${t.reps}: (a) HTTP ceiling`)
      raw.ceiling!.push(await againstCeiling(closed(SINGLE_CONNECTIONS, 0)))
      log(`${dialect} rep ${rep}/${t.reps}: (a) group commit`)
      raw.aGroup!.push(await againstQualink(ctx, true, closed(SINGLE_CONNECTIONS, 0), 'a-group'))
      log(`${dialect} rep ${rep}/${t.reps}: (a) per-event transactions`)
      raw.aPerEvent!.push(await againstQualink(ctx, false, closed(SINGLE_CONNECTIONS, 0), 'a-per-event'))
      log(`${dialect} rep ${rep}/${t.reps}: (b) batches of ${BATCH_SIZE}`)
      raw.bOurs!.push(await againstQualink(ctx, true, closed(BATCH_CONNECTIONS, BATCH_SIZE), 'b-batch'))
      log(`${dialect} rep ${rep}/${t.reps}: (b) baseline`)
      bBase.push((await baseline(ctx, 'ins100', t)) * BATCH_SIZE)
      log(`${dialect} rep ${rep}/${t.reps}: (c) one transaction per event`)
      raw.cOurs!.push(await againstQualink(ctx, false, closed(PER_EVENT_CONNECTIONS, 0), 'c-per-event'))
      log(`${dialect} rep ${rep}/${t.reps}: (c) baseline`)
      cBase.push(await baseline(ctx, 'outbox', t))
    }
    const rate = (rs: readonly LoadResult[]) => median(rs.map((r) => r.requestsPerS))
    const open = (rps: number, connections: number, batch: number) => ({
      mode: 'open' as const,
      rate: rps,
      connections,
      maxConnections: 512,
      batch,
      warmupMs: t.warmupMs,
      durationMs: t.durationMs,
    })
    const aHalf = rate(raw.aGroup!) / 2
    const bHalf = rate(raw.bOurs!) / 2
    const cHalf = rate(raw.cOurs!) / 2
    for (let rep = 1; rep <= t.reps; rep++) {
      log(`${dialect} rep ${rep}/${t.reps}: latency, open loop at half the measured maximum`)
      raw.aLatency!.push(await againstQualink(ctx, true, open(aHalf, SINGLE_CONNECTIONS, 0), 'a-lat'))
      raw.bLatency!.push(await againstQualink(ctx, true, open(bHalf, BATCH_CONNECTIONS, BATCH_SIZE), 'b-lat'))
      raw.cLatency!.push(await againstQualink(ctx, false, open(cHalf, PER_EVENT_CONNECTIONS, 0), 'c-lat'))
    }
    return report(dialect, t, machine, pg, raw, bBase, cBase)
  } finally {
    await qualinkDb?.drop().catch((e: unknown) => log(`could not drop ${qualinkDb?.name}: ${String(e)}`))
    await baselineDb?.drop().catch((e: unknown) => log(`could not drop ${baselineDb?.name}: ${String(e)}`))
    rmSync(dir, { recursive: true, force: true })
  }
}

function report(
  dialect: Dialect,
  t: Timing,
  machine: MachineDescription,
  pg: PostgresDescription | undefined,
  raw: Record<string, LoadResult[]>,
  bBase: number[],
  cBase: number[],
): DialectReport {
  const ev = (k: string) => raw[k]!.map((r) => r.eventsPerS)
  const errs = (k: string) => raw[k]!.reduce((n, r) => n + errorsOf(r), 0)
  const p99 = (k: string) => raw[k]!.map((r) => r.latencyMs.p99)
  const p50 = (k: string) => median(raw[k]!.map((r) => r.latencyMs.p50))
  const errNote = (k: string) => (errs(k) > 0 ? `; ${errs(k)} non-2xx/socket errors/unanswered` : '')
  const lat = (k: string) =>
    `p50 ${fmt(p50(k), 1)} ms, p99 ${fmt(median(p99(k)), 1)} ms${errNote(k)}; offered ${fmt(raw[k]![0]!.offeredPerS ?? NaN)} req/s`
  const baseName = dialect === 'postgres' ? 'pgbench' : 'better-sqlite3 loop'
  const rows: Row[] = [
    row(
      'a',
      'HTTP ceiling: bare fastify validated POST, 64 conns',
      ev('ceiling'),
      'req/s',
      errNote('ceiling'),
    ),
    row('a', 'Qualink group commit, 1 event/POST, 64 conns', ev('aGroup'), 'events/s', errNote('aGroup')),
    row(
      'a',
      'Qualink per-event tx, 1 event/POST, 64 conns',
      ev('aPerEvent'),
      'events/s',
      errNote('aPerEvent'),
    ),
    row(
      'b',
      `Qualink batch of ${BATCH_SIZE}/POST, ${BATCH_CONNECTIONS} conns`,
      ev('bOurs'),
      'events/s',
      errNote('bOurs'),
    ),
    row(
      'b',
      `${baseName} ins100 (100-row tx)${dialect === 'postgres' ? `, -c ${PGBENCH_CLIENTS}` : ', 1 thread'}`,
      bBase,
      'rows/s',
    ),
    row(
      'c',
      `Qualink per-event tx, ${PER_EVENT_CONNECTIONS} conns`,
      ev('cOurs'),
      'events/s',
      errNote('cOurs'),
    ),
    row(
      'c',
      `${baseName} event+outbox+audit tx${dialect === 'postgres' ? `, -c ${PGBENCH_CLIENTS}` : ', 1 thread'}`,
      cBase,
      'tx/s',
    ),
  ]
  const m = (k: string) => median(ev(k))
  const ratio = (a: number, b: number) => a / b
  const targets: Target[] = [
    check('a1', 'group commit vs per-event (64 conns)', ratio(m('aGroup'), m('aPerEvent')), 3, 'x'),
    check('a2', 'group commit vs HTTP ceiling', ratio(m('aGroup'), m('ceiling')), 0.5, '%'),
    check('b', `batches vs ${baseName} ins100 rows/s`, ratio(m('bOurs'), median(bBase)), 0.5, '%'),
    check('c', `per-event tx vs ${baseName} outbox tx/s`, ratio(m('cOurs'), median(cBase)), 0.6, '%'),
    latency('La', '(a) group commit, single events, open loop', 'aLatency'),
    latency('Lb', `(b) batches of ${BATCH_SIZE}, open loop`, 'bLatency'),
    latency('Lc', '(c) per-event tx, open loop', 'cLatency'),
  ]
  function latency(id: string, what: string, k: string): Target {
    const p = median(p99(k))
    return {
      id,
      what: `p99 at half max: ${what}`,
      measured: lat(k),
      rule: `p99 <= ${LATENCY_P99_TARGET_MS} ms`,
      pass: p <= LATENCY_P99_TARGET_MS && errs(k) === 0,
    }
  }
  return {
    benchmark: 'ingest',
    dialect,
    quick: t === QUICK,
    timing: t,
    generatorPinned,
    machine,
    postgres: dialect === 'postgres' ? pg : undefined,
    rows,
    targets,
    idleBefore: [...quietBefore],
    raw: { ...raw, bBaseline: bBase, cBaseline: cBase },
  }
}

function row(shape: string, what: string, perRep: number[], unit: string, extra?: string): Row {
  return { shape, what, perRep, median: median(perRep), unit, extra: extra || undefined }
}

function check(id: string, what: string, value: number, min: number, kind: 'x' | '%'): Target {
  const measured = kind === 'x' ? `${fmt(value, 2)}x` : `${fmt(value * 100, 1)} %`
  const rule = kind === 'x' ? `>= ${min}x` : `>= ${min * 100} %`
  return { id, what, measured, rule, pass: value >= min }
}

function markdown(r: DialectReport): string {
  const lines = [
    `### ${r.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'}`,
    '',
    '| Shape | What | Median | Reps |',
    '|---|---|---:|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.shape} | ${x.what} | ${fmt(x.median)} ${x.unit} | ${x.perRep.map((v) => fmt(v)).join(' / ')}${x.extra ?? ''} |`,
    ),
    '',
    '| Target | What | Measured | Rule | Result |',
    '|---|---|---|---|---|',
    ...r.targets.map(
      (x) => `| ${x.id} | ${x.what} | ${x.measured} | ${x.rule} | ${x.pass ? 'PASS' : 'FAIL'} |`,
    ),
    '',
    quietLine(r.idleBefore),
  ]
  return lines.join('\n')
}

function quietLine(idle: readonly number[]): string {
  const busy = idle.filter((x) => x < QUIET_IDLE).length
  const min = Math.min(...idle)
  return (
    `Machine idle before each of the ${idle.length} measurements: min ${fmt(min * 100)} %` +
    (busy > 0
      ? `; ${busy} started on a busy machine (< ${QUIET_IDLE * 100} % idle after waiting 15 s): other work was running, treat these numbers as low.`
      : ` (each waited for >= ${QUIET_IDLE * 100} % idle).`)
  )
}

function machineMarkdown(
  m: MachineDescription,
  pg: PostgresDescription | undefined,
  fsync: string[],
): string {
  const lines = [
    `- Date ${m.date}; commit ${m.git}`,
    `- CPU: ${m.cpuModel}, nproc ${m.nproc}, ${m.memGiB} GiB RAM; load average at start ${m.loadAvgAtStart.join(' / ')}`,
    `- Node ${m.node}; SQLite ${m.sqlite} (better-sqlite3, WAL, synchronous=FULL)`,
  ]
  if (pg) {
    const s = Object.entries(pg.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')
    lines.push(`- PostgreSQL ${pg.version} on 127.0.0.1 (TCP), SHOW: ${s}`)
  }
  if (fsync.length > 0)
    lines.push(`- pg_test_fsync, one 8 kB write (temp dir, same disk): ${fsync.join('; ')}`)
  return lines.join('\n')
}

const METHOD = `Run: \`npm run bench -- ingest\` (or \`npx tsx bench/ingest.ts [--dialect sqlite|postgres|both] [--quick]\`).
Not a test: no assertion, exit 0; PASS/FAIL is against the targets of issue 2.

How it is measured:
- Qualink is the real thing, started in the benchmark process with \`startQualink\` (real store in a temp
  dir or a temporary PostgreSQL database created and dropped by the run, write queue, audit sealer running,
  pino at \`info\` into /dev/null). Each measurement starts a fresh server on the same store.
- Load comes from \`bench/lib/load-generator.ts\`, a child process pinned with \`taskset -c 1\`
  (server, PostgreSQL and pgbench unpinned). It speaks HTTP/1.1 on raw keep-alive sockets, one request in
  flight per connection, every event with a fresh id. Throughput is closed-loop: 2xx answers landing in the
  measurement window (after a warm-up) divided by the window.
- Latency is open-loop: request i is sent at t0 + i/rate whatever the server does (extra connections
  are opened when none is idle, up to 512), and latency is taken from the scheduled send time, so
  queueing is not hidden (no coordinated omission). Rate = half the median maximum of that shape.
- Each number is the median of 3 interleaved repetitions (per-rep values shown).
- (a) single events from 64 connections. Ceiling: bare fastify, same JSON body validated by a JSON
  schema, 202, no store, no logging.
- (b) \`application/cloudevents-batch+json\` of 100 events from 8 connections (group commit on). Baseline:
  PostgreSQL: \`pgbench -n -M prepared -j 2 -c 8\` with Appendix A \`ins100.sql\` (rows/s = tps x 100);
  SQLite: better-sqlite3 inserting 100 rows per transaction (WAL, synchronous=FULL) in a tight loop.
- (c) \`groupCommit: false\`, single events from 8 connections. Baseline: pgbench \`outbox.sql\`
  (\`-c 8\`) or the same 3-insert transaction with better-sqlite3 in a tight loop.
- Qualink writes 3 rows per event (events, audit_log, audit_payloads) plus JSON validation, hashing and an
  HTTP round trip; the baselines write ~60 B rows with none of that. The comparison is the issue's.`

function parseArgs(argv: readonly string[]): { dialects: Dialect[]; quick: boolean } {
  let dialect = 'both'
  let quick = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--quick') quick = true
    else if (a === '--dialect') dialect = argv[++i] ?? ''
    else if (a.startsWith('--dialect=')) dialect = a.slice('--dialect='.length)
    else throw new Error(`unknown argument ${a}; usage: ingest.ts [--dialect sqlite|postgres|both] [--quick]`)
  }
  if (dialect === 'both') return { dialects: ['sqlite', 'postgres'], quick }
  if (dialect === 'sqlite' || dialect === 'postgres') return { dialects: [dialect], quick }
  throw new Error(`--dialect must be sqlite, postgres or both, not '${dialect}'`)
}

export async function main(argv: readonly string[]): Promise<void> {
  const { dialects, quick } = parseArgs(argv)
  const t = quick ? QUICK : FULL
  const machine = await describeMachine()
  const pg = dialects.includes('postgres') ? await describePostgres(ADMIN_URL) : undefined
  const fsyncDir = mkdtempSync(path.join(os.tmpdir(), 'qualink-bench-fsync-'))
  let fsync: string[] = []
  try {
    log(`pg_test_fsync -s ${quick ? 1 : 2}`)
    fsync = await pgTestFsync(fsyncDir, quick ? 1 : 2)
  } finally {
    rmSync(fsyncDir, { recursive: true, force: true })
  }
  const reports: DialectReport[] = []
  const resultsDir = path.join(HERE, 'results')
  mkdirSync(resultsDir, { recursive: true })
  for (const d of dialects) {
    const r = await benchDialect(d, t, machine, pg)
    reports.push(r)
    writeFileSync(
      path.join(resultsDir, `ingest-${d}.json`),
      `${JSON.stringify({ ...r, pgTestFsync: fsync }, null, 2)}\n`,
    )
    process.stdout.write(`\n${markdown(r)}\n`)
  }
  const loadAfter = os
    .loadavg()
    .map((x) => Math.round(x * 100) / 100)
    .join(' / ')
  const body = [
    METHOD,
    '',
    `Machine${quick ? ' (quick run: 2 s windows)' : ''}:`,
    machineMarkdown(machine, pg, fsync),
    `- Load average at end ${loadAfter}; load generator pinned: ${generatorPinned ? 'yes (taskset -c 1)' : 'no'}`,
    '',
    ...reports.map(markdown).flatMap((m) => [m, '']),
  ].join('\n')
  if (!quick && dialects.length === 2) {
    writeReadmeSection(path.join(HERE, 'README.md'), 'Kernel I: ingest', body)
    const summary = reports
      .map(
        (r) =>
          `${r.dialect}: ${r.targets.map((x) => `${x.id} ${x.measured} ${x.pass ? 'PASS' : 'FAIL'}`).join('; ')}`,
      )
      .join(' — ')
    writeResultsRow(
      'ingest',
      'Kernel I: durable ingest shapes vs pgbench / better-sqlite3',
      summary,
      machine,
      pg,
      fsync,
    )
    log('bench/README.md section "Kernel I: ingest" and bench/RESULTS.md row updated')
  } else {
    log('bench/README.md left alone (only a full run of both dialects rewrites it)')
  }
  log(`raw results: ${dialects.map((d) => `bench/results/ingest-${d}.json`).join(', ')}`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2))
  // pg pools and the sealer timer are closed; exit anyway so a stray handle cannot hang the run.
  process.exit(0)
}

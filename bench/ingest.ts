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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import pino from 'pino'
import { startQualink } from '../src/server/qualink.ts'
import { preparePgbench, runPgbench, runSqliteBaseline } from './lib/baselines.ts'
import { startCeilingServer } from './lib/http-ceiling.ts'
import {
  BATCH_CONNECTIONS,
  BATCH_SIZE,
  type Dialect,
  type DialectReport,
  FULL,
  generatorPinned,
  machineMarkdown,
  markdown,
  PER_EVENT_CONNECTIONS,
  PGBENCH_CLIENTS,
  QUICK,
  QUIET_IDLE,
  quietBefore,
  report,
  SINGLE_CONNECTIONS,
  type Timing,
} from './lib/ingest-report.ts'
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
import { median } from './lib/stats.ts'

const execFileP = promisify(execFile)
const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const GENERATOR = path.join(HERE, 'lib', 'load-generator.ts')
const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

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

async function quiet(): Promise<void> {
  const idle = await waitForQuiet(QUIET_IDLE)
  quietBefore.push(Math.round(idle * 100) / 100)
  if (idle < QUIET_IDLE) log(`machine busy before this measurement: only ${Math.round(idle * 100)} % idle`)
}

function log(msg: string): void {
  process.stderr.write(`[ingest] ${msg}\n`)
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

/**
 * Issue 11 benchmark: workflows per second with 1, 2 and 4 worker processes on one PostgreSQL
 * database, beside one process doing everything (the B3 Qualink of bench/pipeline.ts).
 *
 * The workload is B3's (bench/lib/pipeline-harness.ts): signed S/4 goods-receipt webhooks from 16
 * senders in a closed loop, the QMS decides each inspection lot at once, each workflow ends with the
 * ERP posting confirmed; ERP and QMS simulators at 5 ms latency in this process. Fleet: one
 * `--role api` Qualink in this process takes the webhooks (stores, routes); N child processes run
 * `--role worker` (bench/lib/pipeline-worker-main.ts): translation and runs, competing for work.
 * Duplicates and lost workflows are counted from the simulators' records, as in B3.
 *
 * On this 2-core machine more processes cannot add CPU; what the numbers show is whether the
 * competing workers keep the work correct and how much coordination costs.
 *
 * Run: npm run bench -- workers [--workflows N] [--runs R] [--fleet 0,1,2,4]
 *      (0 = one process with every role). PostgreSQL at QUALINK_BENCH_PG_URL.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { startQualink } from '../src/server/qualink.ts'
import { PostgresStore } from '../src/store/postgres/store.ts'
import { supplierReceiptInspection } from '../src/workflows/supplier-receipt-inspection.ts'
import { createTempDatabase, describeMachine, describePostgres, waitForQuiet } from './lib/machine.ts'
import { closedLoop, type Sims, type SystemUnderTest, startSims } from './lib/pipeline-harness.ts'
import { BENCH_WEBHOOKS, qualinkSut, startQualinkSut } from './lib/pipeline-qualink.ts'
import { writeReadmeSection, writeResultsRow } from './lib/readme.ts'
import { fmt, median } from './lib/stats.ts'

const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const HERE = path.dirname(fileURLToPath(import.meta.url))
const CONNECTIONS = 16
const TIMEOUT_MS = 240_000

interface Options {
  readonly workflows: number
  readonly runs: number
  readonly fleet: number[]
}

function parseArgs(argv: readonly string[]): Options {
  let workflows = 100
  let runs = 3
  let fleet = [0, 1, 2, 4]
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--workflows') workflows = Number(argv[++i])
    else if (a === '--runs') runs = Number(argv[++i])
    else if (a === '--fleet') fleet = (argv[++i] ?? '').split(',').map(Number)
    else throw new Error(`unknown argument ${a}; see the header of bench/workers.ts`)
  }
  if (!Number.isInteger(workflows) || workflows < 1) throw new Error('--workflows must be a positive integer')
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer')
  if (fleet.some((n) => !Number.isInteger(n) || n < 0 || n > 8))
    throw new Error('--fleet lists worker process counts 0..8 (0 = one process with every role)')
  return { workflows, runs, fleet }
}

async function spawnWorker(dbUrl: string, sims: Sims, anchorFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(HERE, 'lib', 'pipeline-worker-main.ts'),
      dbUrl,
      sims.erp.url,
      sims.qms.url,
      anchorFile,
    ],
    { cwd: path.resolve(HERE, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const lines = createInterface({ input: child.stdout! })
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => l.trim() === 'ready' && resolve())
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)))
  })
  await ready
  return child
}

/** One `--role api` Qualink here (webhooks in) and N `--role worker` processes on one database. */
async function startFleet(sims: Sims, workers: number): Promise<SystemUnderTest> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-workers-'))
  const db = await createTempDatabase(ADMIN_URL, 'workers')
  const store = await PostgresStore.open({ connectionString: db.url })
  const api = await startQualink({
    store,
    role: 'api',
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(dir, 'anchors-api.jsonl'),
    webhooks: BENCH_WEBHOOKS,
    workflows: [supplierReceiptInspection()],
  })
  const children: ChildProcess[] = []
  for (let i = 0; i < workers; i++)
    children.push(await spawnWorker(db.url, sims, path.join(dir, `anchors-w${i}.jsonl`)))
  return qualinkSut(`${workers} workers`, api.url, db.url, async () => {
    await Promise.all(
      children.map(async (c) => {
        if (c.exitCode !== null) return
        c.kill('SIGTERM')
        await once(c, 'exit')
      }),
    )
    await api.close()
    await store.close()
    await db.drop()
    rmSync(dir, { recursive: true, force: true })
  })
}

interface Rep {
  readonly perSecond: number
  readonly duplicates: number
  readonly lost: number
  readonly commitsPerWorkflow?: number
}

async function oneRep(workers: number, n: number): Promise<Rep> {
  await waitForQuiet()
  const sims = await startSims(n, `wk${workers}${Date.now().toString(36)}`)
  let sut: SystemUnderTest | undefined
  try {
    sut = workers === 0 ? await startQualinkSut(ADMIN_URL, sims) : await startFleet(sims, workers)
    const r = await closedLoop(sims, sut, CONNECTIONS, TIMEOUT_MS)
    if (r.failures.length) process.stderr.write(`  failures: ${r.failures.slice(0, 3).join('; ')}\n`)
    return r
  } finally {
    await sut?.close()
    await sims.close()
  }
}

const label = (w: number) =>
  w === 0 ? 'one process, every role' : `api + ${w} worker process${w > 1 ? 'es' : ''}`

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const machine = await describeMachine()
  const results = new Map<number, Rep[]>(o.fleet.map((w) => [w, []]))
  // repetitions interleave the fleet sizes, so drift on the box hits all of them
  for (let rep = 1; rep <= o.runs; rep++)
    for (const w of o.fleet) {
      const r = await oneRep(w, o.workflows)
      results.get(w)!.push(r)
      process.stderr.write(
        `rep ${rep}/${o.runs} ${label(w)}: ${fmt(r.perSecond, 1)} workflows/s, duplicates ${r.duplicates}, lost ${r.lost}\n`,
      )
    }
  const rows = o.fleet.map((w) => {
    const rs = results.get(w)!
    return `| ${label(w)} | ${fmt(median(rs.map((r) => r.perSecond)), 1)} | ${rs.map((r) => fmt(r.perSecond, 1)).join(' / ')} | ${fmt(median(rs.map((r) => r.commitsPerWorkflow ?? Number.NaN)), 1)} | ${rs.reduce((a, r) => a + r.duplicates, 0)} | ${rs.reduce((a, r) => a + r.lost, 0)} |`
  })
  const table = [
    '| Fleet | Workflows/s (median) | Reps | PostgreSQL commits per workflow | Duplicates | Lost |',
    '|---|---:|---|---:|---:|---:|',
    ...rows,
  ].join('\n')
  process.stdout.write(`\n${table}\n\n(${fmt((Date.now() - started) / 1000)} s)\n`)
  const full = o.runs >= 3 && o.workflows >= 100 && [1, 2, 4].every((w) => o.fleet.includes(w))
  if (!full) {
    process.stderr.write(
      'README and RESULTS.md not updated: a full run is ≥ 3 runs, ≥ 100 workflows, fleet 1,2,4\n',
    )
    return
  }
  const postgres = await describePostgres(ADMIN_URL)
  writeReadmeSection(
    path.join(HERE, 'README.md'),
    'Workers on one PostgreSQL (issue 11)',
    `Measured by \`npm run bench -- workers\` (bench/workers.ts): the B3 workload (${o.workflows} supplier receipts from ${CONNECTIONS} senders, closed loop, ERP and QMS simulators at 5 ms) against one \`--role api\` process taking the webhooks and N \`--role worker\` processes on one PostgreSQL database, beside one process with every role. Medians of ${o.runs} interleaved runs; load average at start ${machine.loadAvgAtStart.join(' ')} on ${machine.nproc} cores.

${table}

More processes cannot add CPU on 2 cores; the table shows that competing workers keep every workflow exactly once and what the coordination costs.`,
  )
  writeResultsRow(
    'workers',
    'B3 workload with 1, 2, 4 worker processes (issue 11)',
    o.fleet
      .map((w) => `${label(w)} ${fmt(median(results.get(w)!.map((r) => r.perSecond)), 1)} wf/s`)
      .join('; '),
    machine,
    postgres,
  )
}

await main()

/**
 * Dead-letter replay benchmark (issue 12, "dead-letter replay"): N runs dead-lettered by a
 * permanent failure in their second step, the failure fixed, then all N replayed through the API
 * as an operator does (POST /v1/dead-letters/replay, bulk, ≤ 10,000 per call) against a real
 * Qualink (startQualink, PostgreSQL store in a fresh database, engine as shipped: concurrency 8).
 *
 * Measured: replay rate = N ÷ (replay request sent → the N-th replayed run completed), the bulk
 * call's own duration, and, as the in-run reference, the rate at which the same N runs first ran up
 * to their dead letter (same two steps, same engine). Idempotence: every effect is counted by its
 * step's idempotency key in the workflow's port; the first step's effect must not run again on
 * replay (journaled) and the second must run exactly once; a second bulk replay and a replay of
 * an already replayed dead letter must change nothing. Duplicate effects must be 0.
 *
 * Run: npm run bench -- replay [--dead-letters N] [--runs N]. Needs PostgreSQL at QUALINK_BENCH_PG_URL.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pg from 'pg'
import pino from 'pino'
import { PermanentError } from '../src/engine/errors.ts'
import { defineWorkflow } from '../src/engine/workflow.ts'
import { startQualink } from '../src/server/qualink.ts'
import { PostgresStore } from '../src/store/postgres/store.ts'
import { PING, pingEvents } from './lib/engine-qualink.ts'
import { createTempDatabase, describeMachine, describePostgres, waitForQuiet } from './lib/machine.ts'
import { machineSummary, writeReadmeSection, writeResultsRow } from './lib/readme.ts'
import { fmt, median } from './lib/stats.ts'

const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const HERE = path.dirname(fileURLToPath(import.meta.url))
const MAX_PER_CALL = 10_000
const log = (s: string) => process.stderr.write(`${s}\n`)

/** The side effects, as a remote system would record them: one entry per idempotency key. */
class Effects {
  broken = true
  readonly applied = new Map<string, number>()
  apply(key: string): void {
    this.applied.set(key, (this.applied.get(key) ?? 0) + 1)
  }
  get duplicates(): number {
    let d = 0
    for (const n of this.applied.values()) d += n - 1
    return d
  }
}

function replayWorkflow() {
  return defineWorkflow<{ effects: Effects }>({
    name: 'bench-replay',
    version: 1,
    triggers: [PING],
    key: (e) => e.id,
    run: async (ctx) => {
      await ctx.step('book', async ({ idempotencyKey }) => {
        ctx.ports.effects.apply(idempotencyKey)
        return null
      })
      await ctx.step('post', async ({ idempotencyKey }) => {
        if (ctx.ports.effects.broken) throw new PermanentError('QLK_REMOTE_REJECTED', 'ERP refused: broken')
        ctx.ports.effects.apply(idempotencyKey)
        return null
      })
      return null
    },
  })
}

interface RepResult {
  readonly deadLetters: number
  /** runs/s from the events appended to the N-th dead letter */
  readonly firstPassRate: number
  readonly replayRate: number
  readonly replayCallSeconds: number
  readonly completed: number
  readonly effects: number
  readonly duplicates: number
  readonly secondReplayReplayed: number
  readonly replayAgainStatus: number
  readonly idle: number
}

async function until(probe: pg.Client, sql: string, n: number, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const c = Number((await probe.query(sql)).rows[0].n)
    if (c >= n) return Date.now()
    if (Date.now() > end) throw new Error(`replay bench: ${c} of ${n} after ${timeoutMs / 1000} s (${sql})`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function replayCall(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: r.status, json: (await r.json()) as Record<string, unknown> }
}

async function once(n: number): Promise<RepResult> {
  const idle = await waitForQuiet()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-replay-'))
  const db = await createTempDatabase(ADMIN_URL, 'replay')
  const store = await PostgresStore.open({ connectionString: db.url })
  const effects = new Effects()
  const q = await startQualink({
    store,
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(dir, 'anchors.jsonl'),
    workflows: [replayWorkflow()],
    ports: { effects },
  })
  const probe = new pg.Client({ connectionString: db.url })
  await probe.connect()
  try {
    const t0 = Date.now()
    for (let i = 0; i < n; i += 2_000)
      await store.appendEvents([
        { actor: 'bench', events: pingEvents(i, Math.min(2_000, n - i), new Date().toISOString()) },
      ])
    q.engine.wake()
    const dead = await until(
      probe,
      `SELECT count(*) AS n FROM dead_letters WHERE status = 'open'`,
      n,
      600_000,
    )
    effects.broken = false
    const r0 = Date.now()
    let replayed = 0
    while (replayed < n) {
      const r = await replayCall(`${q.url}/v1/dead-letters/replay?wait=true`, { max: MAX_PER_CALL })
      if (r.status !== 202) throw new Error(`bulk replay: HTTP ${r.status} ${JSON.stringify(r.json)}`)
      const got = (r.json.replayed as unknown[]).length
      if (got === 0) throw new Error(`bulk replay: nothing replayed at ${replayed} of ${n}`)
      replayed += got
    }
    const r1 = Date.now()
    const done = await until(
      probe,
      `SELECT count(*) AS n FROM workflow_runs WHERE status = 'completed'`,
      n,
      600_000,
    )
    // Idempotence of the replay itself: nothing open is left to replay, a replayed one is refused.
    const again = await replayCall(`${q.url}/v1/dead-letters/replay?wait=true`, { max: MAX_PER_CALL })
    const firstId = (await probe.query('SELECT min(id) AS id FROM dead_letters')).rows[0].id
    const one = await fetch(`${q.url}/v1/dead-letters/${firstId}/replay`, { method: 'POST' })
    await one.arrayBuffer()
    const completed = Number(
      (await probe.query(`SELECT count(*) AS n FROM workflow_runs WHERE status = 'completed'`)).rows[0].n,
    )
    return {
      deadLetters: n,
      firstPassRate: n / ((dead - t0) / 1000),
      replayRate: n / ((done - r0) / 1000),
      replayCallSeconds: (r1 - r0) / 1000,
      completed,
      effects: [...effects.applied.values()].reduce((a, b) => a + b, 0),
      duplicates: effects.duplicates,
      secondReplayReplayed: (again.json.replayed as unknown[] | undefined)?.length ?? -1,
      replayAgainStatus: one.status,
      idle,
    }
  } finally {
    await probe.end().catch(() => {})
    await q.close()
    await store.close()
    await db.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

function parseArgs(argv: readonly string[]): { n: number; runs: number } {
  let n = 2_000
  let runs = 3
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = Number(argv[++i])
    if (!Number.isInteger(v) || v < 1) throw new Error(`${a} must be a positive integer, not '${argv[i]}'`)
    if (a === '--dead-letters') n = v
    else if (a === '--runs') runs = v
    else throw new Error(`unknown argument ${a}; usage: replay.ts [--dead-letters N] [--runs N]`)
  }
  return { n, runs }
}

export async function main(argv: readonly string[]): Promise<void> {
  const { n, runs } = parseArgs(argv)
  const machine = await describeMachine()
  const postgres = await describePostgres(ADMIN_URL)
  const started = Date.now()
  const reps: RepResult[] = []
  for (let i = 1; i <= runs; i++) {
    const r = await once(n)
    reps.push(r)
    log(
      `replay ${i}/${runs}: ${fmt(r.replayRate)} runs/s replayed (bulk call ${fmt(r.replayCallSeconds, 2)} s); first pass ${fmt(r.firstPassRate)} runs/s; completed ${r.completed}/${n}; effects ${r.effects} (expected ${2 * n}), duplicates ${r.duplicates}; second bulk replay replayed ${r.secondReplayReplayed}; replaying a replayed one: HTTP ${r.replayAgainStatus}; idle before ${fmt(r.idle * 100)} %`,
    )
  }
  const elapsed = (Date.now() - started) / 1000
  const med = (f: (r: RepResult) => number) => median(reps.map(f))
  const list = (f: (r: RepResult) => number, d = 0) => reps.map((r) => fmt(f(r), d)).join(' / ')
  const duplicates = reps.reduce((a, r) => a + r.duplicates, 0)
  const exact = reps.every(
    (r) =>
      r.completed === n && r.effects === 2 * n && r.secondReplayReplayed === 0 && r.replayAgainStatus === 404,
  )
  const ok = duplicates === 0 && exact
  const table = `| What | Median | Reps |
|---|---:|---|
| Replay: ${fmt(n)} dead letters → runs completed, runs/s | ${fmt(med((r) => r.replayRate))} | ${list((r) => r.replayRate)} |
| … of which the bulk replay call(s), s | ${fmt(
    med((r) => r.replayCallSeconds),
    2,
  )} | ${list((r) => r.replayCallSeconds, 2)} |
| Reference: the same runs' first pass (events appended → ${fmt(n)} dead letters), runs/s | ${fmt(med((r) => r.firstPassRate))} | ${list((r) => r.firstPassRate)} |

| Check | Measured | Rule | Result |
|---|---|---|---|
| Duplicate effects (by idempotency key) | ${duplicates} | = 0 | ${duplicates === 0 ? 'PASS' : 'FAIL'} |
| Every run completed once, 2 effects per run, second bulk replay replays 0, a replayed dead letter is refused (404) | ${exact ? 'yes' : 'no'} | all | ${exact ? 'PASS' : 'FAIL'} |`
  process.stdout.write(`\n${table}\n\n(${fmt(elapsed)} s)\n`)
  mkdirSync(path.join(HERE, 'results'), { recursive: true })
  writeFileSync(
    path.join(HERE, 'results', 'replay.json'),
    `${JSON.stringify({ machine, postgres, n, runs, elapsedSeconds: elapsed, reps }, null, 2)}\n`,
  )
  if (runs < 3 || n < 2_000) {
    log(
      'README and RESULTS.md not updated: only a full run (≥ 3 runs, ≥ 2,000 dead letters) is written there',
    )
    return
  }
  writeReadmeSection(
    path.join(HERE, 'README.md'),
    'Dead-letter replay',
    `Run: \`npm run bench -- replay\` (or \`npx tsx bench/replay.ts [--dead-letters N] [--runs N]\`); raw numbers in \`bench/results/replay.json\`. Not a test: no assertion, exit 0.

How it is measured: a real Qualink (startQualink, PostgreSQL store in a fresh database per repetition, engine as shipped: concurrency 8) runs a two-step workflow on ${fmt(n)} events appended in batches of 2,000; its second step fails with a permanent error (the ERP refused), so each run ends in an open dead letter. Then the failure is fixed and all are replayed through \`POST /v1/dead-letters/replay?wait=true\` (bulk, up to 10,000 per call, answered once replayed; without \`wait\` the call answers at once with an operation to poll), as an operator does; replay rate = ${fmt(n)} ÷ (first replay call sent → the last replayed run completed, polled every 10 ms). Each step's effect is counted by its idempotency key in the workflow's port: on replay the first step must not run again (its result is journaled) and the second must run once. Median of ${runs} repetitions; each waited for ≥ 85 % idle (min seen ${fmt(Math.min(...reps.map((r) => r.idle)) * 100)} %). No baseline system: the reference row is the same engine running the same runs for the first time.

${machineSummary(machine, postgres)}

${table}

Whole benchmark: ${fmt(elapsed)} s; load average at the end ${os
      .loadavg()
      .map((x) => fmt(x, 2))
      .join(' ')}.`,
  )
  writeResultsRow(
    'replay',
    'Dead-letter replay through the API (issue 12)',
    `${fmt(med((r) => r.replayRate))} runs/s replaying ${fmt(n)} dead letters (first pass ${fmt(med((r) => r.firstPassRate))} runs/s); duplicate effects ${duplicates} ${ok ? 'PASS' : 'FAIL'}`,
    machine,
    postgres,
  )
  log('bench/README.md section "Dead-letter replay" and bench/RESULTS.md row written')
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2))
  process.exit(0)
}

import { performance } from 'node:perf_hooks'
import {
  type LogFunctionFactory,
  Logger,
  makeWorkerUtils,
  type Runner,
  run,
  runMigrations,
} from 'graphile-worker'
import pg from 'pg'
import type { DrainResult, LatencyResult } from './engine-qualink.ts'
import { createTempDatabase, percentile } from './engine-support.ts'

/**
 * The baseline: graphile-worker 0.17.3 with its defaults (no local queue, pollInterval 2 s,
 * LISTEN/NOTIFY on jobs:insert), except the concurrency we give both engines and the pool size
 * its documentation recommends (concurrency + 2). Each measurement gets its own fresh database.
 */
const silent: LogFunctionFactory = () => () => {}
const logger = new Logger(silent)

const ADD_BATCH = 10_000

/** Our own pool, so it is ended (and its idle clients gone) before the database is dropped. */
function options(url: string, concurrency: number) {
  const pgPool = new pg.Pool({ connectionString: url, max: Math.max(10, concurrency + 2) })
  pgPool.on('error', () => {})
  return { pgPool, concurrency, noHandleSignals: true, logger }
}

/**
 * N no-op jobs added with add_jobs in a fresh database, then a runner timed from run() until
 * the queue is empty or `windowSeconds` passed (the same rule as ours).
 */
export async function graphileDrain(
  adminUrl: string,
  jobs: number,
  concurrency: number,
  windowSeconds: number,
): Promise<DrainResult & { readonly addSeconds: number }> {
  const db = await createTempDatabase(adminUrl, 'gw_drain')
  const pools: pg.Pool[] = []
  let runner: Runner | undefined
  const probe = new pg.Client({ connectionString: db.url })
  try {
    const migrate = options(db.url, concurrency)
    await runMigrations(migrate)
    await migrate.pgPool.end()
    await probe.connect()
    const p0 = performance.now()
    // Bulk add through graphile-worker's own add_jobs (one call per 10,000 jobs).
    for (let i = 0; i < jobs; i += ADD_BATCH) {
      await probe.query(
        `SELECT count(*) FROM graphile_worker.add_jobs((
           SELECT array_agg(ROW('noop', json_build_object('n', n), NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec)
             FROM generate_series($1::int, $2::int) n))`,
        [i, Math.min(i + ADD_BATCH, jobs) - 1],
      )
    }
    const addSeconds = (performance.now() - p0) / 1000
    const queued = async () =>
      Number((await probe.query('SELECT count(*) AS n FROM graphile_worker.jobs')).rows[0].n)
    if ((await queued()) !== jobs) throw new Error(`graphile-worker: jobs queued != ${jobs}`)
    let completed = 0
    let failed = 0
    let onAllDone: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      onAllDone = resolve
    })
    const t0 = performance.now()
    const drainOpts = options(db.url, concurrency)
    pools.push(drainOpts.pgPool)
    runner = await run({ ...drainOpts, taskList: { noop: async () => {} } })
    const startSeconds = (performance.now() - t0) / 1000
    runner.events.on('job:complete', () => {
      if (++completed >= jobs) onAllDone()
    })
    runner.events.on('job:error', () => {
      failed++
    })
    let window: NodeJS.Timeout | undefined
    let drained = false
    let closed = false
    await Promise.race([
      done.then(async () => {
        // 0.17 fires job:complete before its completeJob statement commits (the worker does
        // not await it): the backlog is drained when the jobs table is empty.
        while (!closed && (await queued()) > 0) await new Promise((r) => setTimeout(r, 5))
        drained = !closed
      }),
      new Promise((r) => (window = setTimeout(r, (windowSeconds - startSeconds) * 1000))),
    ])
    clearTimeout(window)
    closed = true
    const seconds = (performance.now() - t0) / 1000
    const finished = completed
    await runner.stop()
    runner = undefined
    return {
      completed: finished,
      backlog: jobs,
      seconds,
      runsPerSecond: finished / seconds,
      drained,
      startSeconds,
      addSeconds,
      otherOutcomes: failed > 0 ? { error: failed } : {},
    }
  } finally {
    await runner?.stop().catch(() => {})
    await probe.end().catch(() => {})
    for (const p of pools) await p.end().catch(() => {})
    await db.drop()
  }
}

/** add_job → task start, one job at a time on an open-loop schedule, worker idle in between. */
export async function graphileLatency(
  adminUrl: string,
  ratePerSec: number,
  seconds: number,
  warmup: number,
  concurrency: number,
): Promise<LatencyResult> {
  const db = await createTempDatabase(adminUrl, 'gw_latency')
  const opts = options(db.url, concurrency)
  let runner: Runner | undefined
  const utils = await makeWorkerUtils({ pgPool: opts.pgPool, logger })
  try {
    await utils.migrate()
    const committedAt = new Map<number, number>()
    const started = new Map<number, number>()
    const total = warmup + Math.round(ratePerSec * seconds)
    let onAllDone: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      onAllDone = resolve
    })
    runner = await run({
      ...opts,
      taskList: {
        noop: async (payload) => {
          const n = (payload as { n: number }).n
          if (!started.has(n)) started.set(n, performance.now())
          if (started.size >= total) onAllDone()
        },
      },
    })
    const interval = 1000 / ratePerSec
    const begin = performance.now() + interval
    const adds: Promise<void>[] = []
    for (let i = 0; i < total; i++) {
      const wait = begin + i * interval - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const n = i
      adds.push(
        utils.addJob('noop', { n }).then(() => {
          committedAt.set(n, performance.now())
        }),
      )
    }
    await Promise.all(adds)
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000).unref())])
    const latencies: number[] = []
    for (let i = warmup; i < total; i++) {
      const t1 = started.get(i)
      if (t1 === undefined) throw new Error(`graphile-worker: job ${i} never started`)
      latencies.push(t1 - committedAt.get(i)!)
    }
    return {
      samples: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
      latenciesMs: latencies,
    }
  } finally {
    await runner?.stop().catch(() => {})
    await utils.release()
    await opts.pgPool.end().catch(() => {})
    await db.drop()
  }
}

import { randomUUID } from 'node:crypto'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import pino from 'pino'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { Engine, type EngineMetrics } from '../../src/engine/engine.ts'
import { WorkflowRegistry } from '../../src/engine/registry.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import { PostgresStore } from '../../src/store/postgres/store.ts'
import { SqliteStore } from '../../src/store/sqlite/store.ts'
import type { AppendEvent, Store } from '../../src/store/types.ts'
import { createTempDatabase, percentile, type TempDatabase } from './engine-support.ts'

export type Dialect = 'sqlite' | 'postgres'

interface Fresh {
  readonly store: Store
  dispose(): Promise<void>
}

/** A store in a fresh database (PostgreSQL) or a fresh temp directory (SQLite), and how to remove it. */
export async function freshStore(dialect: Dialect, adminUrl: string, label: string): Promise<Fresh> {
  if (dialect === 'postgres') {
    const db = await createTempDatabase(adminUrl, label)
    return openPostgres(db)
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), `qlk-bench-${label}-`))
  return openSqlite(dir)
}

async function openPostgres(db: TempDatabase): Promise<Fresh> {
  const store = await PostgresStore.open({ connectionString: db.url })
  return {
    store,
    dispose: async () => {
      await store.close()
      await db.drop()
    },
  }
}

function openSqlite(dir: string): Fresh {
  const store = SqliteStore.open({ file: path.join(dir, 'qualink.db'), readWorkers: 0 })
  return {
    store,
    dispose: async () => {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const PING = 'qualink.test.pinged.v1'

export function pingEvents(from: number, count: number, at: string): AppendEvent[] {
  const out: AppendEvent[] = []
  for (let i = from; i < from + count; i++) {
    const e = {
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:bench:engine',
      type: PING,
      plant: 'P100',
      data: { n: i },
    } as unknown as CloudEvent
    out.push(toAppendEvent(e, at))
  }
  return out
}

/**
 * One run per event, keyed by event id (no key ever waits for another), with exactly one
 * no-op step: a completed run is one step. `onStep` fires as the step function starts.
 */
function noopWorkflow(onStep: (eventId: string) => void) {
  return defineWorkflow({
    name: 'bench-noop',
    version: 1,
    triggers: [PING],
    key: (e) => e.id,
    run: async (ctx) => {
      await ctx.step('noop', async () => {
        onStep(ctx.trigger.id)
        return null
      })
      return null
    },
  })
}

interface Outcomes extends EngineMetrics {
  completed: number
  other: Record<string, number>
  onAllDone: (() => void) | undefined
  target: number
}

function outcomes(target: number): Outcomes {
  const o: Outcomes = {
    completed: 0,
    other: {},
    onAllDone: undefined,
    target,
    onOutcome(_workflow, outcome) {
      if (outcome === 'completed') {
        o.completed++
        if (o.completed >= o.target) o.onAllDone?.()
      } else o.other[outcome] = (o.other[outcome] ?? 0) + 1
    },
    onTakeover() {},
  }
  return o
}

export interface DrainResult {
  /** runs (jobs) completed inside the measured window */
  readonly completed: number
  readonly backlog: number
  /** seconds from start until the backlog was empty or the window closed */
  readonly seconds: number
  readonly runsPerSecond: number
  /** the whole backlog drained inside the window */
  readonly drained: boolean
  /** how long start() took before the first claim (checkVersions over the active runs) */
  readonly startSeconds: number
  readonly otherOutcomes: Record<string, number>
}

export const DRAIN_CONCURRENCY = 16
const PRELOAD_BATCH = 2_000

/**
 * A backlog of N pending no-op runs, made once through appendEvents (routing inserts the runs
 * in the append transaction) and copied for every repetition: a template database on
 * PostgreSQL, a file copy on SQLite. Preloading 100,000 events takes longer than draining a
 * window of them, so it is timed once and not repeated.
 */
export interface Backlog {
  readonly runs: number
  readonly preloadSeconds: number
  copy(): Promise<Fresh>
  drop(): Promise<void>
}

export async function preloadBacklog(dialect: Dialect, adminUrl: string, runs: number): Promise<Backlog> {
  let template: TempDatabase | undefined
  let dir: string | undefined
  let fresh: Fresh
  if (dialect === 'postgres') {
    template = await createTempDatabase(adminUrl, 'backlog')
    fresh = await openPostgres(template)
  } else {
    dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-backlog-'))
    fresh = openSqlite(dir)
  }
  const { store } = fresh
  try {
    store.engine.setRouter(new WorkflowRegistry([noopWorkflow(() => {})]).router())
    const p0 = performance.now()
    const at = new Date().toISOString()
    for (let i = 0; i < runs; i += PRELOAD_BATCH) {
      await store.appendEvents([
        { actor: 'bench', events: pingEvents(i, Math.min(PRELOAD_BATCH, runs - i), at) },
      ])
    }
    const preloadSeconds = (performance.now() - p0) / 1000
    const pending = (await store.engine.engineCounts()).runsByStatus.pending ?? 0
    if (pending !== runs)
      throw new Error(`${dialect}: preload made ${pending} pending runs, expected ${runs}`)
    await store.close()
    return {
      runs,
      preloadSeconds,
      copy: async () => {
        if (template) return openPostgres(await createTempDatabase(adminUrl, 'drain', template))
        const to = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-drain-'))
        for (const f of ['qualink.db', 'qualink.db-wal'])
          if (existsSync(path.join(dir!, f))) copyFileSync(path.join(dir!, f), path.join(to, f))
        return openSqlite(to)
      },
      drop: async () => {
        if (template) await template.drop()
        if (dir) rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (e) {
    await fresh.dispose().catch(() => {})
    throw e
  }
}

/**
 * Backlog drain: an engine started on a copy of the backlog, timed from start() until the
 * N-th run's completion has committed or `windowSeconds` passed, whichever comes first.
 */
export async function qualinkDrain(
  backlog: Backlog,
  concurrency: number,
  windowSeconds: number,
): Promise<DrainResult> {
  const { store, dispose } = await backlog.copy()
  try {
    const metrics = outcomes(backlog.runs)
    const engine = new Engine({
      store,
      workflows: [noopWorkflow(() => {})],
      owner: `bench-${process.pid}`,
      concurrency,
      logger: pino({ level: 'silent' }),
      metrics,
    })
    let drained = false
    const done = new Promise<void>((resolve) => {
      metrics.onAllDone = () => {
        drained = true
        resolve()
      }
    })
    const t0 = performance.now()
    await engine.start()
    const startSeconds = (performance.now() - t0) / 1000
    let window: NodeJS.Timeout | undefined
    await Promise.race([
      done,
      new Promise((r) => (window = setTimeout(r, (windowSeconds - startSeconds) * 1000))),
    ])
    clearTimeout(window)
    const seconds = (performance.now() - t0) / 1000
    const completed = metrics.completed
    await engine.stop()
    const counted = (await store.engine.engineCounts()).runsByStatus.completed ?? 0
    if (counted < completed)
      throw new Error(`${store.dialect}: ${counted} runs completed in the store, ${completed} reported`)
    return {
      completed,
      backlog: backlog.runs,
      seconds,
      runsPerSecond: completed / seconds,
      drained,
      startSeconds,
      otherOutcomes: metrics.other,
    }
  } finally {
    await dispose()
  }
}

export interface LatencyResult {
  readonly samples: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly latenciesMs: readonly number[]
}

/**
 * Idle latency: an engine as the server ships it (concurrency, pollMs and lease defaults), one
 * event appended at a time on an open-loop schedule of `ratePerSec`; the append is followed by
 * engine.wake() as the server's onResponse hook does. t0 = appendEvents resolved (committed),
 * t1 = the step function starts.
 */
export async function qualinkLatency(
  dialect: Dialect,
  adminUrl: string,
  ratePerSec: number,
  seconds: number,
  warmup: number,
): Promise<LatencyResult> {
  const { store, dispose } = await freshStore(dialect, adminUrl, 'latency')
  const committedAt = new Map<string, number>()
  const started = new Map<string, number>()
  const total = warmup + Math.round(ratePerSec * seconds)
  const metrics = outcomes(total)
  const engine = new Engine({
    store,
    workflows: [
      noopWorkflow((id) => {
        if (!started.has(id)) started.set(id, performance.now())
      }),
    ],
    owner: `bench-${process.pid}`,
    logger: pino({ level: 'silent' }),
    metrics,
  })
  try {
    await engine.start()
    const done = new Promise<void>((resolve) => {
      metrics.onAllDone = resolve
    })
    const interval = 1000 / ratePerSec
    const begin = performance.now() + interval
    const appends: Promise<void>[] = []
    for (let i = 0; i < total; i++) {
      const wait = begin + i * interval - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      // Open loop: the next append does not wait for this one.
      const events = pingEvents(i, 1, new Date().toISOString())
      appends.push(
        store.appendEvents([{ actor: 'bench', events }]).then(() => {
          committedAt.set(events[0]!.id, performance.now())
          engine.wake()
        }),
      )
    }
    await Promise.all(appends)
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000).unref())])
    const ids = [...committedAt.keys()]
    const latencies: number[] = []
    for (const [i, id] of ids.entries()) {
      const t1 = started.get(id)
      if (t1 === undefined) throw new Error(`${dialect}: event ${i} never reached its step`)
      if (i >= warmup) latencies.push(t1 - committedAt.get(id)!)
    }
    return {
      samples: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
      latenciesMs: latencies,
    }
  } finally {
    await engine.stop()
    await dispose()
  }
}

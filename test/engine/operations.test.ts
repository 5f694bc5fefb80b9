/**
 * Issue 3, "Operations" and the failure taxonomy, through the engine as the server runs it:
 * retryable failures are retried on the backoff schedule (due times on the database clock) up to
 * the policy's bound, a permanent failure dead-letters at once, and the metrics the dashboard and
 * alerts read (queue depth, run states, retries, dead letters, blocked keys, lease takeovers) count
 * what happened. A graceful stop lets an in-flight run finish and claims nothing more; a run still
 * in flight after the grace is left to lease expiry and taken over by another worker.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PermanentError, RetryableError } from '../../src/engine/errors.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { KernelMetrics } from '../../src/observability/metrics.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, append, demoEvent, engine, until } from './harness.ts'

const key = (ev: { readonly data?: unknown }) => (ev.data as { order: string }).order
const ORDER = 'qualink.demo.order_received.v1'

/**
 * The value of one sample line of the Prometheus text, 0 when absent. A scrape of its own: store
 * counts are shared within one scrape (per-scrape.ts) until the next macrotask, and SQLite's
 * synchronous driver can finish a whole drain without one.
 */
async function sample(m: KernelMetrics, line: string): Promise<number> {
  await new Promise((r) => setImmediate(r))
  const text = await m.registry.metrics()
  const found = text.split('\n').find((l) => l.startsWith(`${line} `))
  return found ? Number(found.slice(line.length + 1)) : 0
}

describe.each(DIALECTS)('engine operations on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store | undefined
  const runOf = async (k: string) => (await store!.engine.listRuns(ALL, { key: k, limit: 10 }))[0]!

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
  })

  it('retries on the backoff schedule up to the bound, dead-letters a permanent error at once, and counts it all', async () => {
    const flaky = defineWorkflow<unknown>({
      name: 'flaky',
      version: 1,
      triggers: [ORDER],
      key,
      // 2 s, then 4 s ceilings; with random() = 0.5 the delays are 1 s and 2 s
      retry: { maxAttempts: 3, initialDelayMs: 2_000, maxDelayMs: 10_000, factor: 2 },
      async run(_ctx, trigger) {
        const d = trigger.envelope.data as { order: string }
        if (d.order.startsWith('P')) throw new PermanentError('QLK_VALIDATION', 'refused for good')
        throw new RetryableError('QLK_REMOTE_UNAVAILABLE', 'the remote is down')
      },
    })
    const metrics = new KernelMetrics()
    metrics.observeEngine(store!.engine)
    const e = engine(store!, { workflows: [flaky], metrics: metrics.engine(), random: () => 0.5 })

    await append(store!, demoEvent('order_received', { order: 'T-1' }))
    await append(store!, demoEvent('order_received', { order: 'P-1' }))
    // queue depth: both runs are due and unclaimed
    expect(await sample(metrics, 'qualink_runs_due')).toBe(2)

    // Attempt 1 of each. The retry is due 1 s after the failure, on the database clock.
    const before1 = await store!.now()
    await e.drain()
    const after1 = await store!.now()
    let t = await runOf('T-1')
    expect(t).toMatchObject({ status: 'pending', attempts: 1, lastErrorCode: 'QLK_REMOTE_UNAVAILABLE' })
    expect(t.dueAtMs! - before1).toBeGreaterThanOrEqual(1_000)
    expect(t.dueAtMs! - after1).toBeLessThanOrEqual(1_000)
    // The permanent failure was not retried.
    const [dlP] = await store!.engine.listDeadLetters(ALL, { limit: 10 })
    expect(dlP).toMatchObject({ key: 'P-1', attempts: 1, errorCode: 'QLK_VALIDATION' })
    // The queue holds the retry once it is due (a loaded machine may reach that before the scrape).
    const ahead = await store!.now()
    const due = await sample(metrics, 'qualink_runs_due')
    const behind = await store!.now()
    if (behind < t.dueAtMs!) expect(due).toBe(0)
    else if (ahead >= t.dueAtMs!) expect(due).toBe(1)

    // Not due yet: a drain claims nothing (checked when the machine leaves time for it).
    if (t.dueAtMs! - (await store!.now()) > 500) {
      await e.drain()
      if ((await store!.now()) < t.dueAtMs!) expect((await runOf('T-1')).attempts).toBe(1)
    }

    // Attempt 2, once due: the next delay doubles (2 s).
    await until(async () => (await store!.now()) >= t.dueAtMs!)
    expect(await sample(metrics, 'qualink_runs_due')).toBe(1)
    const before2 = await store!.now()
    await e.drain()
    const after2 = await store!.now()
    t = await runOf('T-1')
    expect(t).toMatchObject({ status: 'pending', attempts: 2 })
    expect(t.dueAtMs! - before2).toBeGreaterThanOrEqual(2_000)
    expect(t.dueAtMs! - after2).toBeLessThanOrEqual(2_000)

    // Attempt 3 is the last the policy allows: dead letter, key blocked (the default policy).
    await until(async () => (await store!.now()) >= t.dueAtMs!)
    await e.drain()
    expect((await runOf('T-1')).status).toBe('failed')
    const dlT = (await store!.engine.listDeadLetters(ALL, { limit: 10 })).find((d) => d.key === 'T-1')
    expect(dlT).toMatchObject({ attempts: 3, errorCode: 'QLK_REMOTE_UNAVAILABLE', status: 'open' })

    expect(await sample(metrics, 'qualink_workflow_outcomes_total{workflow="flaky",outcome="retry"}')).toBe(2)
    expect(
      await sample(metrics, 'qualink_workflow_outcomes_total{workflow="flaky",outcome="dead_letter"}'),
    ).toBe(2)
    expect(await sample(metrics, 'qualink_dead_letters_open')).toBe(2)
    expect(await sample(metrics, 'qualink_blocked_keys')).toBe(2)
    expect(await sample(metrics, 'qualink_runs{status="failed"}')).toBe(2)
  })

  it('a graceful stop lets the in-flight run finish and claims nothing more', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const started: string[] = []
    const slow = defineWorkflow<unknown>({
      name: 'slow',
      version: 1,
      triggers: [ORDER],
      key,
      async run(ctx, trigger) {
        const order = key(trigger.envelope)
        return ctx.step('work', async () => {
          started.push(order)
          if (order === 'G-1') await gate
          return `done ${order}`
        })
      },
    })
    const e = engine(store!, { workflows: [slow], pollMs: 20 })
    await e.start()
    await append(store!, demoEvent('order_received', { order: 'G-1' }))
    await until(() => started.includes('G-1'))

    let stopped = false
    const stopping = e.stop(60_000).then(() => {
      stopped = true
    })
    // An event stored after the stop began is not claimed by this engine.
    await append(store!, demoEvent('order_received', { order: 'G-2' }))
    e.wake()
    // The stop waits for the in-flight step (its grace is a minute): still waiting after a round trip.
    await store!.now()
    expect(stopped).toBe(false)
    release()
    await stopping
    const g1 = await runOf('G-1')
    expect(g1).toMatchObject({ status: 'completed', result: 'done G-1', leaseOwner: null })
    expect(started).toEqual(['G-1'])
    expect((await runOf('G-2')).status).toBe('pending')
  })

  it('a run still in flight after the grace is left to lease expiry and taken over, counted', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const attempts: string[] = []
    const stuck = defineWorkflow<unknown>({
      name: 'stuck',
      version: 1,
      triggers: [ORDER],
      key,
      async run(ctx) {
        const n = await ctx.step('work', async () => {
          attempts.push('attempt')
          if (attempts.length === 1) await gate // the first worker hangs here
          return attempts.length
        })
        return { finishedBy: n }
      },
    })
    const first = engine(store!, { workflows: [stuck], pollMs: 20, leaseTtlMs: 300 })
    try {
      await first.start()
      await append(store!, demoEvent('order_received', { order: 'H-1' }))
      await until(() => attempts.length === 1)
      await first.stop(50) // returns after the grace although the step still hangs
      // The process exits after a stop; its store goes with it and heartbeats stop renewing.
      await store!.close()
      store = await db.open()

      const metrics = new KernelMetrics()
      const second = engine(store, { workflows: [stuck], metrics: metrics.engine(), leaseTtlMs: 5_000 })
      await until(async () => {
        await second.drain()
        return (await runOf('H-1')).status === 'completed'
      })
      expect((await runOf('H-1')).result).toEqual({ finishedBy: 2 })
      expect(await sample(metrics, 'qualink_lease_takeovers_total{workflow="stuck"}')).toBe(1)
    } finally {
      release() // the abandoned attempt wakes up against a closed store: nothing it does lands
    }
  })
})

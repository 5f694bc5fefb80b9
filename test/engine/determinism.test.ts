/**
 * DESIGN §6 "Determinism" and "Versions", and the heartbeat half of "fenced leases", through the
 * engine on both dialects: ctx.now() and the configuration snapshot are the first execution's on
 * every replay; a run keeps the code of the version it started on unless a newer version declares
 * itself compatible; an engine refuses to start without code for an active run's version; a step
 * that outlasts the lease keeps it by heartbeat, so no other worker takes the run over.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { KernelMetrics } from '../../src/observability/metrics.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, append, demoEvent, engine, startDemoHub, until } from './harness.ts'

const key = (ev: { readonly data?: unknown }) => (ev.data as { order: string }).order
const ORDER = 'qualink.demo.order_received.v1'
const APPROVAL = 'qualink.demo.approval_given.v1'

describe.each(DIALECTS)('determinism, versions and heartbeats on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
  })

  const runOf = async (k: string) => (await store.engine.listRuns(ALL, { key: k, limit: 10 }))[0]!
  const completed = async (e: { drain(): Promise<void> }, ...keys: string[]) =>
    until(async () => {
      await e.drain()
      return (await Promise.all(keys.map(runOf))).every((r) => r.status === 'completed')
    })

  it('ctx.now() and the configuration snapshot are the first execution’s on every replay', async () => {
    let setting = 'first'
    const seen: Array<{ now: number; setting: string }> = []
    const clocked = defineWorkflow<unknown, { setting: string }>({
      name: 'clocked',
      version: 1,
      triggers: [ORDER],
      key,
      config: () => ({ setting }),
      async run(ctx) {
        const now = (await ctx.now()).getTime()
        seen.push({ now, setting: ctx.config.setting })
        const w = await ctx.waitFor(APPROVAL, { subject: ctx.key, timeout: '1h' })
        return { now, setting: ctx.config.setting, approved: !w.timedOut }
      },
    })
    const e = engine(store, { workflows: [clocked] })
    const before = await store.now()
    await append(store, demoEvent('order_received', { order: 'D-1' }))
    await e.drain()
    expect((await runOf('D-1')).status).toBe('waiting')
    expect(seen).toHaveLength(1)
    expect(seen[0]!.now).toBeGreaterThanOrEqual(before)

    // The plant's settings change and time passes while the run waits.
    setting = 'second'
    await until(async () => (await store.now()) > seen[0]!.now + 5)
    await append(store, demoEvent('approval_given', { order: 'D-1', approver: 'qa' }))
    await completed(e, 'D-1')
    expect(seen).toHaveLength(2)
    expect(seen[1]).toEqual(seen[0]) // the replay read the journaled time and the run's snapshot
    const run = await runOf('D-1')
    expect(run.result).toEqual({ now: seen[0]!.now, setting: 'first', approved: true })
    expect(run.config).toEqual({ setting: 'first' })
    const journal = (await store.engine.loadRun(ALL, run.id))!.journal
    expect(journal.filter((j) => j.kind === 'now')).toHaveLength(1)

    // A run started after the change takes the new settings.
    await append(store, demoEvent('order_received', { order: 'D-2' }))
    await e.drain()
    expect(seen[2]).toMatchObject({ setting: 'second' })
    expect((await runOf('D-2')).config).toEqual({ setting: 'second' })
  })

  it('a run keeps its version’s code unless a newer one declares itself compatible; no start without code for an active run', async () => {
    const v1 = defineWorkflow<unknown>({
      name: 'versioned',
      version: 1,
      triggers: [ORDER],
      key,
      async run(ctx) {
        const a = await ctx.step('one', async () => 'written by v1')
        await ctx.waitFor(APPROVAL, { subject: ctx.key, timeout: '1h' })
        return { code: 1, a }
      },
    })
    // v2 changes the step sequence and does not claim compatibility with v1.
    const v2 = defineWorkflow<unknown>({
      ...v1,
      version: 2,
      async run(ctx) {
        await ctx.step('other', async () => 0)
        return { code: 2 }
      },
    })
    // v3 is a patch of v1 (same sequence) and says so.
    const v3 = defineWorkflow<unknown>({
      ...v1,
      version: 3,
      compatibleWith: [1],
      async run(ctx) {
        const a = await ctx.step('one', async () => 'written by v3')
        await ctx.waitFor(APPROVAL, { subject: ctx.key, timeout: '1h' })
        return { code: 3, a }
      },
    })
    const e1 = engine(store, { workflows: [v1] })
    await append(
      store,
      demoEvent('order_received', { order: 'V-1' }),
      demoEvent('order_received', { order: 'V-3' }),
    )
    await e1.drain()
    expect((await runOf('V-1')).status).toBe('waiting')

    // Code without v1 (nor a version compatible with it) refuses to start, naming what is missing.
    const onlyV2 = engine(store, { workflows: [v2] })
    await expect(onlyV2.start()).rejects.toMatchObject({
      code: 'QLK_CONFIG_INVALID',
      message: expect.stringMatching(/active runs need .*versioned v1/),
    })

    // v1 and v2 side by side: new runs start on v2, the v1 run continues on v1's code.
    const e2 = engine(store, { workflows: [v1, v2] })
    await e2.checkVersions()
    await append(store, demoEvent('order_received', { order: 'V-2' }))
    await append(store, demoEvent('approval_given', { order: 'V-1', approver: 'qa' }))
    await completed(e2, 'V-1', 'V-2')
    expect(await runOf('V-1')).toMatchObject({ version: 1, result: { code: 1, a: 'written by v1' } })
    expect(await runOf('V-2')).toMatchObject({ version: 2, result: { code: 2 } })

    // The patch reaches the in-flight v1 run; its completed step is not run again.
    const e3 = engine(store, { workflows: [v1, v2, v3] })
    await append(store, demoEvent('approval_given', { order: 'V-3', approver: 'qa' }))
    await completed(e3, 'V-3')
    expect(await runOf('V-3')).toMatchObject({ version: 1, result: { code: 3, a: 'written by v1' } })
  })

  it('a step that outlasts the lease keeps it by heartbeat: no other worker takes the run over', async () => {
    let calls = 0
    const long = defineWorkflow<unknown>({
      name: 'long',
      version: 1,
      triggers: [ORDER],
      key,
      async run(ctx) {
        return ctx.step('long', async () => {
          calls++
          await new Promise((r) => setTimeout(r, 4_000)) // more than twice the 1.5 s lease
          return calls
        })
      },
    })
    const mA = new KernelMetrics()
    const mB = new KernelMetrics()
    const a = engine(store, { workflows: [long], leaseTtlMs: 1_500, metrics: mA.engine() })
    const b = engine(store, { workflows: [long], leaseTtlMs: 1_500, metrics: mB.engine() })
    await append(store, demoEvent('order_received', { order: 'L-1' }))
    let aDone = false
    const draining = a.drain().then(() => {
      aDone = true
    })
    await until(() => calls === 1)
    // The other worker keeps polling for the whole step.
    while (!aDone && calls === 1) {
      await b.drain()
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(calls).toBe(1) // a takeover would have run the step again
    await draining
    expect(await runOf('L-1')).toMatchObject({ status: 'completed', result: 1 })
    const textA = await mA.registry.metrics()
    const textB = await mB.registry.metrics()
    expect(textA).toMatch(/qualink_workflow_outcomes_total\{workflow="long",outcome="completed"\} 1/)
    expect(textB).not.toMatch(/qualink_workflow_outcomes_total\{workflow="long"/)
    expect(`${textA}${textB}`).not.toMatch(/qualink_lease_takeovers_total\{/)
  })
  it('a wait for the newest major is met by an older major, delivered upcast (the server as shipped)', async () => {
    const awaitResult = defineWorkflow<unknown>({
      name: 'await-result',
      version: 1,
      triggers: [ORDER],
      key,
      async run(ctx) {
        const w = await ctx.waitFor('qms.result.recorded.v2', { subject: ctx.key, timeout: '1h' })
        return w.timedOut ? 'timed out' : { type: w.event.type, data: w.event.envelope.data }
      },
    })
    const hub = await startDemoHub(dialect, { workflows: [awaitResult] })
    try {
      const runOfHub = async (k: string) => (await hub.store.engine.listRuns(ALL, { key: k, limit: 1 }))[0]
      await append(hub.store, demoEvent('order_received', { order: 'U-1' }))
      await until(async () => (await runOfHub('U-1'))?.status === 'waiting')
      // a v1 result (flat value and unit), as an older QMS connector still sends it
      const v1 = {
        ...demoEvent('order_received', { order: 'U-1' }),
        type: 'qms.result.recorded.v1',
        data: {
          inspectionLot: 'IL-1',
          plant: 'P100',
          characteristic: 'hardness',
          value: '57.1',
          unit: 'HRC',
        },
      } as unknown as CloudEvent
      await append(hub.store, v1)
      await until(async () => (await runOfHub('U-1'))?.status === 'completed')
      expect((await runOfHub('U-1'))!.result).toEqual({
        type: 'qms.result.recorded.v2',
        data: {
          inspectionLot: 'IL-1',
          plant: 'P100',
          characteristic: 'hardness',
          measured: { value: '57.1', unit: { code: 'HRC', system: 'qualink' } },
        },
      })
      // the stored event is unchanged
      const [stored] = await hub.store.listEvents(ALL, { type: 'qms.result.recorded.v1', limit: 1 })
      expect(stored!.envelope.data).toMatchObject({ value: '57.1', unit: 'HRC' })
    } finally {
      await hub.close()
    }
  })
})

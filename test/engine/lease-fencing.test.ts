/**
 * Lease fencing and the database clock, on both dialects: a worker whose lease was taken over
 * cannot write its journal or complete the run (nothing of it is stored), and due times follow the
 * database's clock, not a skewed worker's. Split from engine.test.ts (the engine's main paths).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { httpLedger, type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, append, demoEvent, engine, until } from './harness.ts'

describe.each(DIALECTS)('lease fencing and the database clock on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let ledger: LedgerServer

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    ledger = await startLedgerServer()
  })
  afterEach(async () => {
    await ledger?.close()
    await store?.close()
    await db?.cleanup()
  })

  const ports = () => ({ ledger: httpLedger(ledger.url) })
  const runOf = async (key: string) => (await store.engine.listRuns(ALL, { key, limit: 10 }))[0]!

  it('refuses a late journal write from a worker whose lease was taken over (fenced)', async () => {
    engine(store, { workflows: [kernelDemo], ports: ports() }) // installs the router
    await append(store, demoEvent('order_received', { order: 'F-1', lines: 1 }))
    const [first] = await store.engine.claimRuns('A', 1, 1)
    await until(async () => (await store.now()) > first!.leaseExpiresAtMs)
    const [second] = await store.engine.claimRuns('B', 60_000, 1)
    expect(second).toMatchObject({ id: first!.id, takenOver: true })
    expect(second!.leaseToken).toBeGreaterThan(first!.leaseToken)
    const entry = {
      position: 1,
      kind: 'step' as const,
      name: 'post-line',
      occurrence: 1,
      idempotencyKey: 'k',
      result: 1,
      codeVersion: 1,
      completedAtMs: 0,
    }
    await expect(
      store.engine.appendJournal(
        { runId: first!.id, token: first!.leaseToken },
        { entries: [entry], audits: [] },
      ),
    ).rejects.toMatchObject({
      code: 'QLK_LEASE_LOST',
    })
    await store.engine.appendJournal(
      { runId: second!.id, token: second!.leaseToken },
      { entries: [entry], audits: [] },
    )
    expect((await store.engine.loadRun(ALL, first!.id))!.journal).toHaveLength(1)
  })

  it('refuses a late completion from a worker whose lease was taken over, and writes none of it', async () => {
    engine(store, { workflows: [kernelDemo], ports: ports() }) // installs the router
    await append(store, demoEvent('order_received', { order: 'F-2', lines: 1 }))
    const [first] = await store.engine.claimRuns('A', 1, 1)
    await until(async () => (await store.now()) > first!.leaseExpiresAtMs)
    const [second] = await store.engine.claimRuns('B', 60_000, 1)
    expect(second).toMatchObject({ id: first!.id, takenOver: true })
    const entry = {
      position: 1,
      kind: 'step' as const,
      name: 'post-line',
      occurrence: 1,
      idempotencyKey: 'k2',
      result: 'it\'s \\ a "quoted" result',
      codeVersion: 1,
      completedAtMs: 0,
    }
    const audit = (actor: string) => ({
      plant: 'P100',
      actor,
      action: 'workflow.completed',
      subject: 'F-2',
      correlationId: null,
      payload: { note: "O'Brien \\ --" },
    })
    await expect(
      store.engine.completeRun(
        { runId: first!.id, token: first!.leaseToken },
        'completed',
        'late',
        audit('A'),
        {
          entries: [entry],
          audits: [],
        },
      ),
    ).rejects.toMatchObject({ code: 'QLK_LEASE_LOST' })
    const after = await store.engine.loadRun(ALL, first!.id)
    expect(after!.run.status).not.toBe('completed')
    expect(after!.journal).toHaveLength(0)
    expect(
      await store.listAudit(ALL, { subject: 'F-2', action: 'workflow.completed', limit: 10 }),
    ).toHaveLength(0)
    // the owner's completion goes through, values that need escaping included
    await store.engine.completeRun(
      { runId: second!.id, token: second!.leaseToken },
      'completed',
      { said: "it's -- done" },
      audit('B'),
      { entries: [entry], audits: [] },
    )
    const done = await store.engine.loadRun(ALL, first!.id)
    expect(done!.run).toMatchObject({ status: 'completed', result: { said: "it's -- done" } })
    expect(done!.journal.map((e) => e.result)).toEqual([entry.result])
    const rows = await store.listAudit(ALL, { subject: 'F-2', action: 'workflow.completed', limit: 10 })
    expect(rows.map((r) => r.actor)).toEqual(['B'])
  })

  it('keeps due times on the database clock when the worker’s clock is skewed', async () => {
    const sleepy = defineWorkflow<unknown>({
      name: 'sleepy',
      version: 1,
      triggers: ['qualink.demo.order_received.v1'],
      key: (ev) => (ev.data as { order: string }).order,
      async run(ctx) {
        await ctx.sleep('300ms')
        return 'woke'
      },
    })
    const e = engine(store, { workflows: [sleepy] })
    const realNow = Date.now
    Date.now = () => realNow() + 3_600_000 // the worker's clock runs an hour ahead
    try {
      await append(store, demoEvent('order_received', { order: 'S-1', lines: 0 }))
      await e.drain()
      const parked = await runOf('S-1')
      expect(parked.status).toBe('waiting')
      const due = parked.dueAtMs!
      expect(Math.abs(due - (await store.now()) - 300)).toBeLessThan(300)
      await e.drain()
      expect((await runOf('S-1')).status).toBe('waiting')
      await until(async () => (await store.now()) >= due)
      await e.drain()
      expect((await runOf('S-1')).result).toBe('woke')
    } finally {
      Date.now = realNow
    }
  })
})

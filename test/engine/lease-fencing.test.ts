/**
 * Lease fencing and the database clock, on both dialects: a worker whose lease was taken over
 * cannot write its journal or complete the run (nothing of it is stored), and due times follow the
 * database's clock, not a skewed worker's. Split from engine.test.ts (the engine's main paths).
 */
import { describe, expect, it } from 'vitest'
import { httpLedger } from '../../simulators/ledger/server.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, append, demoEvent, engine, until, useEngineStore } from './harness.ts'

describe.each(DIALECTS)('lease fencing and the database clock on %s', (dialect: Dialect) => {
  const t = useEngineStore(dialect)

  const ports = () => ({ ledger: httpLedger(t.ledger.url) })
  const runOf = async (key: string) => (await t.store.engine.listRuns(ALL, { key, limit: 10 }))[0]!

  /**
   * An order's run claimed by worker A with a 1 ms lease, then taken over by worker B once the
   * database's clock is past it: B holds the run under a higher fencing token.
   */
  const takenOver = async (order: string) => {
    engine(t.store, { workflows: [kernelDemo], ports: ports() }) // installs the router
    await append(t.store, demoEvent('order_received', { order, lines: 1 }))
    const [first] = await t.store.engine.claimRuns('A', 1, 1)
    await until(async () => (await t.store.now()) > first!.leaseExpiresAtMs)
    const [second] = await t.store.engine.claimRuns('B', 60_000, 1)
    expect(second).toMatchObject({ id: first!.id, takenOver: true })
    expect(second!.leaseToken).toBeGreaterThan(first!.leaseToken)
    return { first: first!, second: second! }
  }
  const stepEntry = (idempotencyKey: string, result: unknown) => ({
    position: 1,
    kind: 'step' as const,
    name: 'post-line',
    occurrence: 1,
    idempotencyKey,
    result,
    codeVersion: 1,
    completedAtMs: 0,
  })

  it('refuses a late journal write from a worker whose lease was taken over (fenced)', async () => {
    const { first, second } = await takenOver('F-1')
    const entry = stepEntry('k', 1)
    await expect(
      t.store.engine.appendJournal(
        { runId: first.id, token: first.leaseToken },
        { entries: [entry], audits: [] },
      ),
    ).rejects.toMatchObject({
      code: 'QLK_LEASE_LOST',
    })
    await t.store.engine.appendJournal(
      { runId: second.id, token: second.leaseToken },
      { entries: [entry], audits: [] },
    )
    expect((await t.store.engine.loadRun(ALL, first.id))!.journal).toHaveLength(1)
  })

  it('refuses a late completion from a worker whose lease was taken over, and writes none of it', async () => {
    const { first, second } = await takenOver('F-2')
    const entry = stepEntry('k2', 'it\'s \\ a "quoted" result')
    const audit = (actor: string) => ({
      plant: 'P100',
      actor,
      action: 'workflow.completed',
      subject: 'F-2',
      correlationId: null,
      payload: { note: "O'Brien \\ --" },
    })
    await expect(
      t.store.engine.completeRun(
        { runId: first.id, token: first.leaseToken },
        'completed',
        'late',
        audit('A'),
        {
          entries: [entry],
          audits: [],
        },
      ),
    ).rejects.toMatchObject({ code: 'QLK_LEASE_LOST' })
    const after = await t.store.engine.loadRun(ALL, first.id)
    expect(after!.run.status).not.toBe('completed')
    expect(after!.journal).toHaveLength(0)
    expect(
      await t.store.listAudit(ALL, { subject: 'F-2', action: 'workflow.completed', limit: 10 }),
    ).toHaveLength(0)
    // the owner's completion goes through, values that need escaping included
    await t.store.engine.completeRun(
      { runId: second.id, token: second.leaseToken },
      'completed',
      { said: "it's -- done" },
      audit('B'),
      { entries: [entry], audits: [] },
    )
    const done = await t.store.engine.loadRun(ALL, first.id)
    expect(done!.run).toMatchObject({ status: 'completed', result: { said: "it's -- done" } })
    expect(done!.journal.map((e) => e.result)).toEqual([entry.result])
    const rows = await t.store.listAudit(ALL, { subject: 'F-2', action: 'workflow.completed', limit: 10 })
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
    const e = engine(t.store, { workflows: [sleepy] })
    const realNow = Date.now
    Date.now = () => realNow() + 3_600_000 // the worker's clock runs an hour ahead
    try {
      await append(t.store, demoEvent('order_received', { order: 'S-1', lines: 0 }))
      await e.drain()
      const parked = await runOf('S-1')
      expect(parked.status).toBe('waiting')
      const due = parked.dueAtMs!
      expect(Math.abs(due - (await t.store.now()) - 300)).toBeLessThan(300)
      await e.drain()
      expect((await runOf('S-1')).status).toBe('waiting')
      await until(async () => (await t.store.now()) >= due)
      await e.drain()
      expect((await runOf('S-1')).result).toBe('woke')
    } finally {
      Date.now = realNow
    }
  })
})

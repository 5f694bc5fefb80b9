import { describe, expect, it } from 'vitest'
import { httpLedger } from '../../simulators/ledger/server.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, append, demoEvent, engine, until, useEngineStore } from './harness.ts'

describe.each(DIALECTS)('engine on %s', (dialect: Dialect) => {
  const t = useEngineStore(dialect)

  const ports = () => ({ ledger: httpLedger(t.ledger.url) })
  const docsFor = (key: string) => t.ledger.docs.filter((d) => d.key === key)
  const runOf = async (key: string) => (await t.store.engine.listRuns(ALL, { key, limit: 10 }))[0]!

  it('runs a loop of steps once per iteration, waits, sleeps, and finishes', async () => {
    const e = engine(t.store, { workflows: [kernelDemo], ports: ports() })
    await append(t.store, demoEvent('order_received', { order: 'O-1', lines: 3 }))
    await e.drain()
    expect(docsFor('O-1')).toHaveLength(3)
    expect((await runOf('O-1')).status).toBe('waiting')
    await append(t.store, demoEvent('approval_given', { order: 'O-1', approver: 'qa' }))
    await until(async () => {
      await e.drain()
      return (await runOf('O-1')).status === 'completed'
    })
    const run = await runOf('O-1')
    expect(run.result).toMatchObject({ approved: true, posted: ['DOC-1', 'DOC-2', 'DOC-3'] })
    const loaded = await t.store.engine.loadRun(ALL, run.id)
    const lines = loaded!.journal.filter((j) => j.name === 'post-line')
    expect(lines.map((j) => j.occurrence)).toEqual([1, 2, 3])
    expect(new Set(lines.map((j) => j.idempotencyKey)).size).toBe(3)
    expect(docsFor('O-1')).toHaveLength(4)
  })

  it('finds an event that arrived before its waitFor', async () => {
    const e = engine(t.store, { workflows: [kernelDemo], ports: ports() })
    // The approval is stored in the same transaction as the trigger, long before the wait.
    await append(
      t.store,
      demoEvent('order_received', { order: 'O-2', lines: 1 }),
      demoEvent('approval_given', { order: 'O-2', approver: 'qa' }),
    )
    await until(async () => {
      await e.drain()
      return (await runOf('O-2')).status === 'completed'
    })
    expect((await runOf('O-2')).result).toMatchObject({ approved: true })
  })

  it('wakes each waiting run once when concurrent ingests of one subject race, without deadlock', async () => {
    const e = engine(t.store, { workflows: [kernelDemo], ports: ports() })
    const orders = ['O-R1', 'O-R2', 'O-R3', 'O-R4']
    await append(t.store, ...orders.map((order) => demoEvent('order_received', { order, lines: 0 })))
    await e.drain()
    for (const o of orders) expect((await runOf(o)).status).toBe('waiting')
    // Eight transactions at once, each with an approval for every order, in rotated orders: on
    // PostgreSQL they share the subjects' wait locks and meet on the same wait rows.
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        append(
          t.store,
          ...orders.map((_, j) =>
            demoEvent('approval_given', { order: orders[(i + j) % 4], approver: `qa${i}` }),
          ),
        ),
      ),
    )
    await until(async () => {
      await e.drain()
      return (await Promise.all(orders.map(runOf))).every((r) => r.status === 'completed')
    })
    for (const o of orders) {
      const loaded = await t.store.engine.loadRun(ALL, (await runOf(o)).id)
      const matched = loaded!.waits.filter((w) => w.kind === 'event' && w.status === 'matched')
      expect(matched).toHaveLength(1)
      expect(loaded!.run.result).toMatchObject({ approved: true })
    }
  })

  it('settles a timeout racing an arrival exactly once', async () => {
    const quick = defineWorkflow({ ...kernelDemo, config: () => ({ approvalTimeout: '1ms', settle: '1ms' }) })
    const e = engine(t.store, { workflows: [quick], ports: ports() })
    await append(t.store, demoEvent('order_received', { order: 'O-3', lines: 0 }))
    await e.drain()
    await until(async () => (await t.store.now()) > ((await runOf('O-3')).dueAtMs ?? 0))
    // The timeout is due and the approval arrives: whichever CAS lands first wins, only once.
    await append(t.store, demoEvent('approval_given', { order: 'O-3', approver: 'qa' }))
    await until(async () => {
      await e.drain()
      return (await runOf('O-3')).status === 'completed'
    })
    const loaded = await t.store.engine.loadRun(ALL, (await runOf('O-3')).id)
    expect(loaded!.journal.filter((j) => j.kind === 'wait')).toHaveLength(1)
    expect(loaded!.waits.filter((w) => w.status !== 'waiting')).toHaveLength(
      loaded!.waits.filter((w) => w.kind === 'event').length,
    )
    expect(await t.store.engine.timeOutWait(loaded!.run.id, loaded!.waits[0]!.position)).toBe(false)
  })

  it('times out a wait on the database clock and escalates', async () => {
    const quick = defineWorkflow({
      ...kernelDemo,
      config: () => ({ approvalTimeout: '20ms', settle: '1ms' }),
    })
    const e = engine(t.store, { workflows: [quick], ports: ports() })
    await append(t.store, demoEvent('order_received', { order: 'O-4', lines: 0 }))
    await until(async () => {
      await e.drain()
      return (await runOf('O-4')).status === 'completed'
    })
    expect((await runOf('O-4')).result).toEqual({ posted: [], approved: false })
  })

  it('delivers trigger events of a busy key to the active run’s inbox, in order', async () => {
    const collector = defineWorkflow<unknown>({
      name: 'collector',
      version: 1,
      triggers: ['qualink.demo.order_received.v1'],
      key: (ev) => (ev.data as { order: string }).order,
      async run(ctx, trigger) {
        const seen = [(trigger.envelope.data as { lines: number }).lines]
        for (let i = 0; i < 3; i++) {
          const next = await ctx.receive({ timeout: '1h' })
          if (next.timedOut) break
          seen.push((next.event.envelope.data as { lines: number }).lines)
        }
        return seen
      },
    })
    const e = engine(t.store, { workflows: [collector] })
    await append(t.store, demoEvent('order_received', { order: 'K', lines: 1 }))
    await e.drain()
    await append(t.store, demoEvent('order_received', { order: 'K', lines: 2 }))
    await append(
      t.store,
      demoEvent('order_received', { order: 'K', lines: 3 }),
      demoEvent('order_received', { order: 'K', lines: 4 }),
    )
    await append(t.store, demoEvent('order_received', { order: 'K', lines: 5 }))
    await until(async () => {
      await e.drain()
      return (await t.store.engine.listRuns(ALL, { key: 'K', limit: 10 })).some(
        (r) => r.status === 'completed',
      )
    })
    const runs = await t.store.engine.listRuns(ALL, { key: 'K', limit: 10 })
    const done = runs.find((r) => r.status === 'completed')!
    expect(done.result).toEqual([1, 2, 3, 4])
    // The fifth event queued behind the first run and started the key's next run.
    expect(runs).toHaveLength(2)
  })

  it('a trigger outside startsOn joins an active run but never starts one', async () => {
    const gated = defineWorkflow<unknown>({
      name: 'gated',
      version: 1,
      triggers: ['qualink.demo.order_received.v1', 'qualink.demo.approval_given.v1'],
      startsOn: ['qualink.demo.order_received.v1'],
      key: (ev) => (ev.data as { order: string }).order,
      async run(ctx) {
        const next = await ctx.receive({ timeout: '1h' })
        return next.timedOut ? 'timed out' : (next.event.envelope.data as { approver: string }).approver
      },
    })
    const e = engine(t.store, { workflows: [gated] })
    const runsOf = (key: string) => t.store.engine.listRuns(ALL, { key, limit: 10 })
    // an approval for a key with no active run: stored, routed nowhere
    await append(t.store, demoEvent('approval_given', { order: 'G-0', approver: 'early' }))
    await e.drain()
    expect(await runsOf('G-0')).toEqual([])
    expect(await t.store.listEvents(ALL, { type: 'qualink.demo.approval_given.v1', limit: 5 })).toHaveLength(
      1,
    )
    // with a run active, the same kind of event reaches its inbox
    await append(t.store, demoEvent('order_received', { order: 'G-1', lines: 1 }))
    await e.drain()
    await append(t.store, demoEvent('approval_given', { order: 'G-1', approver: 'qa' }))
    await until(async () => {
      await e.drain()
      return (await runsOf('G-1'))[0]?.status === 'completed'
    })
    expect((await runsOf('G-1')).map((r) => r.result)).toEqual(['qa'])
    // after it completed, a late approval again starts nothing
    await append(t.store, demoEvent('approval_given', { order: 'G-1', approver: 'late' }))
    await e.drain()
    expect(await runsOf('G-1')).toHaveLength(1)
  })

  it.each(['block', 'skip'] as const)(
    'a poisoned key follows policy %s without stalling other keys',
    async (policy) => {
      const poison = defineWorkflow<unknown>({
        name: 'poison',
        version: 1,
        triggers: ['qualink.demo.order_received.v1'],
        key: (ev) => (ev.data as { order: string }).order,
        poisonPolicy: policy,
        retry: { maxAttempts: 2 },
        async run(_ctx, trigger) {
          const d = trigger.envelope.data as { order: string; lines: number }
          if (d.order === 'bad' && d.lines === 1) throw new Error('transient? no: always fails')
          return d.lines
        },
      })
      const e = engine(t.store, { workflows: [poison] })
      await append(t.store, demoEvent('order_received', { order: 'bad', lines: 1 }))
      await append(t.store, demoEvent('order_received', { order: 'bad', lines: 2 }))
      await append(t.store, demoEvent('order_received', { order: 'good', lines: 7 }))
      await until(async () => {
        await e.drain()
        return (await t.store.engine.listDeadLetters(ALL, { limit: 10 })).length === 1
      })
      expect((await runOf('good')).status).toBe('completed')
      const dls = await t.store.engine.listDeadLetters(ALL, { limit: 10 })
      expect(dls[0]).toMatchObject({ key: 'bad', attempts: 2, status: 'open' })
      const bad = await t.store.engine.listRuns(ALL, { key: 'bad', limit: 10 })
      if (policy === 'block') {
        expect(bad.map((r) => r.status)).toEqual(['failed'])
        expect((await t.store.engine.engineCounts()).blockedKeys).toBe(1)
      } else {
        expect(bad.map((r) => r.status).sort()).toEqual(['completed', 'dead'])
      }
    },
  )

  it('replays dead letters with fixed code and repeats no completed effect', async () => {
    const e1 = engine(t.store, { workflows: [kernelDemo], ports: ports() })
    await append(t.store, demoEvent('order_received', { order: 'R-1', lines: 3, failOnLine: 3 }))
    await append(t.store, demoEvent('order_received', { order: 'R-2', lines: 3, failOnLine: 3 }))
    await e1.drain()
    expect(docsFor('R-1')).toHaveLength(2)
    const dls = await t.store.engine.listDeadLetters(ALL, { status: 'open', limit: 10 })
    expect(dls.map((d) => d.errorCode)).toEqual(['QLK_DEMO_REJECTED', 'QLK_DEMO_REJECTED'])

    // v2 fixes the bug (no line is rejected) and declares itself compatible with v1.
    const fixed = defineWorkflow({
      ...kernelDemo,
      version: 2,
      compatibleWith: [1],
      run: (ctx, trigger) =>
        kernelDemo.run(ctx, {
          ...trigger,
          envelope: {
            ...trigger.envelope,
            data: { ...(trigger.envelope.data as object), failOnLine: undefined },
          },
        }),
    })
    const e2 = engine(t.store, { workflows: [kernelDemo, fixed], ports: ports() })
    for (const dl of dls)
      await t.store.engine.replayDeadLetter(ALL, dl.id, 2, {
        actor: 'test',
        action: 'dead_letter.replayed',
        subject: dl.key,
        correlationId: null,
        payload: { id: dl.id },
      })
    await e2.drain()
    expect(docsFor('R-1')).toHaveLength(3)
    expect(docsFor('R-2')).toHaveLength(3)
    const journal = (await t.store.engine.loadRun(ALL, (await runOf('R-1')).id))!.journal
    expect(journal.filter((j) => j.name === 'post-line').map((j) => j.codeVersion)).toEqual([1, 1, 2])
    expect((await t.store.engine.listDeadLetters(ALL, { status: 'replayed', limit: 10 })).length).toBe(2)
  })

  it('raises QLK_NONDETERMINISM when a replay’s steps differ from the journal', async () => {
    const e1 = engine(t.store, { workflows: [kernelDemo], ports: ports() })
    await append(t.store, demoEvent('order_received', { order: 'N-1', lines: 1 }))
    await e1.drain()
    expect((await runOf('N-1')).status).toBe('waiting')
    const reordered = defineWorkflow({
      ...kernelDemo,
      version: 2,
      compatibleWith: [1],
      async run(ctx) {
        await ctx.step('renamed-step', async () => 1)
        return null
      },
    })
    const e2 = engine(t.store, { workflows: [kernelDemo, reordered], ports: ports() })
    await append(t.store, demoEvent('approval_given', { order: 'N-1', approver: 'qa' }))
    await e2.drain()
    const [dl] = await t.store.engine.listDeadLetters(ALL, { limit: 10 })
    expect(dl).toMatchObject({ key: 'N-1', errorCode: 'QLK_NONDETERMINISM' })
    expect(dl!.error).toMatch(/command 1 is step 'renamed-step' but the journal recorded step 'post-line'/)
  })

  it('cancels a run and runs its compensation, audited', async () => {
    const e = engine(t.store, { workflows: [kernelDemo], ports: ports() })
    await append(t.store, demoEvent('order_received', { order: 'C-1', lines: 2 }))
    await e.drain()
    const run = await runOf('C-1')
    const r = await t.store.engine.requestCancel(ALL, run.id, 'order withdrawn', {
      actor: 'user:qa',
      action: 'workflow.cancel_requested',
      subject: 'C-1',
      correlationId: null,
      payload: { runId: run.id },
    })
    expect(r?.cancelRequested).toBe(true)
    await e.drain()
    const after = await runOf('C-1')
    expect(after.status).toBe('cancelled')
    const journal = (await t.store.engine.loadRun(ALL, run.id))!.journal
    expect(journal.find((j) => j.name === 'reverse-lines')?.result).toEqual({ reversed: 2 })
    const audit = await t.store.listAudit(ALL, { subject: 'C-1', limit: 100 })
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['workflow.step.completed', 'workflow.cancel_requested', 'workflow.cancelled']),
    )
  })
})

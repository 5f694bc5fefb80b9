import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { httpLedger, type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import type { JournalMode } from '../../src/engine/run-context.ts'
import type { EngineStore, JournalEntry } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { fixtureArgs } from '../bundle.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { inboxLedger, LEDGER_APPROVAL, LEDGER_ORDER } from '../fixtures/inbox-ledger-workflow.ts'
import { ALL, append, demoEvent, engine, until } from './harness.ts'

const ledgerEvent = (type: string, data: Record<string, unknown>) =>
  ({
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:journal',
    type,
    subject: String(data.order),
    plant: 'P100',
    data,
  }) as unknown as CloudEvent

/** The store with its engine's journal writes counted (the real store underneath, nothing faked). */
function countingJournalWrites(store: Store): { store: Store; writes: () => number } {
  let n = 0
  const engineStore = new Proxy(store.engine, {
    get(t, p) {
      const v = Reflect.get(t, p, t) as unknown
      if (p === 'appendJournal')
        return (...a: Parameters<EngineStore['appendJournal']>) => {
          n++
          return t.appendJournal(...a)
        }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    },
  })
  const counted = new Proxy(store, {
    get(t, p) {
      if (p === 'engine') return engineStore
      const v = Reflect.get(t, p, t) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    },
  })
  return { store: counted, writes: () => n }
}

describe.each(DIALECTS)('journal written at yield points on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let ledger: LedgerServer
  let child: ChildProcess | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    ledger = await startLedgerServer()
  })
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
    child = undefined
    await ledger?.close()
    await db?.cleanup()
  })

  /** A worker process on the database; SIGKILLed the moment the ledger commits its `n`th document. */
  async function workerKilledAtDocument(n: number, journal: JournalMode = 'at-yield'): Promise<void> {
    child = spawn(process.execPath, fixtureArgs('engine-worker', db.location, ledger.url, '1500', journal), {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const c = child
    await new Promise<void>((resolve) => {
      ledger.onCommitted = () => {
        if (ledger.docs.length === n) {
          c.kill('SIGKILL')
          resolve()
        }
      }
    })
    await once(c, 'exit')
    ledger.onCommitted = undefined
  }

  const names = (journal: readonly JournalEntry[]) => journal.map((j) => `${j.kind}:${j.name}`)

  it('a worker killed after buffered steps made their effects re-runs them on recovery; the ledger holds each line once', async () => {
    let store = await db.open()
    engine(store, { workflows: [kernelDemo] })
    await append(store, demoEvent('order_received', { order: 'Y-1', lines: 3 }))
    await store.close()

    await workerKilledAtDocument(2)
    expect(ledger.docs.map((d) => d.line)).toEqual([1, 2])

    store = await db.open()
    try {
      const run = (await store.engine.listRuns(ALL, { key: 'Y-1', limit: 1 }))[0]!
      // Both effects happened, neither step reached the journal (nor did the config snapshot):
      // the crash fell between the buffered steps' effects and the attempt's first write.
      const before = (await store.engine.loadRun(ALL, run.id))!
      expect(before.journal).toEqual([])
      expect(before.run.config).toBeNull()

      const e = engine(store, {
        workflows: [kernelDemo],
        ports: { ledger: httpLedger(ledger.url) },
        journal: 'at-yield',
      })
      await until(async () => {
        await e.drain()
        return (await store.engine.listRuns(ALL, { key: 'Y-1', limit: 1 }))[0]!.status === 'waiting'
      })
      // Read from the ledger, not from our journal: one document per line, no duplicate reference.
      expect(ledger.docs.map((d) => d.line)).toEqual([1, 2, 3])
      expect(new Set(ledger.docs.map((d) => d.ref)).size).toBe(3)
      const after = (await store.engine.loadRun(ALL, run.id))!
      expect(names(after.journal)).toEqual(['step:post-line', 'step:post-line', 'step:post-line'])
      expect(after.run.config).toEqual({ approvalTimeout: '1h', settle: '50ms' })
      expect(after.waits).toMatchObject([{ kind: 'event', status: 'waiting' }])
    } finally {
      await store.close()
    }
  })

  it('with journal per-step the same crash finds the first step journaled', async () => {
    let store = await db.open()
    engine(store, { workflows: [kernelDemo] })
    await append(store, demoEvent('order_received', { order: 'Y-2', lines: 3 }))
    await store.close()

    await workerKilledAtDocument(2, 'per-step')

    store = await db.open()
    try {
      const run = (await store.engine.listRuns(ALL, { key: 'Y-2', limit: 1 }))[0]!
      const before = (await store.engine.loadRun(ALL, run.id))!
      expect(names(before.journal)).toEqual(['step:post-line'])
      const e = engine(store, {
        workflows: [kernelDemo],
        ports: { ledger: httpLedger(ledger.url) },
        journal: 'per-step',
      })
      await until(async () => {
        await e.drain()
        return (await store.engine.listRuns(ALL, { key: 'Y-2', limit: 1 }))[0]!.status === 'waiting'
      })
      expect(ledger.docs.map((d) => d.line)).toEqual([1, 2, 3])
    } finally {
      await store.close()
    }
  })

  it('an inbox event consumed by an attempt that died before its journal write is delivered again, once', async () => {
    let store = await db.open()
    const approval = ledgerEvent(LEDGER_APPROVAL, { order: 'Y-3', by: 'qa-lead' })
    try {
      // Line 1 is posted and the run parks on its inbox (the park carries line 1's journal entry);
      // then the approval joins the inbox and wakes the run.
      const e = engine(store, {
        workflows: [inboxLedger],
        ports: { ledger: httpLedger(ledger.url) },
        journal: 'at-yield',
      })
      await append(store, ledgerEvent(LEDGER_ORDER, { order: 'Y-3' }))
      await e.drain()
      expect((await store.engine.listRuns(ALL, { key: 'Y-3', limit: 1 }))[0]!.status).toBe('waiting')
      await append(store, approval)
    } finally {
      await store.close()
    }

    // A worker consumes the approval, posts line 2 and dies before any journal write.
    await workerKilledAtDocument(2)

    store = await db.open()
    try {
      const run = (await store.engine.listRuns(ALL, { key: 'Y-3', limit: 1 }))[0]!
      const before = (await store.engine.loadRun(ALL, run.id))!
      expect(names(before.journal)).toEqual(['step:post-order'])
      // the consumed event stays tied to the receive's position
      expect(before.waits).toMatchObject([{ position: 2, kind: 'inbox', status: 'matched' }])

      const e = engine(store, {
        workflows: [inboxLedger],
        ports: { ledger: httpLedger(ledger.url) },
        journal: 'at-yield',
      })
      await until(async () => {
        await e.drain()
        return (await store.engine.listRuns(ALL, { key: 'Y-3', limit: 1 }))[0]!.status === 'completed'
      })
      expect(ledger.docs.map((d) => d.line)).toEqual([1, 2])
      const done = (await store.engine.listRuns(ALL, { key: 'Y-3', limit: 1 }))[0]!
      expect(done.result).toMatchObject({ approvedBy: 'qa-lead', approvalEvent: approval.id })
      const after = (await store.engine.loadRun(ALL, run.id))!
      expect(names(after.journal)).toEqual(['step:post-order', 'receive:inbox', 'step:post-approval'])
    } finally {
      await store.close()
    }
  })

  it('refuses a stale owner’s buffered journal with QLK_LEASE_LOST and applies none of it', async () => {
    const store = await db.open()
    try {
      engine(store, { workflows: [kernelDemo] }) // installs the router
      await append(store, demoEvent('order_received', { order: 'Y-4', lines: 2 }))
      const [first] = await store.engine.claimRuns('A', 1, 1)
      await until(async () => (await store.now()) > first!.leaseExpiresAtMs)
      const [second] = await store.engine.claimRuns('B', 60_000, 1)
      expect(second).toMatchObject({ id: first!.id, takenOver: true })
      const stale = { runId: first!.id, token: first!.leaseToken }
      const entry = (position: number): JournalEntry => ({
        position,
        kind: 'step',
        name: 'post-line',
        occurrence: position,
        idempotencyKey: `k${position}`,
        result: { id: `DOC-${position}` },
        codeVersion: 1,
        completedAtMs: 0,
      })
      const audit = {
        plant: 'P100',
        actor: 'workflow:kernel-demo',
        action: 'workflow.step.completed',
        subject: 'Y-4',
        correlationId: null,
        payload: { runId: first!.id },
      }
      const buffered = { entries: [entry(1), entry(2)], audits: [audit, audit], config: { stale: true } }
      const wait = {
        position: 3,
        kind: 'event' as const,
        eventFamily: 'qualink.demo.approval_given',
        subject: 'Y-4',
        afterSeq: 0,
        timeoutAtMs: null,
        status: 'waiting' as const,
        eventSeq: null,
      }
      const s = store.engine
      const refusals = [
        () => s.registerWait(stale, wait, [], buffered),
        () => s.takeInbox(stale, { ...wait, kind: 'inbox', eventFamily: null, subject: null }, buffered),
        () => s.completeRun(stale, 'completed', null, { ...audit, action: 'workflow.completed' }, buffered),
        () => s.retryRun(stale, 0, 'QLK_INTERNAL', 'boom', buffered),
        () => s.deadLetterRun(stale, 'block', 'QLK_INTERNAL', 'boom', audit, undefined, buffered),
        () => s.suspendRun(stale, buffered),
        () => s.appendJournal(stale, buffered),
      ]
      for (const r of refusals) await expect(r()).rejects.toMatchObject({ code: 'QLK_LEASE_LOST' })

      const after = (await store.engine.loadRun(ALL, first!.id))!
      expect(after.journal).toEqual([])
      expect(after.waits).toEqual([])
      expect(after.run).toMatchObject({ status: 'pending', config: null, leaseOwner: 'B', attempts: 0 })
      expect(await store.engine.listDeadLetters(ALL, { limit: 10 })).toEqual([])
      const steps = await store.listAudit(ALL, { subject: 'Y-4', limit: 100 })
      expect(steps.filter((a) => a.action.startsWith('workflow.'))).toEqual([])

      // The owner's own buffer is applied whole, in one write.
      const owner = { runId: second!.id, token: second!.leaseToken }
      expect(await store.engine.registerWait(owner, wait, [], buffered)).toBeUndefined()
      const applied = (await store.engine.loadRun(ALL, first!.id))!
      expect(names(applied.journal)).toEqual(['step:post-line', 'step:post-line'])
      expect(applied.run).toMatchObject({ status: 'waiting', config: { stale: true }, leaseOwner: null })
      expect(applied.waits).toMatchObject([{ position: 3, status: 'waiting' }])
    } finally {
      await store.close()
    }
  })

  it('journals a run attempt in its settling write, per step when asked, and at once after a durable step', async () => {
    const store = await db.open()
    try {
      const ports = { ledger: httpLedger(ledger.url) }
      const batched = countingJournalWrites(store)
      const e1 = engine(batched.store, { workflows: [kernelDemo], ports, journal: 'at-yield' })
      await append(store, demoEvent('order_received', { order: 'Y-5', lines: 3 }))
      await e1.drain()
      expect(batched.writes()).toBe(0) // three steps and the config went with the wait's registration
      const run5 = (await store.engine.listRuns(ALL, { key: 'Y-5', limit: 1 }))[0]!
      expect(run5.status).toBe('waiting')
      expect(names((await store.engine.loadRun(ALL, run5.id))!.journal)).toHaveLength(3)

      const perStep = countingJournalWrites(store)
      const e2 = engine(perStep.store, { workflows: [kernelDemo], ports, journal: 'per-step' })
      await append(store, demoEvent('order_received', { order: 'Y-6', lines: 3 }))
      await e2.drain()
      // before steps 2 and 3 start, each writes what completed before it; step 3's entry went with
      // the wait's registration
      expect(perStep.writes()).toBe(2)
      const run6 = (await store.engine.listRuns(ALL, { key: 'Y-6', limit: 1 }))[0]!
      expect(names((await store.engine.loadRun(ALL, run6.id))!.journal)).toHaveLength(3)

      const durable = countingJournalWrites(store)
      const wf = {
        ...kernelDemo,
        name: 'durable-demo',
        triggers: ['qualink.test.durable.v1'],
        async run(ctx: Parameters<typeof kernelDemo.run>[0]) {
          await ctx.step('plain', async () => 1)
          // completes at least 30 ms after 'plain'; both are written in notify's durable write
          await ctx.step('notify', () => new Promise((r) => setTimeout(() => r(2), 30)), { durable: true })
          await ctx.step('after', async () => 3)
          return 'done'
        },
      }
      const e3 = engine(durable.store, { workflows: [wf], ports, journal: 'at-yield' })
      await append(store, ledgerEvent('qualink.test.durable.v1', { order: 'Y-7' }))
      await e3.drain()
      expect(durable.writes()).toBe(1) // plain + notify at once; after went with the completion
      const run7 = (await store.engine.listRuns(ALL, { key: 'Y-7', limit: 1 }))[0]!
      expect(run7.status).toBe('completed')
      const journal7 = (await store.engine.loadRun(ALL, run7.id))!.journal
      expect(names(journal7)).toEqual(['step:plain', 'step:notify', 'step:after'])
      // Written together, each keeps its own completion time (the write's clock less its age).
      expect(journal7[1]!.completedAtMs - journal7[0]!.completedAtMs).toBeGreaterThanOrEqual(28)
    } finally {
      await store.close()
    }
  })
})

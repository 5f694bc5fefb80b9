import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import readline from 'node:readline'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { fixtureArgs } from '../bundle.ts'
import { createTestDatabase, dialectAvailable, type TestDatabase } from '../dialects.ts'
import { ALL, append, demoEvent, engine, until } from './harness.ts'
import { expectKeyOrderKept, ordersApprovedPerKey } from './keyed-orders.ts'

async function worker(db: TestDatabase, ledgerUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, fixtureArgs('engine-worker', db.location, ledgerUrl, '1500'), {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await once(readline.createInterface({ input: child.stdout! }), 'line')
  return child
}

/** Issue 11: N workers compete on one PostgreSQL; one dies mid-run; nothing is lost or doubled. */
describe.skipIf(!(await dialectAvailable('postgres')))('three worker processes on PostgreSQL', () => {
  let db: TestDatabase
  let store: Store
  let ledger: LedgerServer
  const children: ChildProcess[] = []

  beforeEach(async () => {
    db = await createTestDatabase('postgres')
    store = await db.open()
    ledger = await startLedgerServer()
    engine(store, { workflows: [kernelDemo] }) // routing for the events this test appends
  })
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await ledger?.close()
    await store?.close()
    await db?.cleanup()
  })

  it('completes every run once per business key when one worker is killed mid-run', async () => {
    for (let i = 0; i < 3; i++) children.push(await worker(db, ledger.url))
    const orders = Array.from({ length: 30 }, (_, i) => `M-${i}`)
    // Kill the first worker as soon as the ledger has committed a few documents.
    const victim = children[0]!
    ledger.onCommitted = () => {
      if (ledger.docs.length === 10 && victim.exitCode === null) victim.kill('SIGKILL')
    }
    for (let i = 0; i < orders.length; i += 10) {
      await append(
        store,
        ...orders.slice(i, i + 10).map((order) => demoEvent('order_received', { order, lines: 3 })),
      )
    }
    // Every run reaches its approval wait: 3 documents each, none doubled.
    await until(async () => {
      const runs = await store.engine.listRuns(ALL, { workflow: 'kernel-demo', limit: 100 })
      return runs.length === orders.length && runs.every((r) => r.status === 'waiting')
    }, 60_000)
    expect(victim.signalCode).toBe('SIGKILL')
    for (const order of orders) {
      const docs = ledger.docs.filter((d) => d.key === order)
      expect(
        docs.map((d) => d.line),
        order,
      ).toEqual([1, 2, 3])
    }
    expect(ledger.docs).toHaveLength(orders.length * 3)
    expect(new Set(ledger.docs.map((d) => d.ref)).size).toBe(ledger.docs.length)
  })

  it('keeps per-key order across processes and fires each durable timer once', async () => {
    for (let i = 0; i < 2; i++) children.push(await worker(db, ledger.url))
    const keys = Array.from({ length: 10 }, (_, i) => `K-${i}`)
    // Approvals: each run passes its wait, sleeps on a durable timer (50 ms), posts its closing.
    const runsOf = await ordersApprovedPerKey(store, keys, 60_000)
    await expectKeyOrderKept(store, ledger, keys, runsOf)
  })
})

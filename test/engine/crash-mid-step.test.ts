import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { httpLedger, type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { fixtureArgs } from '../bundle.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, append, demoEvent, engine, until } from './harness.ts'

describe.each(DIALECTS)('a worker killed mid-step on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let ledger: LedgerServer

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    ledger = await startLedgerServer()
  })
  afterEach(async () => {
    await ledger?.close()
    await db?.cleanup()
  })

  it('resumes after lease expiry and the non-deduplicating server sees one effect per business key', async () => {
    // Store the trigger with the router installed, then hand the database to the child worker.
    let store = await db.open()
    engine(store, { workflows: [kernelDemo] })
    await append(store, demoEvent('order_received', { order: 'K-1', lines: 3 }))
    await store.close()

    const child = spawn(process.execPath, fixtureArgs('engine-worker', db.location, ledger.url, '1500'), {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    // Kill the worker the moment the ledger commits the second line, before its response
    // reaches the worker: the step ran, its journal entry was never written.
    const killed = new Promise<void>((resolve) => {
      ledger.onCommitted = () => {
        if (ledger.docs.length === 2) {
          child.kill('SIGKILL')
          resolve()
        }
      }
    })
    await killed
    await once(child, 'exit')
    ledger.onCommitted = undefined
    expect(ledger.docs).toHaveLength(2)

    store = await db.open()
    try {
      const e = engine(store, { workflows: [kernelDemo], ports: { ledger: httpLedger(ledger.url) } })
      const run = (await store.engine.listRuns(ALL, { key: 'K-1', limit: 1 }))[0]!
      expect(run.leaseOwner).toMatch(/^child-/)
      // The dead worker's lease expires on the database clock, then another worker takes over.
      await until(async () => {
        await e.drain()
        return (await store.engine.listRuns(ALL, { key: 'K-1', limit: 1 }))[0]!.status === 'waiting'
      })
      expect(ledger.docs.map((d) => d.line)).toEqual([1, 2, 3])
      expect(new Set(ledger.docs.map((d) => d.ref)).size).toBe(3)
      const journal = (await store.engine.loadRun(ALL, run.id))!.journal
      expect(journal.filter((j) => j.name === 'post-line')).toHaveLength(3)
    } finally {
      await store.close()
    }
  })
})

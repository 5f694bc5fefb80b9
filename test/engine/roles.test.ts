/**
 * `qualink start --role api|worker|relay|all` (issue 11): three processes' worth of Qualink on
 * one PostgreSQL database, each with the same configuration. The api process stores and routes
 * but executes nothing; only a worker executes runs and translates raw deliveries; only a relay
 * runs the singletons (here a watched LIMS folder). Nothing is done twice.
 */
import path from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLims } from '../../simulators/index.ts'
import { httpLedger, type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import { checkLimsFile, limsCsvTranslator } from '../../src/connectors/lims/csv/translator.ts'
import { type ProcessRole, type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { AVAILABLE, createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, demoEvent, injectEvent, limsHardnessRow, until } from './harness.ts'

describe.skipIf(!AVAILABLE.postgres)('process roles on one PostgreSQL database', () => {
  let db: TestDatabase
  let ledger: LedgerServer
  const procs: Array<{ q: Qualink; store: Store }> = []
  let limsDir: string

  const start = async (role: ProcessRole) => {
    const store = await db.open()
    const q = await startQualink({
      store,
      role,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, `anchors-${role}.jsonl`),
      workflows: [kernelDemo],
      ports: { ledger: httpLedger(ledger.url) },
      translators: [limsCsvTranslator('lims')],
      fileDrops: [
        { name: 'lims', plant: 'P100', dir: limsDir, pollMs: 100, settleMs: 50, check: checkLimsFile },
      ],
    })
    procs.push({ q, store })
    return { q, store }
  }

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { migrated: true })
    ledger = await startLedgerServer()
    limsDir = path.join(db.dir, 'lims')
  })
  afterAll(async () => {
    for (const p of procs.reverse()) {
      await p.q.close()
      await p.store.close()
    }
    await ledger?.close()
    await db?.cleanup()
  })

  it('api stores and routes only; the worker executes; the relay alone watches the folder', async () => {
    const api = await start('api')
    const post = (e: object) => injectEvent(api.q, e)
    expect((await post(demoEvent('order_received', { order: 'R-1', lines: 2 }))).statusCode).toBe(202)
    const lims = await startLims({ dir: limsDir })
    try {
      await lims.writeResults([limsHardnessRow('S1')])
    } finally {
      await lims.close()
    }
    // Routed by the api process: a pending run, but nobody executes it or reads the folder.
    const runs = () => api.store.engine.listRuns(ALL, { key: 'R-1', limit: 5 })
    expect((await runs()).map((r) => r.status)).toEqual(['pending'])
    // a grace period in which an engine or a watcher, had the api process started one, would act
    await new Promise((r) => setTimeout(r, 600))
    expect((await runs()).map((r) => r.status)).toEqual(['pending'])
    expect(ledger.docs).toHaveLength(0)
    const raws = () => api.store.ingress.listRawDeliveries(ALL, { limit: 10 })
    expect(await raws()).toEqual([])

    await start('worker')
    await until(async () => (await runs())[0]?.status === 'waiting')
    expect(ledger.docs.filter((d) => d.key === 'R-1')).toHaveLength(2)
    expect(await raws()).toEqual([]) // a worker does not run the folder watcher either

    await start('relay')
    await until(async () => (await raws()).length === 1)
    // the worker translates what the relay stored
    await until(
      async () =>
        (await api.store.listEvents(ALL, { type: 'lims.result.reported.v1', limit: 5 })).length === 1,
    )
    expect(await post(demoEvent('approval_given', { order: 'R-1', approver: 'qa' }))).toMatchObject({
      statusCode: 202,
    })
    await until(async () => (await runs())[0]?.status === 'completed')
    expect(ledger.docs.filter((d) => d.key === 'R-1')).toHaveLength(3)
    expect(await raws()).toHaveLength(1)
  })
})

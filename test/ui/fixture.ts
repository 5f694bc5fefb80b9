import { randomUUID } from 'node:crypto'
import path from 'node:path'
import pino from 'pino'
import { httpLedger, type LedgerServer, startLedgerServer } from '../../simulators/ledger/server.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { DeadLetter, RunRow } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { until as harnessUntil } from '../engine/harness.ts'

export const ALL = { allPlants: true, reason: 'test' } as const
/** A run key no page may render as markup. */
export const EVIL_KEY = '<script>alert("qlk")</script>'
export const SECRET = 'sk-live-do-not-show'

export interface Dashboard {
  readonly q: Qualink
  readonly store: Store
  readonly ledger: LedgerServer
  readonly url: string
  /** the seeded traffic: open dead letters by run key, and one run waiting for approval */
  readonly dead: Map<string, DeadLetter>
  readonly waiting: RunRow
  post(
    type: 'order_received' | 'approval_given',
    data: Record<string, unknown>,
    extra?: object,
  ): Promise<number>
  openDeadLetters(): Promise<DeadLetter[]>
  close(): Promise<void>
}

export const until = (cond: () => Promise<boolean> | boolean, timeoutMs = 10_000) =>
  harnessUntil(cond, timeoutMs)

/**
 * A live Qualink on a fresh SQLite file with the kernel demo workflow and the ledger simulator,
 * seeded over HTTP with orders that dead-letter (one under a hostile key, one carrying a
 * secret-named extension) and one that waits for approval.
 */
export async function startDashboard(): Promise<Dashboard> {
  const db: TestDatabase = await createTestDatabase('sqlite')
  const store = await db.open()
  const ledger = await startLedgerServer()
  const q = await startQualink({
    store,
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(db.dir, 'anchors.jsonl'),
    workflows: [kernelDemo],
    ports: { ledger: httpLedger(ledger.url) },
  })
  const post = async (type: string, data: Record<string, unknown>, extra: object = {}) => {
    const r = await fetch(`${q.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:test:dashboard',
        type: `qualink.demo.${type}.v1`,
        subject: String(data.order),
        plant: 'P100',
        data,
        ...extra,
      }),
    })
    await r.arrayBuffer()
    return r.status
  }
  const openDeadLetters = () => store.engine.listDeadLetters(ALL, { status: 'open', limit: 1000 })
  await post('order_received', { order: 'A-100', lines: 2, failOnLine: 2 }, { authtoken: SECRET })
  await post('order_received', { order: 'B-200', lines: 3, failOnLine: 3 })
  await post('order_received', { order: 'C-300', lines: 1, failOnLine: 1 })
  await post('order_received', { order: EVIL_KEY, lines: 1, failOnLine: 1 })
  await post('order_received', { order: 'W-900', lines: 1 })
  await until(async () => (await openDeadLetters()).length === 4)
  await until(
    async () => (await store.engine.listRuns(ALL, { key: 'W-900', limit: 1 }))[0]?.status === 'waiting',
  )
  const dead = new Map((await openDeadLetters()).map((d) => [d.key, d]))
  const [waiting] = await store.engine.listRuns(ALL, { key: 'W-900', limit: 1 })
  return {
    q,
    store,
    ledger,
    url: q.url,
    dead,
    waiting: waiting!,
    post,
    openDeadLetters,
    close: async () => {
      await q.close()
      await ledger.close()
      await store.close()
      await db.cleanup()
    },
  }
}

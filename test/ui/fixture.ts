import type { LedgerServer } from '../../simulators/ledger/server.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import type { DeadLetter, RunRow } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import { ALL, demoEvent, until as harnessUntil, startDemoHub } from '../engine/harness.ts'

export { ALL }
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
  const hub = await startDemoHub('sqlite')
  const { q, store, ledger } = hub
  const post = async (
    type: Parameters<typeof demoEvent>[0],
    data: Record<string, unknown>,
    extra: object = {},
  ) => {
    const r = await fetch(`${q.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(demoEvent(type, data, { source: 'urn:test:dashboard', ...extra })),
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
    close: hub.close,
  }
}

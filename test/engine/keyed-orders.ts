/**
 * The multi-process scenario of the kernel demo, shared by the engine's fleet tests: two orders per
 * key in one append (the second waits in the first run's inbox), both approved; each run passes
 * its wait, sleeps on a durable timer and posts its lines to the ledger. Then per key: the second
 * run started only after the first completed, the documents in the runs' order, each timer fired once.
 */
import { expect } from 'vitest'
import type { LedgerServer } from '../../simulators/ledger/server.ts'
import type { RunRow } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import { ALL, append, demoEvent, until } from './harness.ts'

/** Appends the orders, waits for every key's first run to wait, approves, waits for all to complete. */
export async function ordersApprovedPerKey(
  store: Store,
  keys: readonly string[],
  timeoutMs: number,
): Promise<(key: string) => Promise<RunRow[]>> {
  await append(
    store,
    ...keys.flatMap((order) => [
      demoEvent('order_received', { order, lines: 1 }),
      demoEvent('order_received', { order, lines: 2 }),
    ]),
  )
  const runsOf = async (key: string) =>
    (await store.engine.listRuns(ALL, { key, limit: 10 })).sort(
      (a, b) => (a.triggerEventSeq ?? 0) - (b.triggerEventSeq ?? 0),
    )
  await until(
    async () => (await Promise.all(keys.map(runsOf))).every((r) => r[0]?.status === 'waiting'),
    timeoutMs,
  )
  await append(store, ...keys.map((order) => demoEvent('approval_given', { order, approver: 'qa' })))
  await until(
    async () =>
      (await Promise.all(keys.map(runsOf))).every(
        (r) => r.length === 2 && r.every((x) => x.status === 'completed'),
      ),
    timeoutMs,
  )
  return runsOf
}

/** Per key: order across processes, each document once in the runs' order, each durable timer once. */
export async function expectKeyOrderKept(
  store: Store,
  ledger: LedgerServer,
  keys: readonly string[],
  runsOf: (key: string) => Promise<RunRow[]>,
): Promise<void> {
  for (const key of keys) {
    const [first, second] = await runsOf(key)
    // the second order's run started only after the first completed, whichever worker ran them
    expect(second!.createdAtMs, key).toBeGreaterThanOrEqual(first!.completedAtMs!)
    expect(
      ledger.docs.filter((d) => d.key === key).map((d) => d.line),
      key,
    ).toEqual([1, 0, 1, 2, 0])
    for (const run of [first!, second!]) {
      const loaded = await store.engine.loadRun(ALL, run.id)
      expect(
        loaded!.journal.filter((j) => j.kind === 'sleep'),
        key,
      ).toHaveLength(1)
    }
  }
  expect(new Set(ledger.docs.map((d) => d.ref)).size).toBe(ledger.docs.length)
}

/**
 * PostgreSQL, READ COMMITTED: an event routed into a key's inbox while the key's run ends must
 * start the key's next run. Routing takes the key's inbox lock, sees the run active and inserts
 * the inbox row; a run that ends without that lock could look for its successor before the
 * row commits and leave the event waiting forever (found by the F8 fault scenario). Here the
 * routing transaction is held open at exactly that point, deterministically: the run's ending
 * must wait for it and then start the next run from the committed row.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import type { PostgresStore } from '../../src/store/postgres/store.ts'
import { AVAILABLE, createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, append, demoEvent, engine, until } from './harness.ts'

const wf = defineWorkflow<unknown>({
  name: 'inbox-race',
  version: 1,
  triggers: ['qualink.demo.order_received.v1'],
  key: (e) => String((e.data as { order: string }).order),
  run: async () => null,
})

describe.skipIf(!AVAILABLE.postgres)('a run ending while an event joins its inbox (postgres)', () => {
  let db: TestDatabase
  let store: PostgresStore

  beforeEach(async () => {
    db = await createTestDatabase('postgres')
    store = (await db.open()) as PostgresStore
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
  })

  it.each(['completed', 'dead-lettered'] as const)('starts the next run once the run is %s', async (end) => {
    engine(store, { workflows: [wf] }) // installs the router
    await append(store, demoEvent('order_received', { order: 'K' }))
    // The second event is stored unrouted; the open transaction below routes it as ingest does.
    store.engine.setRouter(undefined)
    await append(store, demoEvent('order_received', { order: 'K', n: 2 }))
    const [, second] = await store.listEvents(ALL, { limit: 2 })
    const [run] = await store.engine.claimRuns('test', 30_000, 1)
    const fence = { runId: run!.id, token: run!.leaseToken }

    const routing = await store.rawPool().connect()
    try {
      await routing.query('BEGIN')
      await routing.query(`SELECT pg_advisory_xact_lock(hashtextextended('inbox|inbox-race|K', 7162))`)
      await routing.query(
        `INSERT INTO run_inbox (plant, workflow, run_key, version, event_seq) SELECT 'P100', 'inbox-race', 'K', 1, $1
          WHERE EXISTS (SELECT 1 FROM workflow_runs WHERE workflow = 'inbox-race' AND run_key = 'K' AND status = 'pending')`,
        [second!.seq],
      )
      const audit = { plant: 'P100', actor: 't', action: 'x', subject: 'K', correlationId: null, payload: {} }
      let settled = false
      const ending = (
        end === 'completed'
          ? store.engine.completeRun(fence, 'completed', null, audit)
          : store.engine.deadLetterRun(fence, 'skip', 'QLK_INTERNAL', 'poison', audit)
      ).finally(() => {
        settled = true
      })
      // The ending waits for the routing transaction's lock (or, without the lock, finishes first).
      await until(async () => {
        const r = await store
          .rawPool()
          .query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)
        return settled || r.rows[0].n > 0
      })
      await routing.query('COMMIT')
      await ending
    } finally {
      routing.release()
    }
    const runs = await store.engine.listRuns(ALL, { key: 'K', limit: 5 })
    expect(runs.find((r) => r.status === 'pending')?.triggerEventId).toBe(second!.id)
  })
})

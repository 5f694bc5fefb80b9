import path from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import {
  AVAILABLE,
  createTestDatabase,
  DIALECTS,
  type Dialect,
  rawExec,
  type TestDatabase,
} from '../dialects.ts'
import { ping } from '../event-fixtures.ts'

/** A real database-side failure: SQLite aborts the insert; PostgreSQL fails at COMMIT (deferred). */
const POISON: Record<Dialect, string> = {
  sqlite: `CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.id = 'poison'
           BEGIN SELECT RAISE(ABORT, 'poisoned'); END;`,
  postgres: `CREATE FUNCTION fail_poison() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.id = 'poison' THEN RAISE EXCEPTION 'poisoned at commit'; END IF; RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER poison AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED
             FOR EACH ROW EXECUTE FUNCTION fail_poison();`,
}

describe.each(DIALECTS)('a failed group commit on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let q: Qualink

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    await rawExec(db, store, POISON[dialect])
    q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, 'a.jsonl'),
    })
  })
  afterEach(async () => {
    await q?.close()
    await store?.close()
    await db?.cleanup()
  })

  it('answers 503 to every member of the group and stores none of them', async () => {
    const events = [...Array.from({ length: 9 }, () => ping()), ping({ id: 'poison' })]
    const replies = await Promise.all(
      events.map((e) =>
        q.app.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { 'content-type': 'application/cloudevents+json' },
          payload: JSON.stringify(e),
        }),
      ),
    )
    expect(replies.map((r) => r.statusCode)).toEqual(Array(10).fill(503))
    expect(replies[0]!.json()).toMatchObject({ code: 'QLK_STORE_UNAVAILABLE', status: 503 })
    expect(await store.listEvents({ allPlants: true, reason: 'test' }, { limit: 100 })).toEqual([])
    expect(await store.maxAuditSeq()).toBe(0)

    // The write path recovers: the next request commits normally.
    const ok = await q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(ping()),
    })
    expect(ok.statusCode).toBe(202)
  })
})

import { describe, expect, it } from 'vitest'
import { DIALECTS, type Dialect, rawExec } from '../dialects.ts'
import { ping } from '../event-fixtures.ts'
import { useQualink } from '../qualink-fixture.ts'

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
  const bed = useQualink(dialect, 'test', async (db, store) => {
    await rawExec(db, store, POISON[dialect])
    return {}
  })

  it('answers 503 to every member of the group and stores none of them', async () => {
    const events = [...Array.from({ length: 9 }, () => ping()), ping({ id: 'poison' })]
    const replies = await Promise.all(
      events.map((e) =>
        bed.q.app.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { 'content-type': 'application/cloudevents+json' },
          payload: JSON.stringify(e),
        }),
      ),
    )
    expect(replies.map((r) => r.statusCode)).toEqual(Array(10).fill(503))
    expect(replies[0]!.json()).toMatchObject({ code: 'QLK_STORE_UNAVAILABLE', status: 503 })
    expect(await bed.store.listEvents({ allPlants: true, reason: 'test' }, { limit: 100 })).toEqual([])
    expect(await bed.store.maxAuditSeq()).toBe(0)

    // The write path recovers: the next request commits normally.
    const ok = await bed.q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(ping()),
    })
    expect(ok.statusCode).toBe(202)
  })
})

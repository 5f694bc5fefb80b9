import { describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import type { AppendRequest, AuditEntry } from '../../src/store/types.ts'
import { DIALECTS, type Dialect, rawExec } from '../dialects.ts'
import { ping } from '../event-fixtures.ts'
import { useTestStore } from '../store-fixture.ts'

const ALL = { allPlants: true, reason: 'test' } as const

/**
 * Database-side failures: on SQLite the insert aborts; on PostgreSQL the row is written and the
 * transaction fails at COMMIT (a deferred constraint trigger), the latest point a failure can come.
 */
const POISON_AUDIT: Record<Dialect, string> = {
  sqlite: `CREATE TRIGGER poison_audit BEFORE INSERT ON audit_log WHEN NEW.action = 'test.poisoned'
           BEGIN SELECT RAISE(ABORT, 'poisoned audit'); END;`,
  postgres: `CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.action = 'test.poisoned' THEN RAISE EXCEPTION 'poisoned audit at commit'; END IF; RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER poison_audit AFTER INSERT ON audit_log DEFERRABLE INITIALLY DEFERRED
             FOR EACH ROW EXECUTE FUNCTION fail_audit();`,
}
const POISON_EVENT: Record<Dialect, string> = {
  sqlite: `CREATE TRIGGER poison_event BEFORE INSERT ON events WHEN NEW.id = 'poison'
           BEGIN SELECT RAISE(ABORT, 'poisoned event'); END;`,
  postgres: `CREATE FUNCTION fail_event() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.id = 'poison' THEN RAISE EXCEPTION 'poisoned event at commit'; END IF; RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER poison_event AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED
             FOR EACH ROW EXECUTE FUNCTION fail_event();`,
}

function entry(action: string, subject: string): AuditEntry {
  return { plant: '1000', actor: 'test', action, subject, correlationId: null, payload: { subject } }
}

function request(events: Record<string, unknown>[], audit: AuditEntry[]): AppendRequest {
  const at = new Date().toISOString()
  return { actor: 'test', events: events.map((e) => toAppendEvent(e as CloudEvent, at)), audit }
}

/** AppendRequest.audit: a business action's audit rows in the transaction of its events. */
describe.each(DIALECTS)('events and their action’s audit in one transaction on %s', (dialect: Dialect) => {
  const t = useTestStore(dialect)
  const actions = async () => (await t.store.listAudit(ALL, { limit: 100 })).map((a) => a.action)

  it('stores the events, then the action’s audit rows, at database time; again for duplicates', async () => {
    const before = await t.store.now()
    const e = [ping(), ping()]
    await t.store.appendEvents([request(e, [entry('test.executed', 'x:1')])])
    expect(await actions()).toEqual(['event.ingested', 'event.ingested', 'test.executed'])
    // every event a duplicate: no event row, but the repeated action is audited, with a real stamp
    const [again] = await t.store.appendEvents([request(e, [entry('test.executed', 'x:1')])])
    expect(again!.map((r) => r.duplicate)).toEqual([true, true])
    const rows = await t.store.listAudit(ALL, { action: 'test.executed', limit: 10 })
    expect(rows).toHaveLength(2)
    for (const r of rows) expect(r.atMs).toBeGreaterThanOrEqual(before - 1000)
    // no events at all: the audit rows alone
    await t.store.appendEvents([request([], [entry('test.executed', 'x:2')])])
    expect(await t.store.listAudit(ALL, { subject: 'x:2', limit: 10 })).toHaveLength(1)
    expect(await t.store.listEvents(ALL, { limit: 10 })).toHaveLength(2)
  })

  it('stores neither the events nor any audit row when the action’s audit row fails', async () => {
    await rawExec(t.db, t.store, POISON_AUDIT[dialect])
    await expect(
      t.store.appendEvents([request([ping(), ping()], [entry('test.poisoned', 'x:3')])]),
    ).rejects.toThrow(/poisoned audit/)
    expect(await t.store.listEvents(ALL, { limit: 10 })).toEqual([])
    expect(await t.store.maxAuditSeq()).toBe(0)
  })

  it('stores no audit row of the action when one of its events fails', async () => {
    await rawExec(t.db, t.store, POISON_EVENT[dialect])
    await expect(
      t.store.appendEvents([request([ping(), ping({ id: 'poison' })], [entry('test.executed', 'x:4')])]),
    ).rejects.toThrow(/poisoned event/)
    expect(await t.store.listEvents(ALL, { limit: 10 })).toEqual([])
    expect(await t.store.maxAuditSeq()).toBe(0)
  })
})

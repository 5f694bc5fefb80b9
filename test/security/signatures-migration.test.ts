/**
 * Migration 0020 on a database that already holds signatures: SQLite rebuilds the table (a CHECK
 * cannot be altered in place), PostgreSQL swaps the constraint. Rows and ids survive, the
 * append-only triggers still refuse changes, and a mass-release signature can be stored.
 */
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { loadMigrations } from '../../src/store/migrations.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.()
})

const OLD = `INSERT INTO signatures (plant, signer_id, printed_name, meaning, record_kind, record_id, record_hash,
  method, actor, signed_at_ms) VALUES ('P100', 'alice', 'Alice Approver', 'approved', 'bulk-replay', '{"max":1000}',
  '${'a'.repeat(64)}', 'password', 'api:alice-key', 1764230400000)`

/** The schema as migrations before 0020 left it, with one signature in it. */
async function before0020(db: TestDatabase): Promise<void> {
  const older = loadMigrations(db.dialect).filter((m) => m.version < 20)
  const record = (m: { version: number; name: string; breaking: boolean }) =>
    `INSERT INTO qualink_migrations VALUES (${m.version}, '${m.name}', ${m.breaking ? 1 : 0}, 0)`
  if (db.dialect === 'sqlite') {
    const d = new Database(db.location)
    d.exec(`CREATE TABLE qualink_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
      breaking INTEGER NOT NULL, applied_at_ms INTEGER NOT NULL)`)
    for (const m of older) d.exec(`${m.sql};\n${record(m)}`)
    d.exec(OLD)
    d.close()
    return
  }
  const c = new pg.Client({ connectionString: db.location })
  await c.connect()
  // the PostgreSQL store's own bookkeeping table, as its migrate() creates it
  await c.query(`CREATE TABLE qualink_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
    breaking BOOLEAN NOT NULL, applied_at_ms BIGINT NOT NULL)`)
  for (const m of older) {
    await c.query(m.sql)
    await c.query('INSERT INTO qualink_migrations VALUES ($1, $2, $3, 0)', [m.version, m.name, m.breaking])
  }
  await c.query(OLD)
  await c.end()
}

describe.each(DIALECTS)('migration 0020 over existing signatures on %s', (dialect: Dialect) => {
  it('keeps rows, ids and the append-only triggers, and admits the mass-release kind', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const db = await createTestDatabase(dialect)
    cleanups.push(() => db.cleanup())
    await before0020(db)
    const store: Store = await db.open()
    cleanups.push(() => store.close())
    const rows = await store.sql.all('SELECT id, signer_id, record_kind FROM signatures')
    expect(rows.map((r) => [Number(r.id), r.signer_id, r.record_kind])).toEqual([[1, 'alice', 'bulk-replay']])
    await expect(store.sql.run("UPDATE signatures SET meaning = 'released'")).rejects.toThrow(
      /QLK_AUDIT_IMMUTABLE/,
    )
    await expect(store.sql.run('DELETE FROM signatures')).rejects.toThrow(/QLK_AUDIT_IMMUTABLE/)
    const [added] = await store.sql.all(
      `${OLD.replace("'bulk-replay', '{\"max\":1000}'", '\'mass-release\', \'{"lots":["L1"]}\'')} RETURNING id`,
    )
    expect(Number(added!.id)).toBe(2)
    await expect(
      store.sql.run(OLD.replace("'bulk-replay'", "'no-such-kind'").replace("'alice'", "'bob'")),
    ).rejects.toThrow(/CHECK|check constraint/i)
  })
})

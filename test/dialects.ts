import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { inject } from 'vitest'
import { PostgresStore } from '../src/store/postgres/store.ts'
import { SqliteStore } from '../src/store/sqlite/store.ts'
import type { Store } from '../src/store/types.ts'
import { PG_ADMIN_URL, serviceUp, uniqueName } from './services.ts'

/** Every store and engine suite runs once per dialect, as kysely's test suite does. */
export const DIALECTS = ['sqlite', 'postgres'] as const
export type Dialect = (typeof DIALECTS)[number]

export { PG_ADMIN_URL }

export interface TestDatabase {
  readonly dialect: Dialect
  /** the SQLite file, or the PostgreSQL connection string of a fresh database */
  readonly location: string
  /** a scratch directory for this test (anchors, extra files) */
  readonly dir: string
  open(): Promise<Store>
  cleanup(): Promise<void>
}

/** True when the dialect can run here; PostgreSQL needs the local service. */
export async function dialectAvailable(d: Dialect): Promise<boolean> {
  return d === 'sqlite' ? true : serviceUp('postgres')
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** a PostgreSQL database with every migration applied, made once per run (global-setup.ts); '' without one */
    pgMigratedTemplate: string
    /** a SQLite file with every migration applied, made once per run (global-setup.ts) */
    sqliteMigratedTemplate: string
  }
}

export interface TestDatabaseOptions {
  /**
   * On PostgreSQL, copy a database that global-setup.ts migrated once per run (CREATE DATABASE …
   * TEMPLATE) instead of creating an empty one that `open()` then migrates: for a suite that
   * opens a fresh store per test, since migrating is most of what a fresh PostgreSQL database
   * costs (measured on a 2-core machine at load 21: create 1 s, migrate 2.5–3 s, drop 1–2 s). The
   * store then finds nothing to migrate, so only a suite that asserts nothing about migrations may
   * ask for it. On SQLite the file is a copy of one migrated once per run: a fresh file's
   * migrations commit one by one with synchronous=FULL (measured at load 10: 230-320 ms to open a
   * new file, 15 ms to open a migrated one). Ignored outside a vitest run.
   */
  readonly migrated?: boolean
}

/** A fresh database of the dialect: a new SQLite file, or a new PostgreSQL database (empty unless `migrated`). */
export async function createTestDatabase(
  dialect: Dialect,
  opts: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qualink-test-'))
  if (dialect === 'sqlite') {
    const file = path.join(dir, 'qualink.db')
    const template = opts.migrated && process.env.VITEST ? inject('sqliteMigratedTemplate') : ''
    if (template) copyFileSync(template, file)
    return {
      dialect,
      location: file,
      dir,
      open: async () => SqliteStore.open({ file, readWorkers: 1 }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const name = uniqueName('qlk_test').toLowerCase()
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  const template = opts.migrated && process.env.VITEST ? inject('pgMigratedTemplate') : ''
  await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`)
  await admin.end()
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`)
  return {
    dialect,
    location: url,
    dir,
    open: async () => PostgresStore.open({ connectionString: url }),
    cleanup: async () => {
      const a = new pg.Client({ connectionString: PG_ADMIN_URL })
      await a.connect()
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await a.end()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Raw SQL against the test database, bypassing the Store (tamper simulation, fault setup). */
export async function rawExec(db: TestDatabase, store: Store, sql: string): Promise<void> {
  if (db.dialect === 'sqlite') (store as SqliteStore).rawDatabase().exec(sql)
  else await (store as PostgresStore).rawPool().query(sql)
}

/**
 * On PostgreSQL, tailing readers stop below the cluster-wide xmin: a transaction held open by a
 * concurrent test (in any database of the cluster) delays them. Wait until every committed
 * event is below the watermark before asserting on a tail-driven consumer.
 */
export async function untilTailCaughtUp(store: Store, timeoutMs = 20_000): Promise<void> {
  const all = { allPlants: true, reason: 'test' } as const
  const end = Date.now() + timeoutMs
  for (;;) {
    const listed = await store.listEvents(all, { limit: 1_000_000 })
    const tailed = await store.tailEvents(all, { txid: '0', seq: 0 }, 1_000_000)
    if (tailed.events.length === listed.length) return
    if (Date.now() > end) throw new Error('tail did not catch up: a transaction holds the watermark back')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Which dialects can run here (PostgreSQL needs the local service), probed once per test file. */
export const AVAILABLE: Readonly<Record<Dialect, boolean>> = Object.fromEntries(
  await Promise.all(DIALECTS.map(async (d) => [d, await dialectAvailable(d)] as const)),
) as Record<Dialect, boolean>

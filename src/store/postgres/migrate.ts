import type pg from 'pg'
import { loadMigrations, planMigrations } from '../migrations.ts'
import { NOW_MS } from './clock.ts'

/** Serialises concurrent migrators (N processes starting at once). */
const MIGRATION_LOCK = 7_162_534

/** Applies the pending numbered migrations, each in its own transaction, under a session advisory lock. */
export async function migrate(c: pg.PoolClient): Promise<void> {
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    await c.query(`CREATE TABLE IF NOT EXISTS qualink_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, breaking BOOLEAN NOT NULL, applied_at_ms BIGINT NOT NULL)`)
    const applied = (await c.query('SELECT version, breaking FROM qualink_migrations')).rows
    const todo = planMigrations(
      applied.map((r) => ({ version: Number(r.version), breaking: Boolean(r.breaking) })),
      loadMigrations('postgres'),
    )
    for (const m of todo) {
      await c.query('BEGIN')
      try {
        await c.query(m.sql)
        await c.query(`INSERT INTO qualink_migrations VALUES ($1, $2, $3, ${NOW_MS})`, [
          m.version,
          m.name,
          m.breaking,
        ])
        await c.query('COMMIT')
      } catch (e) {
        await c.query('ROLLBACK')
        throw e
      }
    }
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
  }
}

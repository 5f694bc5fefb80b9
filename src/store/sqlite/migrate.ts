import type Database from 'better-sqlite3'
import { loadMigrations, planMigrations } from '../migrations.ts'
import { NOW_MS } from './clock.ts'

/** Applies the pending numbered migrations, each in its own IMMEDIATE transaction. */
export function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS qualink_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, breaking INTEGER NOT NULL, applied_at_ms INTEGER NOT NULL)`)
  const applied = db.prepare('SELECT version, breaking FROM qualink_migrations').all() as Record<
    string,
    unknown
  >[]
  const todo = planMigrations(
    applied.map((r) => ({ version: Number(r.version), breaking: r.breaking === 1 })),
    loadMigrations('sqlite'),
  )
  for (const m of todo) {
    db.transaction(() => {
      db.exec(m.sql)
      db.prepare(`INSERT INTO qualink_migrations VALUES (?, ?, ?, ${NOW_MS})`).run(
        m.version,
        m.name,
        m.breaking ? 1 : 0,
      )
    }).immediate()
  }
}

import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { assetPath } from '../assets.ts'
import { QualinkError } from '../contracts/errors.ts'

/** A numbered plain-SQL migration. Both dialects carry the same numbers (a test checks it). */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly breaking: boolean
  readonly sql: string
}

export interface AppliedMigration {
  readonly version: number
  readonly breaking: boolean
}

export function migrationsDir(dialect: 'sqlite' | 'postgres'): string {
  return assetPath('src', 'store', dialect, 'migrations')
}

export function loadMigrations(dialect: 'sqlite' | 'postgres'): Migration[] {
  const dir = migrationsDir(dialect)
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
  // Two files with one version would make the second fail on qualink_migrations' primary key at
  // start-up, far from the cause: refuse here and name both.
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.slice(0, 4) === files[i - 1]!.slice(0, 4)) {
      throw new Error(
        `migrations ${files[i - 1]} and ${files[i]} (${dialect}) share version ${files[i]!.slice(0, 4)}: renumber the newer one`,
      )
    }
  }
  return files.map((file) => {
    const sql = readFileSync(path.join(dir, file), 'utf8')
    const flag = /^--\s*qualink:breaking=(true|false)\s*$/m.exec(sql)
    if (!flag) throw new Error(`migration ${file} lacks its '-- qualink:breaking=true|false' header`)
    return {
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      breaking: flag[1] === 'true',
      sql,
    }
  })
}

/**
 * Which migrations to apply. Like graphile-worker, refuse only when the database carries a
 * *breaking* migration this code does not know: a newer non-breaking one (added columns,
 * tables) is safe to run beside, so N processes can be upgraded one at a time.
 */
export function planMigrations(
  applied: readonly AppliedMigration[],
  known: readonly Migration[],
): Migration[] {
  const maxKnown = known.reduce((m, k) => Math.max(m, k.version), 0)
  const unknownBreaking = applied.filter((a) => a.version > maxKnown && a.breaking)
  if (unknownBreaking.length > 0) {
    throw new QualinkError(
      'QLK_MIGRATION_BREAKING',
      `the database has breaking migration ${unknownBreaking.map((a) => a.version).join(', ')} but this code knows ` +
        `migrations up to ${maxKnown}; upgrade Qualink before starting it against this database`,
    )
  }
  const done = new Set(applied.map((a) => a.version))
  return known.filter((k) => !done.has(k.version))
}

import { describe, expect, it } from 'vitest'
import { loadMigrations, planMigrations } from './migrations.ts'

describe('migrations', () => {
  it('carry identical numbers and breaking flags in both dialects', () => {
    const sqlite = loadMigrations('sqlite').map((m) => [m.version, m.name, m.breaking])
    const postgres = loadMigrations('postgres').map((m) => [m.version, m.name, m.breaking])
    expect(sqlite.length).toBeGreaterThan(0)
    expect(sqlite).toEqual(postgres)
  })

  it('applies only what the database lacks', () => {
    const known = loadMigrations('sqlite')
    expect(planMigrations([], known)).toEqual(known)
    expect(planMigrations([{ version: 1, breaking: false }], known).map((m) => m.version)).not.toContain(1)
  })

  it('runs beside a newer non-breaking migration but refuses a newer breaking one', () => {
    const known = loadMigrations('sqlite')
    const newer = Math.max(...known.map((m) => m.version)) + 1
    const applied = known.map((m) => ({ version: m.version, breaking: m.breaking }))
    expect(planMigrations([...applied, { version: newer, breaking: false }], known)).toEqual([])
    expect(() => planMigrations([...applied, { version: newer, breaking: true }], known)).toThrow(
      expect.objectContaining({ code: 'QLK_MIGRATION_BREAKING' }),
    )
  })
})

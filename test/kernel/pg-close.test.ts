import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PostgresStore } from '../../src/store/postgres/store.ts'
import { createTestDatabase, dialectAvailable, type TestDatabase } from '../dialects.ts'

/**
 * Closing the PostgreSQL store must end even when a connection is never handed back (a statement
 * that does not return, a leaked checkout): pool.end() alone would wait forever, and a shutdown
 * that hangs is a deployment that cannot restart. The stuck connection is named in a warning.
 */
describe.skipIf(!(await dialectAvailable('postgres')))('closing the PostgreSQL store', () => {
  let db: TestDatabase
  const warnings: Error[] = []
  const onWarning = (w: Error) => warnings.push(w)

  beforeEach(async () => {
    db = await createTestDatabase('postgres')
    warnings.length = 0
    process.on('warning', onWarning)
  })
  afterEach(async () => {
    process.off('warning', onWarning)
    await db?.cleanup()
  })

  it('ends a connection that is never released, names its statement, and returns', async () => {
    const store = await PostgresStore.open({ connectionString: db.location, closeGraceMs: 200 })
    const held = await store.rawPool().connect()
    const stuck = held.query('SELECT pg_sleep(30) AS stuck_on_purpose')
    const failed = stuck.then(
      () => 'returned',
      (e: Error) => e.message,
    )
    await store.close()
    // the statement failed because its connection was ended, not because it finished
    expect(await failed).not.toBe('returned')
    const named = warnings.filter((w) => w.name === 'QualinkShutdownWarning')
    expect(named.map((w) => w.message).join('\n')).toContain('stuck_on_purpose')
  })

  it('closes without warnings when every connection is back', async () => {
    const store = await PostgresStore.open({ connectionString: db.location, closeGraceMs: 200 })
    expect(await store.now()).toBeGreaterThan(0)
    await store.close()
    expect(warnings.filter((w) => w.name === 'QualinkShutdownWarning')).toEqual([])
  })
})

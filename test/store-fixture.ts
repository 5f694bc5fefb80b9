import { afterEach, beforeEach } from 'vitest'
import type { Store } from '../src/store/types.ts'
import { AVAILABLE, createTestDatabase, type Dialect, type TestDatabase } from './dialects.ts'

/**
 * A fresh database and open store of `dialect` for each test of the calling suite (skipped when
 * the dialect is not available here), closed and removed after it. On PostgreSQL it is a copy of
 * the database migrated once per run (createTestDatabase's `migrated`): the store opens on the
 * schema its migrations make, without running them again for every test.
 */
export function useTestStore(dialect: Dialect): { readonly store: Store; readonly db: TestDatabase } {
  let db: TestDatabase | undefined
  let store: Store | undefined
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
    store = undefined
    db = undefined
  })
  return {
    get store() {
      return store!
    },
    get db() {
      return db!
    },
  }
}

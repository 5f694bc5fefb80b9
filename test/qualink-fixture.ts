import path from 'node:path'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { type Qualink, type QualinkOptions, startQualink } from '../src/server/qualink.ts'
import type { Store } from '../src/store/types.ts'
import { AVAILABLE, createTestDatabase, type Dialect, type TestDatabase } from './dialects.ts'

/** A Qualink under test: its database, the store it opened on it, and the server. */
export interface QualinkTestBed {
  readonly db: TestDatabase
  readonly store: Store
  readonly q: Qualink
}

/**
 * What a test adds to the server's options (webhooks, translators, workflows, `runEngine: false`,
 * …), given the fresh database and store; it may first prepare the store (a trigger, a directory).
 */
export type QualinkSetup = (db: TestDatabase, store: Store) => QualinkOptions | Promise<QualinkOptions>

/**
 * A fresh migrated database of `dialect`, a store on it, and a Qualink serving it on a free port
 * with logging off and its audit anchors in the database's directory; `close()` stops and removes
 * all three.
 */
export async function openQualink(
  dialect: Dialect,
  setup?: QualinkSetup,
): Promise<QualinkTestBed & { close(): Promise<void> }> {
  const db = await createTestDatabase(dialect, { migrated: true })
  let store: Store | undefined
  try {
    store = await db.open()
    const q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, 'a.jsonl'),
      ...(await setup?.(db, store)),
    })
    const opened = store
    return {
      db,
      store: opened,
      q,
      close: async () => {
        await q.close()
        await opened.close()
        await db.cleanup()
      },
    }
  } catch (e) {
    await store?.close()
    await db.cleanup()
    throw e
  }
}

/**
 * `openQualink` around every test of the calling suite (`per: 'test'`, each skipped where the dialect
 * is not available here) or once around all of them (`per: 'suite'`), closed after. The bed's fields
 * are read at test time.
 */
export function useQualink(dialect: Dialect, per: 'test' | 'suite', setup?: QualinkSetup): QualinkTestBed {
  let bed: Awaited<ReturnType<typeof openQualink>> | undefined
  const close = async () => {
    await bed?.close()
    bed = undefined
  }
  if (per === 'test') {
    beforeEach(async (ctx) => {
      if (!AVAILABLE[dialect]) ctx.skip()
      bed = await openQualink(dialect, setup)
    })
    afterEach(close)
  } else {
    beforeAll(async () => {
      bed = await openQualink(dialect, setup)
    })
    afterAll(close)
  }
  return {
    get db() {
      return bed!.db
    },
    get store() {
      return bed!.store
    },
    get q() {
      return bed!.q
    },
  }
}

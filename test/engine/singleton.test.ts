import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Singleton } from '../../src/engine/singleton.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { until } from './harness.ts'

describe.each(DIALECTS)('singleton duty on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
  })

  it('retries a duty that failed to start while it holds the lease, and halts it on stop', async () => {
    let attempts = 0
    let halted = 0
    const s = new Singleton({
      store,
      name: 'broker-source',
      owner: 'p1',
      ttlMs: 300,
      run: () => {
        attempts++
        if (attempts < 3) throw new Error('broker unreachable')
      },
      halt: () => {
        halted++
      },
    })
    s.start()
    await until(() => attempts === 3)
    expect(s.held).toBe(true)
    await new Promise((r) => setTimeout(r, 400)) // more heartbeats: running, so not started again
    expect(attempts).toBe(3)
    await s.stop()
    expect(halted).toBe(1)
    expect(s.held).toBe(false)
  })
})

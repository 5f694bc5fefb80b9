/**
 * A run started by a translated delivery is claimed when its event is appended, not at the
 * engine's next poll: the translation stage wakes the engine after a pass that appended events.
 * The engine here polls once an hour, so the run can only start through that wake. The delivery
 * arrives through a watched folder, which involves no HTTP request (an ingest POST wakes the
 * engine too, but before its delivery is translated).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startLims } from '../../simulators/index.ts'
import { checkLimsFile, limsCsvTranslator } from '../../src/connectors/lims/csv/translator.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, limsHardnessRow, until } from './harness.ts'

const onResult = defineWorkflow<Record<string, never>, Record<string, never>>({
  name: 'on-lims-result',
  version: 1,
  triggers: ['lims.result.reported.v1'],
  key: (e) => String(e.subject),
  config: () => ({}),
  async run(ctx) {
    return ctx.step('note', async () => ({ seen: true }))
  },
})

describe.each(DIALECTS)('translation wakes the engine on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let q: Qualink
  let dir: string

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    dir = path.join(db.dir, 'lims')
    mkdirSync(dir, { recursive: true })
    q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, 'a.jsonl'),
      workflows: [onResult],
      translators: [limsCsvTranslator('lims')],
      fileDrops: [{ name: 'lims', plant: 'P100', dir, pollMs: 100, settleMs: 50, check: checkLimsFile }],
      enginePollMs: 3_600_000,
    })
  })
  afterEach(async () => {
    await q?.close()
    await store?.close()
    await db?.cleanup()
  })

  it('starts and finishes the run of a translated delivery although the engine would poll only in an hour', async () => {
    const lims = await startLims({ dir })
    try {
      await lims.writeResults([limsHardnessRow('S-wake')])
    } finally {
      await lims.close()
    }
    await until(async () =>
      (await store.engine.listRuns(ALL, { limit: 5 })).some((r) => r.status === 'completed'),
    )
    const [run] = await store.engine.listRuns(ALL, { limit: 5 })
    expect(run).toMatchObject({ workflow: 'on-lims-result', status: 'completed' })
  })
})

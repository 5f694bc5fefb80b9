/**
 * A run started by a translated delivery is claimed when its event is appended, not at the
 * engine's next poll: the translation stage wakes the engine after a pass that appended events.
 * The engine here polls once an hour, so the run can only start through that wake. The delivery
 * arrives through a watched folder, which involves no HTTP request (an ingest POST wakes the
 * engine too, but before its delivery is translated).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startLims } from '../../simulators/index.ts'
import { checkLimsFile, limsCsvTranslator } from '../../src/connectors/lims/csv/translator.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { useQualink } from '../qualink-fixture.ts'
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
  let dir: string
  const bed = useQualink(dialect, 'test', (db) => {
    dir = path.join(db.dir, 'lims')
    mkdirSync(dir, { recursive: true })
    return {
      workflows: [onResult],
      translators: [limsCsvTranslator('lims')],
      fileDrops: [{ name: 'lims', plant: 'P100', dir, pollMs: 100, settleMs: 50, check: checkLimsFile }],
      enginePollMs: 3_600_000,
    }
  })

  it('starts and finishes the run of a translated delivery although the engine would poll only in an hour', async () => {
    const lims = await startLims({ dir })
    try {
      await lims.writeResults([limsHardnessRow('S-wake')])
    } finally {
      await lims.close()
    }
    await until(async () =>
      (await bed.store.engine.listRuns(ALL, { limit: 5 })).some((r) => r.status === 'completed'),
    )
    const [run] = await bed.store.engine.listRuns(ALL, { limit: 5 })
    expect(run).toMatchObject({ workflow: 'on-lims-result', status: 'completed' })
  })
})

/**
 * Events about a plant's designated test materials are marked `qualinksynthetic` by the
 * translation stage, and the business metrics leave their runs out: a test receipt that reached a
 * running Qualink is not an inspection awaiting creation (both dialects).
 */
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { EVENT_EXAMPLES } from '../../src/contracts/events/examples.ts'
import { RetryableError } from '../../src/engine/errors.ts'
import type { Translator } from '../../src/engine/translation-stage.ts'
import { inspectionsAwaitingCreation } from '../../src/observability/business-queries.ts'
import type { StoredRawDelivery } from '../../src/store/types.ts'
import {
  isSynthetic,
  markSyntheticEvents,
  SYNTHETIC_EXTENSION,
  testMaterials,
} from '../../src/synthetic/mark.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type TestDatabase } from '../dialects.ts'
import { append, engine, until } from '../engine/harness.ts'

const example = EVENT_EXAMPLES['erp.goods_receipt.posted.v1'] as { lot: Record<string, unknown> }

/** A goods receipt of `material` in plant P100 (the catalogue's example otherwise). */
function receipt(material: string, batch: string, extra: Record<string, unknown> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:erp',
    type: 'erp.goods_receipt.posted.v1',
    subject: batch,
    plant: 'P100',
    data: { ...example, lot: { ...example.lot, id: batch, material, plant: 'P100' } },
    ...extra,
  } as unknown as CloudEvent
}

describe('synthetic marking', () => {
  it('marks the events a translator makes about a test material of their own plant only', async () => {
    const out = [
      receipt('TEST-RAW', 'QS1'),
      receipt('RAW-100', 'B1'),
      { ...receipt('TEST-RAW', 'QS2'), plant: 'P200' },
    ]
    const translator: Translator = { source: 'erp-s4', translate: async () => out as CloudEvent[] }
    const materials = testMaterials({ P100: { synthetic: { materials: ['TEST-RAW'] } }, P200: {} })

    const [marked] = markSyntheticEvents([translator], materials)
    const events = await marked!.translate({} as StoredRawDelivery, {} as never)

    expect(events.map(isSynthetic)).toEqual([true, false, false])
    expect(marked!.source).toBe('erp-s4')
    // no test materials configured: the translators as they are
    expect(markSyntheticEvents([translator], new Map())[0]).toBe(translator)
  })
})

describe.each(DIALECTS)('synthetic receipts in the business metrics on %s', (dialect) => {
  let db: TestDatabase
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
  })
  afterEach(async () => {
    await db?.cleanup()
  })

  it('a marked test receipt is not an inspection awaiting creation', async () => {
    const store = await db.open()
    // the QMS never answers: both receipt runs stay before create-inspection-lot
    const qms = {
      createInspectionLot: async () => {
        throw new RetryableError('QLK_REMOTE_UNAVAILABLE', 'QMS down (test)')
      },
    }
    const e = engine(store, { workflows: [supplierReceiptInspection()], ports: { qms, erp: {} } })
    try {
      await e.start()
      await append(
        store,
        receipt('RAW-100', 'B1'),
        receipt('TEST-RAW', 'QS1', { [SYNTHETIC_EXTENSION]: true }),
      )
      await until(async () => {
        const [r] = await store.sql.all('SELECT COUNT(*) AS n FROM workflow_runs')
        return Number(r!.n) === 2
      })

      expect(await inspectionsAwaitingCreation(store.sql)).toMatchObject([{ plant: 'P100', n: 1 }])
    } finally {
      await e.stop()
      await store.close()
    }
  })
})

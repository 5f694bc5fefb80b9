import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, type QmsSim, startErpS4, startQms } from '../../simulators/index.ts'
import { sapS4GoodsReceiptTranslator } from '../../src/connectors/erp/sap-s4/gr-translator.ts'
import { qmsWebhookTranslator } from '../../src/connectors/qms/rest/webhook-translator.ts'
import type { DriftPolicy } from '../../src/projections/reconciliation.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort, simulatorPorts, webhookSource } from './helpers.ts'

const KEY = 'RAW-100|1000|B1'

describe.each(DIALECTS)('QMS–ERP reconciliation on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let erp: ErpS4Sim
  let qms: QmsSim
  let q: Qualink
  let policy: DriftPolicy = 'alert'

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect)
    store = await db.open()
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    erp = await startErpS4({
      materials: { 'RAW-100': { baseUnit: 'KG' } },
      webhook: { url: `${base}/v1/ingress/erp-s4`, secret: 'e' },
    })
    qms = await startQms({ webhook: { url: `${base}/v1/ingress/qms`, secret: 'q' } })
    q = await startQualink({
      store,
      port,
      logger: pino({ level: 'silent' }),
      anchorFile: `${db.dir}/anchors.jsonl`,
      webhooks: [webhookSource.erp('e'), webhookSource.qms('q')],
      translators: [sapS4GoodsReceiptTranslator('erp-s4'), qmsWebhookTranslator('qms')],
      workflows: [supplierReceiptInspection()],
      ports: {
        ...simulatorPorts({ erp: erp.url, qms: qms.url }),
      },
      // The test drives the passes itself.
      reconcile: { intervalMs: 3_600_000, policy: () => policy },
    })
    expect(
      (await s4Client(erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, goodsReceipt('B1', '100')))
        .status,
    ).toBe(201)
    await until(() => qms.state.inspectionLots.length === 1)
    qms.makeUsageDecision(String(qms.state.inspectionLots[0]!.id), {
      decision: 'ACCEPT',
      code: 'A2',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '60' },
        { disposition: 'REWORK', quantity: '40' },
      ],
    })
    await until(
      async () => (await store.engine.listRuns(ALL, { key: 'B1', limit: 1 }))[0]?.status === 'completed',
    )
  })
  afterEach(async () => {
    await q?.close()
    await Promise.all([erp?.close(), qms?.close()])
    await store?.close()
    await db?.cleanup()
  })

  /** Someone moves blocked stock to unrestricted in the ERP behind Qualink's back (mvt 343). */
  const releaseBehindTheBack = async () => {
    const r = await s4Client(erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
      GoodsMovementCode: '04',
      MaterialDocumentHeaderText: 'manual release',
      to_MaterialDocumentItem: [
        {
          Material: 'RAW-100',
          Plant: '1000',
          Batch: 'B1',
          GoodsMovementType: '343',
          InventoryStockType: '07',
          QuantityInEntryUnit: '30',
          EntryUnit: 'KG',
        },
      ],
    })
    expect(r.status).toBe(201)
  }
  const stock = () => erp.state.stock.find((s) => s.lot === KEY)!.buckets

  it('finds no drift when the ERP holds what the QMS decided', async () => {
    expect(await q.reconciler!.runOnce()).toEqual([])
  })

  it('records drift with both views under the alert policy, and changes nothing', async () => {
    policy = 'alert'
    await releaseBehindTheBack()
    const [d] = await q.reconciler!.runOnce()
    expect(d).toMatchObject({ lot: 'B1', kind: 'released-beyond-decision', status: 'open', plant: 'P100' })
    expect(d!.detail).toMatch(/30 KG more unrestricted/)
    expect(stock()).toMatchObject({ unrestricted: 90_000, blocked: 10_000 })
    const api = (await q.app.inject({ method: 'GET', url: '/v1/drift?status=open' })).json().drift
    expect(api).toHaveLength(1)
    expect((await q.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
      /qualink_drift_open\{plant="P100",kind="released-beyond-decision"\} 1/,
    )
  })

  it('heals exactly once under the heal policy', async () => {
    policy = 'heal'
    await releaseBehindTheBack()
    const docsBefore = erp.state.counts.materialDocuments
    expect(await q.reconciler!.runOnce()).toEqual([])
    expect(stock()).toMatchObject({ unrestricted: 60_000, blocked: 40_000 })
    await q.reconciler!.runOnce()
    await q.reconciler!.runOnce()
    expect(erp.state.counts.materialDocuments).toBe(docsBefore + 1)
    const drift = (await q.app.inject({ method: 'GET', url: '/v1/drift' })).json().drift
    expect(drift.map((x: { status: string }) => x.status)).toEqual(['healed'])
    const audit = await store.listAudit(ALL, { subject: 'B1', limit: 100 })
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['drift.detected', 'drift.healed']))
  })
})

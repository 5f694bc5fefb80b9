import { beforeEach, describe, expect, it } from 'vitest'
import { MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import type { DriftPolicy } from '../../src/projections/reconciliation.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { receiveGoods } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const KEY = 'RAW-100|1000|B1'

describe.each(DIALECTS)('QMS–ERP reconciliation on %s', (dialect: Dialect) => {
  let policy: DriftPolicy = 'alert'

  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    workflows: [supplierReceiptInspection()],
    // The test drives the passes itself.
    reconcile: { intervalMs: 3_600_000, policy: () => policy },
  }))
  beforeEach(async () => {
    await receiveGoods(hub.erp, 'B1', '100')
    await until(() => hub.qms.state.inspectionLots.length === 1)
    hub.qms.makeUsageDecision(String(hub.qms.state.inspectionLots[0]!.id), {
      decision: 'ACCEPT',
      code: 'A2',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '60' },
        { disposition: 'REWORK', quantity: '40' },
      ],
    })
    await until(
      async () => (await hub.store.engine.listRuns(ALL, { key: 'B1', limit: 1 }))[0]?.status === 'completed',
    )
  })

  /** Someone moves blocked stock to unrestricted in the ERP behind Qualink's back (mvt 343). */
  const releaseBehindTheBack = async () => {
    const r = await s4Client(hub.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
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
  const stock = () => hub.erp.state.stock.find((s) => s.lot === KEY)!.buckets

  it('finds no drift when the ERP holds what the QMS decided', async () => {
    expect(await hub.q.reconciler!.runOnce()).toEqual([])
  })

  it('records drift with both views under the alert policy, and changes nothing', async () => {
    policy = 'alert'
    await releaseBehindTheBack()
    const [d] = await hub.q.reconciler!.runOnce()
    expect(d).toMatchObject({ lot: 'B1', kind: 'released-beyond-decision', status: 'open', plant: 'P100' })
    expect(d!.detail).toMatch(/30 KG more unrestricted/)
    expect(stock()).toMatchObject({ unrestricted: 90_000, blocked: 10_000 })
    const api = (await hub.q.app.inject({ method: 'GET', url: '/v1/drift?status=open' })).json().drift
    expect(api).toHaveLength(1)
    expect((await hub.q.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
      /qualink_drift_open\{plant="P100",kind="released-beyond-decision"\} 1/,
    )
  })

  it('heals exactly once under the heal policy', async () => {
    policy = 'heal'
    await releaseBehindTheBack()
    const docsBefore = hub.erp.state.counts.materialDocuments
    expect(await hub.q.reconciler!.runOnce()).toEqual([])
    expect(stock()).toMatchObject({ unrestricted: 60_000, blocked: 40_000 })
    await hub.q.reconciler!.runOnce()
    await hub.q.reconciler!.runOnce()
    expect(hub.erp.state.counts.materialDocuments).toBe(docsBefore + 1)
    const drift = (await hub.q.app.inject({ method: 'GET', url: '/v1/drift' })).json().drift
    expect(drift.map((x: { status: string }) => x.status)).toEqual(['healed'])
    const audit = await hub.store.listAudit(ALL, { subject: 'B1', limit: 100 })
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['drift.detected', 'drift.healed']))
  })
})

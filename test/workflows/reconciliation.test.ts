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
    policy = 'alert'
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

  it('reads the runs in keyset pages: any page size finds the same drift, lot by lot', async () => {
    for (const [i, batch] of ['B2', 'B3', 'B4'].entries()) {
      await receiveGoods(hub.erp, batch, '100')
      await until(() => hub.qms.state.inspectionLots.length === i + 2)
      hub.qms.makeUsageDecision(String(hub.qms.state.inspectionLots[i + 1]!.id), {
        decision: 'ACCEPT',
        code: 'A1',
        dispositions: [{ disposition: 'USE_AS_IS', quantity: '100' }],
      })
    }
    await until(
      async () => (await hub.store.engine.listRuns(ALL, { status: 'completed', limit: 10 })).length === 4,
    )
    await releaseBehindTheBack() // B1: 30 KG of its blocked stock made unrestricted
    const kinds = (ds: readonly { lot: string; kind: string }[]) => ds.map((d) => `${d.lot}:${d.kind}`).sort()
    const whole = kinds(await hub.q.reconciler!.runOnce())
    expect(whole).toEqual(['B1:released-beyond-decision'])
    // page sizes 1 and 2 cut between every lot; the drift found and its one open row are the same
    for (const pageSize of [1, 2, 3])
      expect(kinds(await hub.q.reconciler!.runOnce({ pageSize }))).toEqual(whole)
    const open = await hub.store.sql.all(`SELECT lot, kind FROM drift WHERE status = 'open'`)
    expect(open.map((r) => `${r.lot}:${r.kind}`)).toEqual(whole)
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

  const get = async (url: string) => (await hub.q.app.inject({ method: 'GET', url })).json()

  it('reads the QMS view from the QMS API, and finds a decision the QMS changed unseen', async () => {
    // the QMS's decision changes without a webhook: only its API tells
    const lot = hub.qms.model.lots.get(String(hub.qms.state.inspectionLots[0]!.id))!
    lot.usageDecision = {
      ...lot.usageDecision!,
      dispositions: [{ disposition: 'REWORK', quantity: 100_000 }],
    }
    policy = 'alert'
    const found = await hub.q.reconciler!.runOnce()
    expect(found.map((d) => d.kind).sort()).toEqual(['decision-unseen', 'released-despite-rejection'])
    const unseen = found.find((d) => d.kind === 'decision-unseen')!
    expect(unseen.qmsView).toMatchObject({ source: 'qms-api', lines: [{ code: 'REWORK' }] })
    expect(unseen.detail).toMatch(
      /REWORK 100 KG\) is not the one Qualink posted \(USE_AS_IS 60 KG, REWORK 40 KG/,
    )
    // with the QMS's view, the 60 KG Qualink released are released despite the QMS's rejection
    expect(found.find((d) => d.kind === 'released-despite-rejection')!.detail).toMatch(
      /released nothing, the ERP has 60 KG unrestricted/,
    )
  })

  it('falls back to the journal when the QMS cannot be read, and says so', async () => {
    await hub.qms.close()
    await releaseBehindTheBack()
    const [d] = await hub.q.reconciler!.runOnce()
    expect(d).toMatchObject({ kind: 'released-beyond-decision', qmsView: { source: 'journal' } })
    expect((d!.qmsView as { readError?: string }).readError).toBeTruthy()
  })

  it('finds a split posted differently from the decision (more blocked than decided)', async () => {
    // 30 KG of the released 60 moved to blocked behind Qualink's back (mvt 344, unrestricted → blocked)
    const r = await s4Client(hub.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
      GoodsMovementCode: '04',
      MaterialDocumentHeaderText: 'manual block',
      to_MaterialDocumentItem: [
        {
          Material: 'RAW-100',
          Plant: '1000',
          Batch: 'B1',
          GoodsMovementType: '344',
          InventoryStockType: '01',
          QuantityInEntryUnit: '30',
          EntryUnit: 'KG',
        },
      ],
    })
    expect(r.status).toBe(201)
    const [d] = await hub.q.reconciler!.runOnce()
    expect(d).toMatchObject({ kind: 'split-mismatch', status: 'open' })
    expect(d!.detail).toMatch(/keeps 40 KG blocked or reserved, the ERP holds 70 KG/)
    // no automatic heal for it: under the heal policy it stays open for someone to decide
    policy = 'heal'
    expect((await hub.q.reconciler!.runOnce()).map((x) => x.kind)).toEqual(['split-mismatch'])
  })

  it('pages and filters drift, with its age, and counts open drift by age', async () => {
    await releaseBehindTheBack()
    const lot = hub.qms.model.lots.get(String(hub.qms.state.inspectionLots[0]!.id))!
    lot.usageDecision = {
      ...lot.usageDecision!,
      dispositions: [{ disposition: 'REWORK', quantity: 100_000 }],
    }
    expect(await hub.q.reconciler!.runOnce()).toHaveLength(2)
    const page1 = await get('/v1/drift?status=open&limit=1')
    expect(page1.drift).toHaveLength(1)
    expect(page1.nextCursor).not.toBeNull()
    const page2 = await get(`/v1/drift?status=open&limit=1&cursor=${page1.nextCursor}`)
    expect(page2).toMatchObject({ nextCursor: null })
    expect([...page1.drift, ...page2.drift].map((d: { kind: string }) => d.kind).sort()).toEqual([
      'decision-unseen',
      'released-despite-rejection',
    ])
    const d = page1.drift[0]
    // measured now, on the database clock: at least as long as when the pass last saw it
    expect(d.ageMs).toBeGreaterThanOrEqual(d.checkedAtMs - d.sinceMs)
    expect(d.ageMs).toBeGreaterThanOrEqual(0)
    expect((await get('/v1/drift?kind=decision-unseen')).drift).toHaveLength(1)
    expect((await get('/v1/drift?plant=P200')).drift).toEqual([])
    expect((await get('/v1/drift?minAgeSeconds=86400')).drift).toEqual([])
    const bad = await hub.q.app.inject({ method: 'GET', url: '/v1/drift?kind=nope' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().code).toBe('QLK_VALIDATION')
    const metrics = (await hub.q.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/qualink_drift_open_by_age\{plant="P100",age="lt_1h"\} 2/)
    expect(metrics).toMatch(/qualink_drift_open_oldest_age_seconds\{plant="P100"\} \d/)
  })
})

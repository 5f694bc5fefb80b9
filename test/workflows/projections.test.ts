import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { scorecardText } from '../../src/cli/commands/suppliers.ts'
import type { LotStatus } from '../../src/projections/lot-status.ts'
import {
  type SupplierScorecard,
  SupplierScorecardProjector,
} from '../../src/projections/supplier-scorecard.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf, receiveGoods } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const KEYS = { p100: 'key-p100-projections', p200: 'key-p200-projections', admin: 'key-admin-projections' }
const auth = (key: string) => ({ authorization: `Bearer ${key}` })
const kg = (units: number) => ({ units, scale: 3, uom: 'KG' })

describe.each(DIALECTS)('lot status and supplier scorecard projections on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection()],
    capaPolicy: (plant: string) => (plant === 'P100' ? 'block-purchasing' : 'none'),
    apiKeys: [
      { id: 'viewer-p100', sha256: hashApiKey(KEYS.p100), roles: ['viewer'], plants: ['P100'] },
      { id: 'viewer-p200', sha256: hashApiKey(KEYS.p200), roles: ['viewer'], plants: ['P200'] },
      { id: 'admin', sha256: hashApiKey(KEYS.admin), roles: ['admin'], plants: ['*'] },
    ],
  }))

  const get = (url: string, key = KEYS.p100) => hub.q.app.inject({ method: 'GET', url, headers: auth(key) })
  // The S/4 receipt names the ERP's plant (1000) on the lot, which the genealogy projection keeps
  // (no identity mapping in that translator yet), so the lot reads need an all-plants caller.
  const status = async (lot: string) => (await get(`/v1/lots/${lot}/status`, KEYS.admin)).json() as LotStatus
  const scorecard = async () => (await get('/v1/suppliers/SUP-7/scorecard')).json() as SupplierScorecard
  const runDone = async (lot: string) =>
    (await hub.store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]?.status === 'completed'
  const capa = async (type: 'qms.capa.opened.v1' | 'qms.capa.closed.v1', id: string) => {
    const correctiveAction = {
      id,
      plant: 'P100',
      kind: 'corrective',
      status: type === 'qms.capa.opened.v1' ? 'open' : 'closed',
      eightDStep: type === 'qms.capa.opened.v1' ? 'D3' : 'D8',
      title: 'Moisture above limit on RAW-100',
      nonconformances: [],
      supplier: 'SUP-7',
      audit: { timestamp: '2026-11-27T10:00:00Z', sourceSystem: 'qms', approvalStatus: 'not_required' },
    }
    const r = await hub.q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json', ...auth(KEYS.admin) },
      payload: JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:test:qms',
        type,
        subject: id,
        plant: 'P100',
        data: type === 'qms.capa.opened.v1' ? { correctiveAction } : { correctiveAction, effective: true },
      }),
    })
    expect(r.statusCode).toBe(202)
  }

  it('shows per lot what the QMS decided, what the ERP holds and what is pending; scores the supplier', async () => {
    hub.qms.faults.set({ duplicateRate: 1, seed: 3 })
    await receiveGoods(hub.erp, 'B1', '100')
    await receiveGoods(hub.erp, 'B2', '50')
    const lot1 = await inspectionLotOf(hub.qms, 'B1')
    await inspectionLotOf(hub.qms, 'B2')

    // Before the decision: nothing decided, the stock in QI, the run waiting on its inbox.
    // (404 until the genealogy projection has the receipt)
    await until(async () => (await status('B1')).pending?.[0]?.waitingFor != null)
    const waiting = await status('B1')
    expect(waiting).toMatchObject({ lot: 'B1', material: 'RAW-100', supplier: 'SUP-7', qms: null })
    expect(waiting.erp.stock.qualityInspection).toEqual(kg(100_000))
    expect(waiting.pending).toHaveLength(1)
    expect(waiting.pending[0]).toMatchObject({
      workflow: 'supplier-receipt-inspection',
      waitingFor: { kind: 'inbox' },
      lastStep: 'create-inspection-lot',
    })
    expect(waiting.pending[0]!.sinceMs).toBeGreaterThan(0)
    expect(waiting.drift).toEqual([])
    expect(waiting.erp.confirmed).toBeNull()

    hub.qms.makeUsageDecision(lot1.id, ACCEPT_SPLIT_60_30_10)
    await until(() => runDone('B1'), 45_000)
    const lot2 = await inspectionLotOf(hub.qms, 'B2')
    hub.qms.makeUsageDecision(lot2.id, { decision: 'REJECT', code: 'R1' }) // whole lot scrapped
    await until(() => runDone('B2'), 45_000)

    const decided = await status('B1')
    expect(decided.qms).toMatchObject({ code: 'A2', valuation: 'accepted', changed: false })
    expect(decided.qms!.decidedAt).toMatch(/^\d{4}-/)
    expect(decided.qms!.stockPostings.map((l) => l.code)).toEqual(['USE_AS_IS', 'REWORK', 'SCRAP'])
    // The S/4 simulator sends receipts only, so the projected stock still has them in QI; the
    // stock the ERP confirmed after the posting is there beside it.
    expect(decided.erp.stock).toEqual({ qualityInspection: kg(100_000) })
    expect(decided.erp.confirmed!.stock).toEqual({
      unrestricted: kg(60_000),
      blocked: kg(30_000),
    })
    expect(decided.pending).toEqual([])

    // Every webhook came twice; each lot counts once. Rejected: 30 reworked (blocked) + 10 scrapped
    // of B1 and all 50 of B2 = 90 of 150 received → 600,000 ppm.
    // The scorecard is a projection: on PostgreSQL it follows the log below the visibility watermark.
    const decided2 = async () => {
      const m = (await scorecard()).plants?.[0]?.materials[0]
      return m !== undefined && m.lotsAccepted + m.lotsRejected === 2
    }
    await until(decided2)
    const card = await scorecard()
    expect(card.plants).toHaveLength(1)
    const [p100] = card.plants
    expect(p100).toMatchObject({ plant: 'P100', qualityStatus: 'released', openCapas: [] })
    expect(p100!.materials).toEqual([
      expect.objectContaining({
        material: 'RAW-100',
        lotsReceived: 2,
        lotsAccepted: 1,
        lotsRejected: 1,
        inspected: kg(150_000),
        rejected: kg(90_000),
        ppm: 600_000,
        lastDecision: expect.objectContaining({ lot: 'B2', code: 'R1', valuation: 'rejected' }),
      }),
    ])
    expect(hub.qms.faults.counts.duplicate).toBeGreaterThan(0)

    // Projecting again from where it stands changes nothing (the cursor moved with each batch).
    await new SupplierScorecardProjector(hub.store).catchUp()
    expect(await scorecard()).toEqual(card)

    // A supplier CAPA opened in the QMS: listed, and under P100's policy the supplier is blocked
    // for purchasing; closed (delivered twice): released again.
    await capa('qms.capa.opened.v1', 'CAPA-1')
    await until(async () => (await scorecard()).plants[0]!.openCapas.length === 1)
    const blocked = await scorecard()
    expect(blocked.plants[0]).toMatchObject({
      qualityStatus: 'purchasing-blocked',
      openCapas: [{ capa: 'CAPA-1' }],
    })
    expect(scorecardText(blocked)).toContain('Plant P100: purchasing-blocked')
    expect(scorecardText(blocked)).toContain('open CAPA CAPA-1')
    await capa('qms.capa.closed.v1', 'CAPA-1')
    await capa('qms.capa.closed.v1', 'CAPA-1') // redelivered with a new id: one CAPA, still closed
    await until(async () => (await scorecard()).plants[0]!.openCapas.length === 0)
    expect((await scorecard()).plants[0]).toMatchObject({ qualityStatus: 'released', openCapas: [] })

    // Plant scope: another plant's caller cannot tell the lot or the supplier exists.
    for (const url of ['/v1/lots/B1/status', '/v1/suppliers/SUP-7/scorecard']) {
      const other = await get(url, KEYS.p200)
      expect(other.statusCode, url).toBe(404)
      expect(other.json().code).toBe('QLK_NOT_FOUND')
    }
    expect((await get('/v1/suppliers/NOBODY/scorecard')).statusCode).toBe(404)
  })
})

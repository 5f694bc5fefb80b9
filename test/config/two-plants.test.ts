/**
 * examples/two-plants through loadConfig + buildRuntime, with a test overlay pointing the
 * connectors at simulators on loopback: P100's calls reach the S/4-style ERP, P200's the ERPNext
 * one, both plants share the QMS. Effects are counted in the simulators' own state.
 */
import { copyFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import {
  type ErpNextSim,
  type ErpS4Sim,
  type QmsSim,
  startErpNext,
  startErpS4,
  startQms,
} from '../../simulators/index.ts'
import { buildRuntime, type ConfiguredRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { LotRef } from '../../src/workflows/ports/erp.ts'
import { TempDir } from './fixture.ts'

const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const P100_LOT: LotRef = { plant: 'P100', material: 'RAW-100', lot: 'B100' }
const P200_LOT: LotRef = { plant: 'P200', material: 'RAW-200', lot: 'B200' }

let tmp: TempDir
let s4: ErpS4Sim
let erpnext: ErpNextSim
let qms: QmsSim
let rt: ConfiguredRuntime
let s4InspectionLot: string

beforeAll(async () => {
  ;[s4, erpnext, qms] = await Promise.all([
    startErpS4({ port: 0, materials: { 'RAW-100': { baseUnit: 'KG' } } }),
    startErpNext({
      port: 0,
      warehouses: {
        'Stores - P200': 'unrestricted',
        'Quality Inspection - P200': 'qi',
        'Quarantine - P200': 'blocked',
        'Scrap - P200': 'scrap',
      },
    }),
    startQms({ port: 0 }),
  ])
  // goods receipts into quality inspection, one per plant, in each plant's own ERP
  const gr = goodsReceipt('B100', '100') as { to_MaterialDocumentItem: Array<{ Plant: string }> }
  gr.to_MaterialDocumentItem[0]!.Plant = 'P100'
  expect((await s4Client(s4.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(201)
  s4InspectionLot = s4.state.inspectionLots[0]!.lot
  const receipt = await fetch(`${erpnext.url}/api/resource/Stock%20Entry`, {
    method: 'POST',
    headers: { authorization: 'token simkey:simsecret', 'content-type': 'application/json' },
    body: JSON.stringify({
      purpose: 'Material Receipt',
      docstatus: 1,
      items: [
        { item_code: 'RAW-200', batch_no: 'B200', qty: '50', t_warehouse: 'Quality Inspection - P200' },
      ],
    }),
  })
  expect(receipt.status).toBe(200)

  tmp = new TempDir()
  const file = path.join(tmp.dir, 'qualink.yaml')
  copyFileSync(new URL('../../examples/two-plants/qualink.yaml', import.meta.url), file)
  tmp.write('qualink.test.yaml', {
    connectors: {
      'sap-p100': { config: { baseUrl: s4.url, egress: { timeoutMs: 2000 } } },
      'erpnext-p200': { config: { baseUrl: erpnext.url } },
      'qms-cloud': { config: { baseUrl: qms.url } },
    },
    egress: {
      allowlist: { 'sap-p100': [s4.url], 'erpnext-p200': [erpnext.url], 'qms-cloud': [qms.url] },
    },
    ingress: { webhooks: { 'erp-p100': { secrets: [{ secretFile: 'erp-secret.txt' }] } } },
    reconciliation: { interval: '2m' },
    plants: { P200: { reconciliation: { policy: 'heal' } } },
  })
  tmp.write('erp-secret.txt', 'from-a-file\n')
  // connectors read their credentials from the process environment
  Object.assign(process.env, {
    SAP_P100_PASSWORD: 'sim',
    ERPNEXT_P200_KEY: 'simkey',
    ERPNEXT_P200_SECRET: 'simsecret',
    QA_CHAT_WEBHOOK_URL: 'http://127.0.0.1:4109/hooks/qa',
  })
  rt = buildRuntime(loadConfig(file, { QUALINK_ENV: 'test' }), {
    ...process.env,
    QMS_WEBHOOK_SECRET: 'qms-secret',
    ERP_P200_WEBHOOK_SECRET: 'frappe-secret',
  })
})

afterAll(async () => {
  tmp?.remove()
  await Promise.all([s4?.close(), erpnext?.close(), qms?.close()])
})

describe('examples/two-plants: buildRuntime against simulators', () => {
  it('builds ingress, translators, workflows and routed ports for both plants', () => {
    expect(rt.plants).toEqual(['P100', 'P200'])
    expect(rt.options.webhooks?.map((w) => [w.name, w.plant, w.secrets])).toEqual([
      ['erp-p100', 'P100', ['from-a-file']],
      ['erp-p200', 'P200', ['frappe-secret']],
      ['qms-p100', 'P100', ['qms-secret']],
      ['qms-p200', 'P200', ['qms-secret']],
    ])
    expect(rt.options.translators?.map((t) => t.source).sort()).toEqual([
      'erp-p100',
      'erp-p200',
      'erp-p200-plans',
      'lims-p200',
      'qms-p100',
      'qms-p200',
    ])
    expect(rt.options.fileDrops?.[0]).toMatchObject({
      name: 'lims-p200',
      plant: 'P200',
      dir: '/srv/lims/p200/out',
    })
    expect(rt.options.workflows?.map((w) => w.name)).toEqual([
      'supplier-receipt-inspection',
      'inspection-plan-distribution',
    ])
    // P200's plans polled from its ERPNext
    expect(rt.options.feeds?.map((f) => [f.name, f.plant])).toEqual([['erp-p200-plans', 'P200']])
    // settings per plant: workflow plant override > plant settings > workflow defaults > built-in
    const wf = rt.options.workflows![0]!
    expect(wf.config?.('P100')).toEqual({
      sampling: { level: 'II', aql: '1.0', severity: 'normal' },
      decisionDeadline: '72h',
      maxEscalations: 3,
      decisionFrom: 'inbox', // the receipt workflow's v2 marker (v1 runs lack it)
    })
    expect(wf.config?.('P200')).toEqual({
      sampling: { level: 'II', aql: '0.65', severity: 'normal' },
      // the example's P200 lists a material group: applied to materials mapped to it (none here)
      materialGroups: { PACKAGING: { level: 'S-3', aql: '2.5', severity: 'reduced' } },
      decisionDeadline: '24h',
      maxEscalations: 2,
      decisionFrom: 'inbox',
    })
    expect(() => wf.config?.('P999')).toThrow(PermanentError)
    expect(rt.summary).toBe(
      '2 plants (P100, P200), 4 connectors, 6 ingress sources, 2 workflows (supplier-receipt-inspection, inspection-plan-distribution)',
    )
  })

  it('schedules reconciliation with each plant’s policy: P200 heals, P100 only alerts', () => {
    const reconcile = rt.options.reconcile!
    expect(reconcile.intervalMs).toBe(120_000)
    expect(reconcile.policy('P200')).toBe('heal')
    expect(reconcile.policy('P100')).toBe('alert')
  })

  it("P100's stock posting lands in the S/4 ERP and P200's in ERPNext, each exactly once", async () => {
    const { erp } = rt.ports
    await erp.recordUsageDecision({
      plant: 'P100',
      idempotencyKey: 'run-1/ud',
      inspectionLot: s4InspectionLot,
      valuation: 'accepted',
      code: 'A1',
    })
    const p100 = await erp.postStockDisposition({
      idempotencyKey: 'run-1/post-stock',
      inspectionLot: s4InspectionLot,
      lot: P100_LOT,
      lines: [{ bucket: 'release', quantity: kg(100) }],
    })
    const p200 = await erp.postStockDisposition({
      idempotencyKey: 'run-2/post-stock',
      inspectionLot: 'QI-P200-1',
      lot: P200_LOT,
      lines: [
        { bucket: 'release', quantity: kg(40) },
        { bucket: 'scrap', quantity: kg(10) },
      ],
    })
    expect(p100.documents).toHaveLength(1)
    expect(p200.documents).toHaveLength(1)
    expect(s4.state.counts.documentsByLotAndBucket['RAW-100|P100|B100']).toEqual({ qi: 1, unrestricted: 1 })
    expect(s4.state.counts.lotPostings).toBe(1)
    expect(erpnext.state.counts.submittedStockEntriesByBatch).toEqual({ B200: 1 + 2 })
    expect(erpnext.state.counts.submittedStockEntriesByBatch.B100).toBeUndefined()
    const stock = await erp.readLotStock(P100_LOT)
    expect(stock.quantities.unrestricted).toMatchObject({ units: 100_000 })
  })

  it('both plants share the QMS: inspection lots of P100 and P200 are created there', async () => {
    const a = await rt.ports.qms.createInspectionLot({
      idempotencyKey: 'run-1/create',
      plant: 'P100',
      material: 'RAW-100',
      lot: 'B100',
      quantity: kg(100),
    })
    const b = await rt.ports.qms.createInspectionLot({
      idempotencyKey: 'run-2/create',
      plant: 'P200',
      material: 'RAW-200',
      lot: 'B200',
      quantity: kg(50),
    })
    expect([a.record.plant, b.record.plant]).toEqual(['P100', 'P200'])
    // a plant-less read goes to the one QMS every plant shares
    expect((await rt.ports.qms.getInspectionLot(b.record.id))?.lot).toBe('B200')
  })

  it('refuses what it cannot route: no plant across two ERPs, an unconfigured plant', async () => {
    const ud = {
      idempotencyKey: 'k',
      inspectionLot: s4InspectionLot,
      valuation: 'accepted',
      code: 'A1',
    } as const
    await expect(rt.ports.erp.recordUsageDecision(ud)).rejects.toThrow(/names no plant.*pass 'plant'/)
    await expect(rt.ports.erp.readLotStock({ ...P100_LOT, plant: 'P300' })).rejects.toThrow(
      /no erp connector is configured for plant 'P300'/,
    )
    expect(s4.state.counts.lotPostings).toBe(1)
  })
})

/**
 * Go-live adoption of an ERPNext plant (`qualink adopt`, docs/workflows.md "Go-live adoption") end
 * to end over the ERPNext and QMS simulators, Qualink running, on both dialects. The plant's
 * systems hold what the old integration left in flight: Purchase Receipts in the QI warehouse with
 * their incoming Quality Inspections — one whose QMS lot is undecided, one the QMS never heard of,
 * one the QMS decided and ERPNext has nothing of, one the QMS decided and the old integration
 * submitted and posted in part (a Stock Entry naming the inspection), one whose stock partly left
 * QI by an entry not naming its inspection — and an open nonconformance (ERPNext has no order on
 * hold: a Work Order has no hold). ERPNext's webhook is off (the receipts were submitted before
 * cut-over); the QMS's webhooks reach Qualink. Effects are counted in the simulator's state,
 * which does not deduplicate.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type ErpNextSim, startErpNext } from '../../simulators/erpnext/server.ts'
import { type AdoptionReport, runAdoption } from '../../src/adoption/adopt.ts'
import { httpAppend } from '../../src/cli/commands/adopt.ts'
import { erpNextConnector } from '../../src/connectors/erp/erpnext/connector.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { frappe, RECEIPT_ROW, submitReceiptWithInspection } from './erpnext-receipts.ts'
import { ACCEPT_SPLIT_60_30_10 } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const QI_WH = 'Quality Inspection - SIM'
const WAREHOUSES = {
  unrestricted: 'Stores - SIM',
  qualityInspection: QI_WH,
  blocked: 'Quarantine - SIM',
  scrap: 'Scrap - SIM',
}
const KG = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const ACTOR = 'cli:go-live-lead'

describe.each(DIALECTS)('go-live adoption of an ERPNext plant on %s', (dialect: Dialect) => {
  let sim: ErpNextSim | undefined
  const hub = usePlantHub(dialect, () => ({
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection()],
    deferStart: true,
  }))
  afterEach(async () => {
    await sim?.close()
    sim = undefined
  })

  const erpnext = () => sim!
  const qmsPost = async (path: string, body: object) => {
    const r = await fetch(`${hub.qms.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(r.status, path).toBe(201)
    return (await r.json()) as { id: string }
  }
  /** A QMS inspection lot of 100 KG as the old integration created it. */
  const legacyQmsLot = (batch: string, extra: object = {}) =>
    qmsPost('/inspection-lots', {
      material: RECEIPT_ROW.item_code,
      batch,
      plant: 'P100',
      quantity: '100',
      unit: 'KG',
      ...extra,
    })
  const receive = (batch: string) =>
    submitReceiptWithInspection(erpnext(), QI_WH, { ...RECEIPT_ROW, batch_no: batch })
  const qmsLots = (batch: string) => [...hub.qms.model.lots.values()].filter((l) => l.batch === batch)
  /** submitted Stock Entries moving the batch (each one document, whatever its rows) */
  const entries = (batch: string) =>
    erpnext().state.docs['Stock Entry']!.filter(
      (d) => d.docstatus === 1 && (d.items as Array<{ batch_no: string }>).some((i) => i.batch_no === batch),
    )
  const bins = (batch: string) =>
    Object.fromEntries(
      erpnext()
        .state.bins.filter((b) => b.batch === batch)
        .map((b) => [b.warehouse, b.qty]),
    )
  const inspection = (name: string) =>
    erpnext().state.docs['Quality Inspection']!.find((d) => d.name === name)!
  const runsOf = (key: string) => hub.store.engine.listRuns(ALL, { key, limit: 10 })
  const allRuns = async () => (await hub.store.engine.listRuns(ALL, { limit: 100 })).length
  const outcomes = (r: AdoptionReport) =>
    Object.fromEntries(r.items.map((i) => [i.subject, `${i.outcome} ${i.kind}`]))

  it('a dry run lists, adopt starts each receipt at its step once, and the QMS finishes them', async () => {
    sim = await startErpNext({ port: 0 })
    process.env.QLK_TEST_ERPNEXT_KEY = 'simkey'
    process.env.QLK_TEST_ERPNEXT_SECRET = 'simsecret'
    const erp = erpNextConnector.instantiate(
      {
        baseUrl: sim.url,
        apiKeyEnv: 'QLK_TEST_ERPNEXT_KEY',
        apiSecretEnv: 'QLK_TEST_ERPNEXT_SECRET',
        warehouses: WAREHOUSES,
        egress: { timeoutMs: 2000 },
      },
      { name: 'erpnext-p100', allowlist: [sim.url], leaseMs: 30_000 },
    )
    await hub.start({ ports: { erp } })

    // What the old integration left in flight at cut-over.
    // EN-U1: its QMS lot names the Quality Inspection in its reference; undecided.
    const u1 = await receive('EN-U1')
    const u1Lot = await legacyQmsLot('EN-U1', { externalRef: `LEGACY-${u1.qi.name}` })
    // EN-U2: the QMS never heard of it.
    const u2 = await receive('EN-U2')
    // EN-D1: decided in the QMS (70 used as is, 30 scrapped); ERPNext has nothing of it.
    const d1 = await receive('EN-D1')
    const d1Lot = await legacyQmsLot('EN-D1')
    hub.qms.makeUsageDecision(d1Lot.id, {
      decision: 'ACCEPT',
      code: 'A1',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '70' },
        { disposition: 'SCRAP', quantity: '30' },
      ],
    })
    // EN-P1: decided 60/30/10 in the QMS; the old integration submitted the inspection Accepted
    // and moved the 60 to Stores by a Stock Entry naming it, then stopped.
    const p1 = await receive('EN-P1')
    const p1Lot = await legacyQmsLot('EN-P1')
    hub.qms.makeUsageDecision(p1Lot.id, ACCEPT_SPLIT_60_30_10)
    await erp.recordUsageDecision({
      idempotencyKey: 'legacy-ud',
      inspectionLot: p1.qi.name,
      valuation: 'accepted',
      code: 'A2',
    })
    const lotP1 = { plant: 'P100', material: RECEIPT_ROW.item_code, lot: 'EN-P1' }
    await erp.postStockDisposition({
      idempotencyKey: 'legacy-post',
      inspectionLot: p1.qi.name,
      lot: lotP1,
      lines: [{ bucket: 'release', quantity: KG(60) }],
    })
    // EN-X1: 40 moved out of QI by hand, the entry naming no inspection: what was posted is unknown.
    await receive('EN-X1')
    await frappe(erpnext(), 'POST', 'Stock%20Entry', {
      purpose: 'Material Transfer',
      docstatus: 1,
      items: [
        {
          item_code: RECEIPT_ROW.item_code,
          batch_no: 'EN-X1',
          qty: '40',
          uom: 'Kg',
          s_warehouse: QI_WH,
          t_warehouse: 'Stores - SIM',
        },
      ],
    })
    const nc = await qmsPost('/nonconformances', { title: 'Dented drums', batch: 'EN-N1', severity: 'MINOR' })

    expect(entries('EN-P1')).toHaveLength(1)
    const stockEntriesBefore = erpnext().state.docs['Stock Entry']!.length
    const expected = {
      'EN-U1': 'receipt-inspecting',
      'EN-U2': 'receipt',
      'EN-D1': 'receipt-decided',
      'EN-P1': 'receipt-decided',
      'EN-X1': 'needs-a-person',
      [nc.id]: 'nonconformance',
    }
    const as = (outcome: string) =>
      Object.fromEntries(
        Object.entries(expected).map(([k, v]) => [
          k,
          `${v === 'needs-a-person' ? 'left-alone' : outcome} ${v}`,
        ]),
      )
    const adopt = (dryRun: boolean) =>
      runAdoption(
        { plant: 'P100', erp, qms: hub.ports.qms!, actor: ACTOR, now: new Date() },
        { dryRun, append: httpAppend({ url: `http://127.0.0.1:${hub.port}`, actor: ACTOR }) },
      )

    // Dry run: the plan, nothing stored, nothing started, nothing sent.
    const dry = await adopt(true)
    expect(outcomes(dry)).toEqual(as('would-adopt'))
    const item = (r: AdoptionReport, s: string) => r.items.find((i) => i.subject === s)!
    expect(item(dry, 'EN-U1').detail).toContain(u1Lot.id)
    expect(item(dry, 'EN-U1').eventId).toBe(`receipt-${u1.qi.name}`)
    expect(item(dry, 'EN-P1').detail).toContain(
      `40.000 KG of 100.000 KG in QI (ERP inspection lot ${p1.qi.name})`,
    )
    expect(item(dry, 'EN-X1').detail).toContain('stock left QI without naming the inspection')
    expect(await hub.store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 10 })).toHaveLength(
      0,
    )
    expect(await allRuns()).toBe(0)
    expect(qmsLots('EN-U2')).toHaveLength(0)
    expect(erpnext().state.docs['Stock Entry']!.length).toBe(stockEntriesBefore)

    // Adopt.
    const first = await adopt(false)
    expect(first).toMatchObject({ adopted: 5, alreadyAdopted: 0, leftAlone: 1 })
    expect(outcomes(first)).toEqual(as('adopted'))
    for (const key of ['EN-D1', 'EN-P1'])
      await until(async () => (await runsOf(key))[0]?.status === 'completed', 45_000)
    // EN-D1: the QMS's decision recorded on the inspection and posted as one Stock Entry.
    expect((await runsOf('EN-D1'))[0]!.result).toMatchObject({
      inspectionLot: d1Lot.id,
      valuation: 'accepted',
    })
    expect(inspection(d1.qi.name)).toMatchObject({ docstatus: 1, status: 'Accepted' })
    expect(entries('EN-D1')).toHaveLength(1)
    expect(bins('EN-D1')).toEqual({ [QI_WH]: 0, 'Stores - SIM': 70_000, 'Scrap - SIM': 30_000 })
    // EN-P1: the old integration's 60 stand; only the 30 reworked and 10 scrapped are posted, once.
    expect(entries('EN-P1')).toHaveLength(2)
    expect(bins('EN-P1')).toEqual({
      [QI_WH]: 0,
      'Stores - SIM': 60_000,
      'Quarantine - SIM': 30_000,
      'Scrap - SIM': 10_000,
    })
    // EN-U1 waits on the QMS lot that existed; EN-U2 got its QMS lot; EN-X1 is left as it was.
    await until(async () => (await runsOf('EN-U1'))[0]?.status === 'waiting')
    await until(async () => qmsLots('EN-U2').length === 1 && (await runsOf('EN-U2'))[0]?.status === 'waiting')
    expect(qmsLots('EN-U1')).toHaveLength(1)
    expect(await runsOf('EN-X1')).toHaveLength(0)
    expect(bins('EN-X1')).toEqual({ [QI_WH]: 60_000, 'Stores - SIM': 40_000 })
    const [recorded] = await hub.store.listEvents(ALL, { type: 'qms.nonconformance.opened.v1', limit: 5 })
    expect(recorded!.envelope.data).toMatchObject({ nonconformance: { id: nc.id, lots: ['EN-N1'] } })
    const audited = await hub.store.listAudit(ALL, { action: 'event.ingested', limit: 50 })
    expect(audited.filter((a) => a.actor === `api:${ACTOR}`)).toHaveLength(5)

    // Adopting again stores and starts nothing (EN-D1 and EN-P1 are fully posted: not listed).
    const runsBefore = await allRuns()
    const again = await adopt(false)
    expect(again).toMatchObject({ adopted: 0, alreadyAdopted: 3, leftAlone: 1 })
    expect(again.items.map((i) => i.subject).sort()).toEqual(['EN-U1', 'EN-U2', 'EN-X1', nc.id].sort())
    expect(await allRuns()).toBe(runsBefore)
    expect(qmsLots('EN-U2')).toHaveLength(1)

    // The QMS decides; its webhooks reach the adopted runs.
    hub.qms.makeUsageDecision(u1Lot.id, { decision: 'ACCEPT', code: 'A1' })
    hub.qms.makeUsageDecision(qmsLots('EN-U2')[0]!.id, {
      decision: 'REJECT',
      code: 'R1',
      dispositions: [{ disposition: 'SCRAP', quantity: '100' }],
    })
    for (const key of ['EN-U1', 'EN-U2'])
      await until(async () => (await runsOf(key))[0]?.status === 'completed', 45_000)
    expect(inspection(u1.qi.name)).toMatchObject({ docstatus: 1, status: 'Accepted' })
    expect(inspection(u2.qi.name)).toMatchObject({ docstatus: 1, status: 'Rejected' })
    expect(entries('EN-U1')).toHaveLength(1)
    expect(bins('EN-U1')).toEqual({ [QI_WH]: 0, 'Stores - SIM': 100_000 })
    expect(entries('EN-U2')).toHaveLength(1)
    expect(bins('EN-U2')).toEqual({ [QI_WH]: 0, 'Scrap - SIM': 100_000 })
    expect(erpnext().state.counts.conservationViolations).toEqual([])
    expect(await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).toHaveLength(0)
  })
})

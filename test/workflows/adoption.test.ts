/**
 * Go-live adoption (`qualink adopt`, docs/workflows.md "Go-live adoption") end to end over the S/4
 * and QMS simulators: the plant's systems hold a mixed in-flight state from the old integration
 * (a receipt in QI whose QMS lot is undecided, a receipt in QI without a QMS lot, a lot decided in
 * the QMS and only partly posted in the ERP, an order on hold with an open nonconformance, an
 * order on hold without one, an open nonconformance without a hold). ERP webhooks are off (the
 * receipts were posted before cut-over); the QMS's webhooks reach Qualink. A dry run stores
 * nothing; adopt starts each run at the right step through the ingest API; adopting again stores
 * nothing new; then the QMS decides and dispositions and the ERP ends exactly as decided, each
 * effect one document in the simulator's state (which does not deduplicate).
 */
import { describe, expect, it } from 'vitest'
import { type AdoptionReport, runAdoption } from '../../src/adoption/adopt.ts'
import { httpAppend } from '../../src/cli/commands/adopt.ts'
import { eventLogHistory } from '../../src/projections/measurement-history.ts'
import { inProcessQualityCheck } from '../../src/workflows/in-process-check.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { receiveGoods, workNonconformance } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const KG = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const ACTOR = 'cli:go-live-lead'

describe.each(DIALECTS)('go-live adoption on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: {
      materials: { 'RAW-100': { baseUnit: 'KG' } },
      productionOrders: [
        {
          ManufacturingOrder: 'PO-H1',
          Material: 'FG-1',
          ProductionPlant: '1000',
          TotalQuantity: '10',
          Batch: 'FG-H1',
        },
        {
          ManufacturingOrder: 'PO-H2',
          Material: 'FG-1',
          ProductionPlant: '1000',
          TotalQuantity: '10',
          Batch: 'FG-H2',
        },
      ],
    },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    workflows: [supplierReceiptInspection(), inProcessQualityCheck()],
    ports: ({ store }) => ({ history: eventLogHistory(store) }),
  }))

  const qmsPost = async (path: string, body: object) => {
    const r = await fetch(`${hub.qms.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(r.status, path).toBe(201)
    return (await r.json()) as { id: string }
  }
  const erpLot = (batch: string) => [...hub.erp.model.lots.values()].find((l) => l.Batch === batch)!
  const qmsLots = (batch: string) => [...hub.qms.model.lots.values()].filter((l) => l.batch === batch)
  const docs = (batch: string) => hub.erp.state.counts.documentsByLotAndBucket[`RAW-100|1000|${batch}`]
  const stock = (batch: string) => hub.erp.state.stock.find((s) => s.lot === `RAW-100|1000|${batch}`)?.buckets
  const order = (id: string) => hub.erp.state.productionOrders.find((o) => o.order === id)!
  const runsOf = (key: string) => hub.store.engine.listRuns(ALL, { key, limit: 10 })
  const allRuns = async () => (await hub.store.engine.listRuns(ALL, { limit: 100 })).length
  const adopt = (dryRun: boolean) =>
    runAdoption(
      { plant: 'P100', erp: hub.ports.erp!, qms: hub.ports.qms!, actor: ACTOR, now: new Date() },
      { dryRun, append: httpAppend({ url: `http://127.0.0.1:${hub.port}`, actor: ACTOR }) },
    )
  const outcomes = (r: AdoptionReport) =>
    Object.fromEntries(r.items.map((i) => [i.subject, `${i.outcome} ${i.kind}`]))

  /** A QMS inspection lot of 100 KG RAW-100 as the old integration created it. */
  const legacyQmsLot = (batch: string, extra: object = {}) =>
    qmsPost('/inspection-lots', {
      material: 'RAW-100',
      batch,
      plant: '1000',
      quantity: '100',
      unit: 'KG',
      ...extra,
    })

  /** What the old integration left in flight at cut-over. */
  async function seedInFlight() {
    // AD-U1: received, its QMS lot created by the old integration (ERP lot in its reference), undecided.
    await receiveGoods(hub.erp, 'AD-U1', '100')
    const u1 = await legacyQmsLot('AD-U1', { externalRef: `LEGACY-${erpLot('AD-U1').InspectionLot}` })
    // AD-U2: received, the QMS never heard of it.
    await receiveGoods(hub.erp, 'AD-U2', '50')
    // AD-D1: decided in the QMS (70 released, 30 scrapped); the ERP has the decision and the release only.
    await receiveGoods(hub.erp, 'AD-D1', '100')
    const d1 = await legacyQmsLot('AD-D1')
    hub.qms.makeUsageDecision(d1.id, {
      decision: 'ACCEPT',
      code: 'A1',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '70' },
        { disposition: 'SCRAP', quantity: '30' },
      ],
    })
    // the old integration spoke the ERP's own codes (plant 1000): the bare connector
    const erp = hub.erpConnector!
    const inspectionLot = erpLot('AD-D1').InspectionLot
    await erp.recordUsageDecision({
      idempotencyKey: 'legacy-ud',
      inspectionLot,
      valuation: 'accepted',
      code: 'A1',
    })
    await erp.postStockDisposition({
      idempotencyKey: 'legacy-post',
      inspectionLot,
      lot: { plant: '1000', material: 'RAW-100', lot: 'AD-D1' },
      lines: [{ bucket: 'release', quantity: KG(70) }],
    })
    // PO-H1 on hold with an open NC on its batch; PO-H2 on hold without one; NC on X-N1 without a hold.
    for (const o of ['PO-H1', 'PO-H2'])
      await erp.setProductionOrderHold({
        idempotencyKey: `legacy-${o}`,
        order: o,
        onHold: true,
        reason: 'legacy',
      })
    const nc = await qmsPost('/nonconformances', {
      title: 'Torque out of tolerance',
      batch: 'FG-H1',
      severity: 'MAJOR',
    })
    const loose = await qmsPost('/nonconformances', {
      title: 'Scratched housings',
      batch: 'X-N1',
      severity: 'MINOR',
    })
    return { u1: u1.id, d1: d1.id, nc: nc.id, loose: loose.id }
  }

  it('a dry run lists, adopt starts each workflow at its step once, and the QMS finishes them', async () => {
    const seeded = await seedInFlight()
    expect(docs('AD-D1')).toEqual({ qi: 1, unrestricted: 1 })
    const erpDocsBefore = hub.erp.state.counts.materialDocuments
    const expected = {
      'AD-U1': 'receipt-inspecting',
      'AD-U2': 'receipt',
      'AD-D1': 'receipt-decided',
      'PO-H1': 'held-order',
      'PO-H2': 'needs-a-person',
      [seeded.loose]: 'nonconformance',
    }

    // Dry run: the plan, nothing stored, nothing started, nothing sent.
    const dry = await adopt(true)
    expect(outcomes(dry)).toEqual(
      Object.fromEntries(
        Object.entries(expected).map(([k, v]) => [
          k,
          `${v === 'needs-a-person' ? 'left-alone' : 'would-adopt'} ${v}`,
        ]),
      ),
    )
    expect(dry.items.find((i) => i.subject === 'AD-U1')!.detail).toContain(seeded.u1)
    expect(await hub.store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 10 })).toHaveLength(
      0,
    )
    expect(await allRuns()).toBe(0)
    expect(qmsLots('AD-U2')).toHaveLength(0)
    expect(hub.erp.state.counts.materialDocuments).toBe(erpDocsBefore)

    // Adopt.
    const first = await adopt(false)
    expect(first).toMatchObject({ adopted: 5, alreadyAdopted: 0, leftAlone: 1 })
    expect(outcomes(first)).toEqual(
      Object.fromEntries(
        Object.entries(expected).map(([k, v]) => [
          k,
          `${v === 'needs-a-person' ? 'left-alone' : 'adopted'} ${v}`,
        ]),
      ),
    )
    // AD-D1: the QMS's decision is posted; the ERP's read-back leaves the release it already had.
    await until(async () => (await runsOf('AD-D1'))[0]?.status === 'completed', 45_000)
    expect((await runsOf('AD-D1'))[0]!.result).toMatchObject({
      inspectionLot: seeded.d1,
      valuation: 'accepted',
    })
    expect(docs('AD-D1')).toEqual({ qi: 1, unrestricted: 1, scrap: 1 })
    expect(stock('AD-D1')).toMatchObject({ qi: 0, unrestricted: 70_000, scrap: 30_000 })
    // AD-U1 waits on the QMS lot that existed; AD-U2 got its QMS lot; PO-H1 waits for the disposition.
    await until(async () => (await runsOf('AD-U1'))[0]?.status === 'waiting')
    await until(async () => qmsLots('AD-U2').length === 1 && (await runsOf('AD-U2'))[0]?.status === 'waiting')
    await until(async () => (await runsOf('PO-H1'))[0]?.status === 'waiting')
    expect(qmsLots('AD-U1')).toHaveLength(1)
    expect(await runsOf('PO-H2')).toHaveLength(0)
    const [recorded] = await hub.store.listEvents(ALL, { type: 'qms.nonconformance.opened.v1', limit: 5 })
    expect(recorded!.envelope.data).toMatchObject({
      nonconformance: { id: seeded.loose, lots: ['X-N1'], status: 'open', audit: { operator: ACTOR } },
    })
    // Who adopted, and when, is audited with each adopted event.
    const audited = await hub.store.listAudit(ALL, { action: 'event.ingested', limit: 50 })
    expect(audited.filter((a) => a.actor === `api:${ACTOR}`)).toHaveLength(5)

    // Adopting again stores and starts nothing (AD-D1 is fully posted now, so it is not listed).
    const runsBefore = await allRuns()
    const again = await adopt(false)
    expect(again).toMatchObject({ adopted: 0, alreadyAdopted: 4, leftAlone: 1 })
    expect(again.items.map((i) => i.subject)).not.toContain('AD-D1')
    expect(await allRuns()).toBe(runsBefore)
    expect(qmsLots('AD-U1')).toHaveLength(1)
    expect(qmsLots('AD-U2')).toHaveLength(1)

    // The QMS decides and dispositions; its webhooks reach the adopted runs.
    hub.qms.makeUsageDecision(seeded.u1, { decision: 'ACCEPT', code: 'A1' })
    hub.qms.makeUsageDecision(qmsLots('AD-U2')[0]!.id, {
      decision: 'REJECT',
      code: 'R1',
      dispositions: [{ disposition: 'RETURN_TO_VENDOR', quantity: '50' }],
    })
    await workNonconformance(hub.qms.url, seeded.nc, ['CONTAINED', 'UNDER_REVIEW'])
    const disposition = await fetch(`${hub.qms.url}/api/v1/nonconformances/${seeded.nc}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'DISPOSITIONED',
        dispositionedBy: 'qe.meyer',
        dispositions: [{ disposition: 'REWORK', quantity: '10', unit: 'PC' }],
      }),
    })
    expect(disposition.status).toBe(200)
    for (const key of ['AD-U1', 'AD-U2', 'PO-H1'])
      await until(async () => (await runsOf(key))[0]?.status === 'completed', 45_000)

    expect(docs('AD-U1')).toEqual({ qi: 1, unrestricted: 1 })
    expect(stock('AD-U1')).toMatchObject({ qi: 0, unrestricted: 100_000 })
    expect(docs('AD-U2')).toEqual({ qi: 1, returned: 1 })
    expect(stock('AD-U2')).toMatchObject({ qi: 0, unrestricted: 0 })
    expect(erpLot('AD-U1').usageDecision?.InspectionLotUsageDecisionCode).toBe('A1')
    expect((await runsOf('PO-H1'))[0]!.result).toMatchObject({ verdict: 'dispositioned', adopted: true })
    // The hold of the old integration, then exactly one release; PO-H2 is left as it was.
    expect(order('PO-H1')).toMatchObject({ onHold: false, holdChanges: 2 })
    expect(order('PO-H2')).toMatchObject({ onHold: true, holdChanges: 1 })
    expect(hub.qms.model.nonconformances.get(seeded.nc)!.status).toBe('DISPOSITION_EXECUTED')
    expect(await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).toHaveLength(0)
  })
})

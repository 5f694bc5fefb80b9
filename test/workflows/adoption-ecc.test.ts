/**
 * Go-live adoption of a plant on SAP ECC over SOAP (`qualink adopt`, docs/workflows.md "Go-live
 * adoption") end to end over the ECC simulator's SOAP face and the QMS simulator, Qualink running,
 * on both dialects. ECC holds what the old integration left in flight: goods receipts in QI with
 * their inspection lots — one whose QMS lot is undecided, one the QMS never heard of, one the QMS
 * decided and ECC has nothing of, one the QMS decided and the old integration recorded the usage
 * decision in ECC for (no stock posted yet), one whose stock partly left QI by a goods movement
 * not posted on the lot — and an open nonconformance (ECC SOAP has no order hold). The receipts
 * were posted before cut-over (ECC has no outbound goods-receipt message here); the QMS's webhooks
 * reach Qualink. Effects are counted in the simulator's state, which does not deduplicate.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type ErpEccSim, startErpEcc } from '../../simulators/erp-ecc/server.ts'
import { goodsReceiptXml, soapCall } from '../../simulators/erp-ecc/soap-test-calls.ts'
import { type AdoptionReport, runAdoption } from '../../src/adoption/adopt.ts'
import { httpAppend } from '../../src/cli/commands/adopt.ts'
import { sapEccSoapConnector } from '../../src/connectors/erp/sap-ecc-soap/connector.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { usePlantHub } from './plant-hub.ts'

const MAT = 'RAW-100'
const KG = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const ACTOR = 'cli:go-live-lead'

describe.each(DIALECTS)('go-live adoption of an ECC (SOAP) plant on %s', (dialect: Dialect) => {
  let ecc: ErpEccSim | undefined
  const hub = usePlantHub(dialect, () => ({
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection()],
    deferStart: true,
  }))
  afterEach(async () => {
    await ecc?.close()
    ecc = undefined
  })

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
      material: MAT,
      batch,
      plant: 'P100',
      quantity: '100',
      unit: 'KG',
      ...extra,
    })
  const receive = async (batch: string) => {
    const r = await soapCall(
      ecc!.url,
      'BAPI_GOODSMVT_CREATE',
      goodsReceiptXml(MAT, batch, '100', 'KG', 'P100'),
    )
    expect(r.status).toBe(200)
    return ecc!.state.inspectionLots.find((l) => l.lot === `${MAT}|P100|${batch}`)!.number
  }
  const erpLot = (batch: string) => ecc!.state.inspectionLots.find((l) => l.lot === `${MAT}|P100|${batch}`)!
  const qmsLots = (batch: string) => [...hub.qms.model.lots.values()].filter((l) => l.batch === batch)
  const docs = (batch: string) => ecc!.state.counts.documentsByLotAndBucket[`${MAT}|P100|${batch}`]
  const stock = (batch: string) => ecc!.state.stock.find((s) => s.key.batch === batch)?.buckets
  const runsOf = (key: string) => hub.store.engine.listRuns(ALL, { key, limit: 10 })
  const allRuns = async () => (await hub.store.engine.listRuns(ALL, { limit: 100 })).length
  const outcomes = (r: AdoptionReport) =>
    Object.fromEntries(r.items.map((i) => [i.subject, `${i.outcome} ${i.kind}`]))

  it('a dry run lists, adopt starts each receipt at its step once, and the QMS finishes them', async () => {
    ecc = await startErpEcc({ port: 0, materials: { [MAT]: { inspectionRelevant: true, baseUnit: 'KG' } } })
    const erp = sapEccSoapConnector.instantiate(
      { baseUrl: ecc.url, egress: { timeoutMs: 2000 } },
      { name: 'ecc-p100', allowlist: [ecc.url], leaseMs: 30_000 },
    )
    await hub.start({ ports: { erp } })

    // What the old integration left in flight at cut-over.
    // EC-U1: its QMS lot names ECC's inspection lot in its reference; undecided.
    const u1 = await receive('EC-U1')
    const u1Lot = await legacyQmsLot('EC-U1', { externalRef: `LEGACY-${u1}` })
    // EC-U2: the QMS never heard of it.
    const u2 = await receive('EC-U2')
    // EC-D1: decided in the QMS (70 used as is, 30 scrapped); ECC has nothing of it.
    await receive('EC-D1')
    const d1Lot = await legacyQmsLot('EC-D1')
    hub.qms.makeUsageDecision(d1Lot.id, {
      decision: 'ACCEPT',
      code: 'A1',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '70' },
        { disposition: 'SCRAP', quantity: '30' },
      ],
    })
    // EC-E1: decided in the QMS, and the old integration recorded the same decision on ECC's lot
    // (QA11 not yet posted: all of it still in QI).
    const e1 = await receive('EC-E1')
    const e1Lot = await legacyQmsLot('EC-E1')
    hub.qms.makeUsageDecision(e1Lot.id, { decision: 'ACCEPT', code: 'A1' })
    await erp.recordUsageDecision({
      idempotencyKey: 'legacy-ud',
      inspectionLot: e1,
      valuation: 'accepted',
      code: 'A1',
      reference: e1Lot.id,
    })
    // EC-X1: 40 moved out of QI by a goods movement not posted on the lot: what was posted is unknown.
    await receive('EC-X1')
    await erp.transferStock({
      idempotencyKey: 'legacy-321',
      lot: { plant: 'P100', material: MAT, lot: 'EC-X1' },
      from: 'qualityInspection',
      to: 'unrestricted',
      quantity: KG(40),
    })
    const nc = await qmsPost('/nonconformances', { title: 'Dented drums', batch: 'EC-N1', severity: 'MINOR' })

    const documentsBefore = ecc.state.materialDocuments.length
    const expected = {
      'EC-U1': 'receipt-inspecting',
      'EC-U2': 'receipt',
      'EC-D1': 'receipt-decided',
      'EC-E1': 'receipt-decided',
      'EC-X1': 'needs-a-person',
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
        { plant: 'P100', erp, qms: hub.ports.qms!, actor: ACTOR, now: new Date(), erpPlant: 'P100' },
        { dryRun, append: httpAppend({ url: `http://127.0.0.1:${hub.port}`, actor: ACTOR }) },
      )

    // Dry run: the plan, nothing stored, nothing started, nothing sent.
    const dry = await adopt(true)
    expect(outcomes(dry)).toEqual(as('would-adopt'))
    const item = (r: AdoptionReport, s: string) => r.items.find((i) => i.subject === s)!
    expect(item(dry, 'EC-U1').detail).toContain(u1Lot.id)
    expect(item(dry, 'EC-U1').eventId).toBe(`receipt-${u1}`)
    expect(item(dry, 'EC-X1').detail).toContain('stock left QI without the lot')
    expect(await hub.store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 10 })).toHaveLength(
      0,
    )
    expect(await allRuns()).toBe(0)
    expect(qmsLots('EC-U2')).toHaveLength(0)
    expect(ecc.state.materialDocuments.length).toBe(documentsBefore)
    expect(erpLot('EC-D1').udCode).toBe('')

    // Adopt.
    const first = await adopt(false)
    expect(first).toMatchObject({ adopted: 5, alreadyAdopted: 0, leftAlone: 1 })
    expect(outcomes(first)).toEqual(as('adopted'))
    for (const key of ['EC-D1', 'EC-E1'])
      await until(async () => (await runsOf(key))[0]?.status === 'completed', 45_000)
    // EC-D1: the QMS's decision recorded on ECC's lot and posted as one goods movement per bucket.
    expect(erpLot('EC-D1')).toMatchObject({ udCode: 'A1', text: d1Lot.id })
    expect(docs('EC-D1')).toEqual({ qi: 1, unrestricted: 1, scrap: 1 })
    expect(stock('EC-D1')).toMatchObject({ qi: 0, unrestricted: 70_000, scrap: 30_000 })
    // EC-E1: ECC's decision is read back (not recorded again); the stock is posted once.
    expect(erpLot('EC-E1')).toMatchObject({ udCode: 'A1', text: e1Lot.id })
    expect(docs('EC-E1')).toEqual({ qi: 1, unrestricted: 1 })
    expect(stock('EC-E1')).toMatchObject({ qi: 0, unrestricted: 100_000 })
    // EC-U1 waits on the QMS lot that existed; EC-U2 got its QMS lot; EC-X1 is left as it was.
    await until(async () => (await runsOf('EC-U1'))[0]?.status === 'waiting')
    await until(async () => qmsLots('EC-U2').length === 1 && (await runsOf('EC-U2'))[0]?.status === 'waiting')
    expect(qmsLots('EC-U1')).toHaveLength(1)
    expect(await runsOf('EC-X1')).toHaveLength(0)
    expect(stock('EC-X1')).toMatchObject({ qi: 60_000, unrestricted: 40_000 })
    const [recorded] = await hub.store.listEvents(ALL, { type: 'qms.nonconformance.opened.v1', limit: 5 })
    expect(recorded!.envelope.data).toMatchObject({ nonconformance: { id: nc.id, lots: ['EC-N1'] } })

    // Adopting again stores and starts nothing (EC-D1 and EC-E1 have nothing left in QI: not listed).
    const runsBefore = await allRuns()
    const again = await adopt(false)
    expect(again).toMatchObject({ adopted: 0, alreadyAdopted: 3, leftAlone: 1 })
    expect(again.items.map((i) => i.subject).sort()).toEqual(['EC-U1', 'EC-U2', 'EC-X1', nc.id].sort())
    expect(await allRuns()).toBe(runsBefore)
    expect(qmsLots('EC-U2')).toHaveLength(1)

    // The QMS decides; its webhooks reach the adopted runs.
    hub.qms.makeUsageDecision(u1Lot.id, { decision: 'ACCEPT', code: 'A1' })
    hub.qms.makeUsageDecision(qmsLots('EC-U2')[0]!.id, {
      decision: 'REJECT',
      code: 'R1',
      dispositions: [{ disposition: 'SCRAP', quantity: '100' }],
    })
    for (const key of ['EC-U1', 'EC-U2'])
      await until(async () => (await runsOf(key))[0]?.status === 'completed', 45_000)
    expect(erpLot('EC-U1').udCode).toBe('A1')
    expect(erpLot('EC-U2').udCode).toBe('R1')
    expect(u2).toBe(erpLot('EC-U2').number)
    expect(docs('EC-U1')).toEqual({ qi: 1, unrestricted: 1 })
    expect(stock('EC-U1')).toMatchObject({ qi: 0, unrestricted: 100_000 })
    expect(docs('EC-U2')).toEqual({ qi: 1, scrap: 1 })
    expect(stock('EC-U2')).toMatchObject({ qi: 0, scrap: 100_000 })
    expect(ecc.state.counts.conservationViolations).toEqual([])
    expect(await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).toHaveLength(0)
  })
})

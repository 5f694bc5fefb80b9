/**
 * The supplier-receipt workflow end to end on a plant whose ERP is SAP ECC over SOAP: the ECC
 * simulator's SOAP face behind erp/sap-ecc-soap, the QMS simulator with its signed webhooks, a
 * real Qualink on each dialect. ECC posts the receipt (and opens its inspection lot); the receipt
 * reaches Qualink through the ingest API as a connector would send it (the ECC simulator has no
 * outbound goods-receipt message). The QMS decision comes back as a usage decision on ECC's lot
 * and one goods movement per bucket, through a commit-then-drop on the first one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpEccSim, startErpEcc } from '../../simulators/erp-ecc/server.ts'
import { goodsReceiptXml, soapCall } from '../../simulators/erp-ecc/soap-test-calls.ts'
import { sapEccSoapConnector } from '../../src/connectors/erp/sap-ecc-soap/connector.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { postEvent } from '../workflows/helpers.ts'
import { type PlantHub, startPlantHub } from '../workflows/plant-hub.ts'

const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const STOCK_KEY = 'RAW-100|1000|B1'

describe.each(DIALECTS)('supplier receipt inspection on an ECC-SOAP plant on %s', (dialect: Dialect) => {
  let ecc: ErpEccSim | undefined
  let hub: PlantHub | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    ecc = await startErpEcc({
      port: 0,
      materials: { 'RAW-100': { inspectionRelevant: true, baseUnit: 'KG' } },
    })
    const erp = sapEccSoapConnector.instantiate(
      { baseUrl: ecc.url, egress: { timeoutMs: 2000 } },
      { name: 'ecc', allowlist: [ecc.url], leaseMs: 30_000 },
    )
    hub = await startPlantHub(dialect, {
      qms: { webhook: true },
      egress: { timeoutMs: 2000 },
      leaseTtlMs: 30_000,
      workflows: [supplierReceiptInspection()],
      ports: () => ({ erp }),
    })
  })
  afterEach(async () => {
    await hub?.close()
    await ecc?.close()
  })

  it('records the QMS decision on ECC’s inspection lot and posts each bucket once through a dropped answer', async () => {
    const { q, qms, store } = hub!
    const gr = await soapCall(ecc!.url, 'BAPI_GOODSMVT_CREATE', goodsReceiptXml('RAW-100', 'B1', '100'))
    const materialDocument = /<MATERIALDOCUMENT>(\d+)</.exec(gr.text)?.[1]
    expect(materialDocument).toBeDefined()
    const [erpLot] = ecc!.state.inspectionLots
    expect(erpLot).toMatchObject({ lot: STOCK_KEY, quantity: 100_000, udCode: '' })
    await postEvent(q, 'erp.goods_receipt.posted.v1', 'B1', {
      materialDocument: { id: materialDocument, year: 2025, item: '1' },
      lot: { id: 'B1', material: 'RAW-100', plant: '1000' },
      supplier: 'V-100',
      purchaseOrder: '4500000017',
      quantity: kg(100),
      bucket: 'qualityInspection',
      inspectionLot: erpLot!.number,
      audit: { timestamp: '2025-03-01T08:00:00Z', sourceSystem: 'ecc', approvalStatus: 'not_required' },
    })
    const find = () => qms.state.inspectionLots.find((l) => l.batch === 'B1')
    await until(() => find() !== undefined)
    const qmsLot = find() as { id: string }
    // ECC commits the first goods movement and its answer is lost: only the read-back can tell.
    ecc!.faults.set({
      dropResponseRate: 1,
      times: 1,
      match: { method: 'POST', path: 'BAPI_GOODSMVT_CREATE' },
    })
    qms.makeUsageDecision(qmsLot.id, {
      decision: 'ACCEPT',
      code: 'A2',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '60' },
        { disposition: 'REWORK', quantity: '30' },
        { disposition: 'SCRAP', quantity: '10' },
      ],
    })
    const run = async () => (await store.engine.listRuns(ALL, { key: 'B1', limit: 5 }))[0]
    await until(async () => (await run())?.status === 'completed', 45_000)

    expect(ecc!.state.faultsInjected.dropResponse).toBe(1)
    expect(ecc!.state.inspectionLots[0]).toMatchObject({ udCode: 'A2', text: qmsLot.id })
    expect(ecc!.state.counts.documentsByLotAndBucket[STOCK_KEY]).toEqual({
      qi: 1,
      unrestricted: 1,
      blocked: 1,
      scrap: 1,
    })
    expect(ecc!.state.stock[0]!.buckets).toMatchObject({
      qi: 0,
      unrestricted: 60_000,
      blocked: 30_000,
      scrap: 10_000,
    })
    expect(ecc!.state.counts.conservationViolations).toEqual([])
    const result = (await run())!.result as { erpInspectionLot: string; documents?: string[] }
    expect(result.erpInspectionLot).toBe(erpLot!.number)
  })
})

/**
 * erp/sap-ecc-soap's adoption reads (`qualink adopt`, connectors/erp/sap-ecc-soap/adoption.ts)
 * against the ECC simulator's SOAP face: BAPI_INSPLOT_GETLIST of the plant, GETDETAIL per lot,
 * the batch's QI stock. Receipts are posted through BAPI_GOODSMVT_CREATE as MIGO would.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpEccSim, startErpEcc } from '../../simulators/erp-ecc/server.ts'
import { goodsReceiptXml, soapCall } from '../../simulators/erp-ecc/soap-test-calls.ts'
import { sapEccSoapConnector } from '../../src/connectors/erp/sap-ecc-soap/connector.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import { hasAdoptionErp, type OpenErpInspectionLot } from '../../src/workflows/ports/adoption.ts'

const KG = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
let ecc: ErpEccSim

beforeEach(async () => {
  ecc = await startErpEcc({
    port: 0,
    materials: {
      'RAW-100': { inspectionRelevant: true, baseUnit: 'KG' },
      'PACK-1': { inspectionRelevant: false, baseUnit: 'KG' },
    },
  })
})
afterEach(async () => {
  await ecc.close()
})

const connector = () =>
  sapEccSoapConnector.instantiate(
    { baseUrl: ecc.url, egress: { timeoutMs: 2000 } },
    { name: 'ecc', allowlist: [ecc.url], leaseMs: 30_000 },
  )
const receive = async (batch: string, qty: string, plant = 'P100', material = 'RAW-100') => {
  const r = await soapCall(
    ecc.url,
    'BAPI_GOODSMVT_CREATE',
    goodsReceiptXml(material, batch, qty, 'KG', plant),
  )
  expect(r.status).toBe(200)
  const doc = /<MATERIALDOCUMENT>(\d+)</.exec(r.text)?.[1]
  expect(doc).toBeDefined()
  return doc!
}
const lotOf = (batch: string) => ecc.state.inspectionLots.find((l) => l.lot.endsWith(`|${batch}`))!

describe('erp/sap-ecc-soap adoption reads', () => {
  it('lists the plant’s goods-receipt lots with stock left in QI, mapped from GETLIST and GETDETAIL', async () => {
    const erp = connector()
    expect(hasAdoptionErp(erp)).toBe(true)
    const u1 = await receive('A-U1', '100')
    await receive('A-D1', '80')
    await receive('A-X1', '100')
    await receive('A-O1', '50', '2000') // another ERP plant
    await receive('A-N1', '10', 'P100', 'PACK-1') // no inspection lot: not QM-active
    await receive('A-F1', '20') // fully released by Qualink below: nothing left
    const lotRef = (batch: string) => ({ plant: 'P100', material: 'RAW-100', lot: batch })
    // A-D1: decided in ECC, nothing posted yet.
    await erp.recordUsageDecision({
      idempotencyKey: 'legacy-ud',
      inspectionLot: lotOf('A-D1').number,
      valuation: 'accepted',
      code: 'A1',
      reference: 'QMS-LEGACY-9',
    })
    // A-X1: 40 moved out of QI by a goods movement not posted on the lot.
    await erp.transferStock({
      idempotencyKey: 'legacy-321',
      lot: lotRef('A-X1'),
      from: 'qualityInspection',
      to: 'unrestricted',
      quantity: KG(40),
    })
    await erp.postStockDisposition({
      idempotencyKey: 'f1',
      inspectionLot: lotOf('A-F1').number,
      lot: lotRef('A-F1'),
      lines: [{ bucket: 'release', quantity: KG(20) }],
    })
    const requests = ecc.state.http.requests

    const lots = await erp.listOpenInspectionLots({ plant: 'P100' })
    expect(ecc.state.http.requests).toBeGreaterThan(requests)
    expect(lots.map((l) => l.lot)).toEqual(['A-U1', 'A-D1', 'A-X1'])
    const [a, d, x] = lots as [OpenErpInspectionLot, OpenErpInspectionLot, OpenErpInspectionLot]
    expect(a).toEqual({
      inspectionLot: lotOf('A-U1').number,
      plant: 'P100',
      material: 'RAW-100',
      lot: 'A-U1',
      materialDocument: { id: u1, year: expect.any(Number), item: '0001' },
      quantity: KG(100),
      toBePosted: KG(100),
      decidedInErp: false,
    })
    expect(d).toMatchObject({ decidedInErp: true, text: 'QMS-LEGACY-9', toBePosted: KG(80) })
    expect(d.unsettled).toBeUndefined()
    expect(x).toMatchObject({ toBePosted: KG(60), decidedInErp: false })
    expect(x.unsettled).toContain('only 60.000 KG in QI: stock left QI without the lot')
    // all plants: the other plant's receipt too
    const all = await erp.listOpenInspectionLots()
    expect(all.map((l) => l.lot)).toEqual(['A-U1', 'A-D1', 'A-X1', 'A-O1'])
    expect(await erp.listHeldProductionOrders({ plant: 'P100' })).toEqual([])
  })

  it('refuses with QLK_CONFIG_INVALID naming BAPI_INSPLOT_GETLIST when the ECC service lacks it', async () => {
    await ecc.close()
    ecc = await startErpEcc({
      port: 0,
      materials: { 'RAW-100': { inspectionRelevant: true, baseUnit: 'KG' } },
      soap: {
        operations: [
          'BAPI_INSPLOT_GETDETAIL',
          'BAPI_INSPLOT_SETUSAGEDECISION',
          'BAPI_GOODSMVT_CREATE',
          'BAPI_GOODSMVT_GETITEMS',
          'Z_BATCH_STOCK_READ',
        ],
      },
    })
    const err = await connector()
      .listOpenInspectionLots({ plant: 'P100' })
      .catch((e: unknown) => e)
    expect(err instanceof PermanentError && err.code).toBe('QLK_CONFIG_INVALID')
    expect((err as Error).message).toContain('operation BAPI_INSPLOT_GETLIST')
  })
})

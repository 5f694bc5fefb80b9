/**
 * Plant identity (issue 6): an ERP numbers its plants its own way (S/4 `1000`), Qualink calls the
 * plant P100. The S/4 goods-receipt translator (webhook and polled feed: the same JSON) makes
 * `lot.plant` the Qualink plant and refuses a receipt of another plant; egress ports send the ERP's
 * code again, after the plant router picked the port by the Qualink plant.
 */
import { describe, expect, it } from 'vitest'
import { sapS4GoodsReceiptTranslator } from '../../src/connectors/erp/sap-s4/gr-translator.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { type IdMappingSettings, inboundIds, outboundIds } from '../../src/mapping/id-mapping.ts'
import { memoryXrefResolver, type XrefRow } from '../../src/mapping/xref.ts'
import type { StoredRawDelivery } from '../../src/store/types.ts'
import { erpByPlant, qmsByPlant } from '../../src/workflows/ports/by-plant.ts'
import type { ErpPort } from '../../src/workflows/ports/erp.ts'
import { mappedErpPort, mappedQmsPort } from '../../src/workflows/ports/mapped.ts'
import type { QmsPort } from '../../src/workflows/ports/qms.ts'

const declared = (unknown: 'reject' | 'pass' = 'reject'): IdMappingSettings => ({
  system: 'sap-p100',
  entities: ['plant'],
  unknown,
  plants: { '1000': 'P100', '2000': 'P200' },
})
const inXref = (unknown: 'reject' | 'pass' = 'reject'): IdMappingSettings => ({
  system: 'sap-p100',
  entities: ['plant', 'material'],
  unknown,
})
const row = (externalCode: string, enterpriseId: string, entityType = 'plant'): XrefRow => ({
  system: 'sap-p100',
  entityType,
  externalCode,
  plant: 'P100',
  enterpriseId,
})
const xref = memoryXrefResolver([
  row('1000', 'P100'),
  row('3000', 'P300'),
  row('RAW-100', 'M-100', 'material'),
])

/** A receipt as the GoodsReceiptPosted webhook carries it, or as the feed hands it on. */
const receipt = (plant: string | undefined, more: Record<string, unknown> = {}) => ({
  EventID: 'e-1',
  MaterialDocumentYear: '2026',
  MaterialDocument: '4900000001',
  MaterialDocumentItem: '1',
  GoodsMovementType: '101',
  Material: 'RAW-100',
  ...(plant === undefined ? {} : { Plant: plant }),
  Batch: 'B1',
  Supplier: 'SUP-7',
  QuantityInEntryUnit: '10',
  EntryUnit: 'KG',
  InventoryStockType: '02',
  InspectionLot: '010000000001',
  PostingDate: '2026-11-27T08:00:00Z',
  ...more,
})
const raw = (body: unknown, plant = 'P100'): StoredRawDelivery =>
  ({
    seq: 1,
    source: 'erp-p100',
    deliveryId: 'e-1',
    plant,
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
    receivedAtMs: 0,
  }) as unknown as StoredRawDelivery

async function translate(body: unknown, ids?: IdMappingSettings, plant = 'P100') {
  const [e] = await sapS4GoodsReceiptTranslator('erp-p100', ids).translate(raw(body, plant), xref)
  return { plant: e!.plant, lot: (e!.data as { lot: unknown }).lot, type: e!.type }
}

async function refusal(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  return isQualinkError(e) ? { code: e.code, path: e.errors[0]?.path, message: e.errors[0]?.message } : e
}

describe('S/4 goods receipt: the plant is the Qualink plant', () => {
  it('maps the ERP plant through the declared plants (webhook, feed entry and reversal alike)', async () => {
    expect(await translate(receipt('1000'), declared())).toEqual({
      plant: 'P100',
      lot: { id: 'B1', material: 'RAW-100', plant: 'P100' },
      type: 'erp.goods_receipt.posted.v1',
    })
    // a feed entry: eventType set by the feed, PostingDate as epoch ms (gr-feed.ts)
    const feed = receipt('1000', { eventType: 'GoodsReceiptPosted', PostingDate: Date.UTC(2026, 10, 27) })
    expect((await translate(feed, declared())).lot).toEqual({ id: 'B1', material: 'RAW-100', plant: 'P100' })
    const reversal = receipt('1000', {
      GoodsMovementType: '102',
      ReversedMaterialDocument: '4900000000',
      InventoryStockType: '02',
    })
    expect(await translate(reversal, declared())).toMatchObject({
      plant: 'P100',
      lot: { plant: 'P100' },
      type: 'erp.goods_receipt.reversed.v1',
    })
  })

  it('maps the ERP plant through xref rows (entity plant) when no plants are declared', async () => {
    expect((await translate(receipt('1000'), inXref())).lot).toEqual({
      id: 'B1',
      material: 'M-100',
      plant: 'P100',
    })
  })

  it('identity without a mapping when the codes are equal; refused naming /Plant when they differ', async () => {
    expect((await translate(receipt('P100'))).lot).toEqual({ id: 'B1', material: 'RAW-100', plant: 'P100' })
    expect(await refusal(translate(receipt('1000')))).toEqual({
      code: 'QLK_PLANT_MISMATCH',
      path: '/Plant',
      message:
        "plant '1000' is not plant P100, the plant of source erp-p100, and no plant mapping gives it (plants.P100.idMapping.erp-p100: entities [plant], plants); nothing was stored",
    })
    // a mapping of other kinds only leaves the plant as it is: still refused
    expect(await refusal(translate(receipt('1000'), { ...inXref(), entities: ['material'] }))).toMatchObject({
      code: 'QLK_PLANT_MISMATCH',
      path: '/Plant',
    })
  })

  it('refuses a receipt whose ERP plant maps to another Qualink plant (declared or xref), and one with no plant', async () => {
    expect(await refusal(translate(receipt('2000'), declared()))).toEqual({
      code: 'QLK_PLANT_MISMATCH',
      path: '/Plant',
      message:
        "plant '2000' maps to plant P200, not to P100, the plant of source erp-p100; nothing was stored",
    })
    expect(await refusal(translate(receipt('3000'), inXref()))).toMatchObject({
      code: 'QLK_PLANT_MISMATCH',
      message: expect.stringContaining("plant '3000' maps to plant P300"),
    })
    // the same receipt delivered through a source of plant P200 is that plant's
    expect((await translate(receipt('2000'), declared(), 'P200')).plant).toBe('P200')
    expect(await refusal(translate(receipt(undefined), declared()))).toMatchObject({
      code: 'QLK_VALIDATION',
      path: '/Plant',
    })
  })

  it('an unmapped code parks (reject: resumes when the mapping is added) or passes and is then refused', async () => {
    expect(await refusal(translate(receipt('9000'), declared('reject')))).toMatchObject({
      code: 'QLK_XREF_MISSING',
      path: '/Plant',
    })
    expect(await refusal(translate(receipt('9000'), declared('pass')))).toMatchObject({
      code: 'QLK_PLANT_MISMATCH',
      path: '/Plant',
    })
    // pass keeps an unmapped code that already is the source's plant
    expect((await translate(receipt('P100'), declared('pass'))).plant).toBe('P100')
  })

  it('the mapping functions: declared plants first, then xref, both ways', async () => {
    const both: IdMappingSettings = { ...inXref(), plants: { '1000': 'P100' } }
    expect(await inboundIds(xref, both, 'P100')('plant', '3000', '/Plant')).toBe('P300')
    expect(await outboundIds({}, declared(), 'P100')('plant', 'P200', '/lot/plant')).toBe('2000')
    expect(await outboundIds({ current: xref }, inXref(), 'P100')('plant', 'P100', '/lot/plant')).toBe('1000')
    expect(
      await refusal(outboundIds({ current: xref }, inXref(), 'P100')('plant', 'P900', '/lot/plant')),
    ).toMatchObject({ code: 'QLK_XREF_MISSING', path: '/lot/plant' })
  })
})

/** An ERP / QMS port that records what it was sent (the mapping is what is under test). */
function recordingErp(sent: unknown[]): ErpPort {
  const ok = async (input: unknown) => {
    sent.push(input)
    return { changed: true, documents: ['5000000001'], alreadyDone: false }
  }
  return {
    recordUsageDecision: ok,
    postStockDisposition: ok,
    transferStock: ok,
    setProductionOrderHold: ok,
    setDeliveryBlock: ok,
    changeUsageDecision: ok,
    readLotStock: async (lot) => {
      sent.push(lot)
      return { lot, quantities: {} }
    },
    readInspectionLotRemainder: async (id, opts) => {
      sent.push({ id, ...opts })
      return null
    },
  }
}

describe('egress: the ERP and QMS get their own plant code, after routing by the Qualink plant', () => {
  it('ERP: lot.plant of postings, transfers, stock reads and decision changes; results keep P100', async () => {
    const sent: unknown[] = []
    const erp = erpByPlant({ P100: mappedErpPort(recordingErp(sent), {}, declared(), 'P100') })
    const lot = { plant: 'P100', material: 'RAW-100', lot: 'B1' }
    const kg = { units: 1000, scale: 3, uom: 'KG' }
    await erp.postStockDisposition({
      idempotencyKey: 'k',
      inspectionLot: '010000000001',
      lot,
      lines: [{ bucket: 'release', quantity: kg }],
    })
    await erp.transferStock({ idempotencyKey: 'k', lot, from: 'unrestricted', to: 'blocked', quantity: kg })
    const reading = await erp.readLotStock(lot)
    await erp.changeUsageDecision({ idempotencyKey: 'k', lot } as never)
    await erp.readInspectionLotRemainder!('010000000001', { plant: 'P100' })
    expect(
      sent.map((s) => (s as { lot?: { plant: string } }).lot?.plant ?? (s as { plant?: string }).plant),
    ).toEqual(['1000', '1000', '1000', '1000', '1000'])
    expect(reading.lot.plant).toBe('P100')
    // routing is by the Qualink plant: the ERP's code is no plant of this Qualink
    expect(await refusal(erp.readLotStock({ ...lot, plant: '1000' }))).toBeInstanceOf(Error)
  })

  it('QMS: the plant of an inspection lot, a nonconformance and a CAPA; the created lot comes back in P100', async () => {
    const sent: Record<string, unknown>[] = []
    const record = {
      id: 'IL-1',
      plant: 'QP-1',
      material: 'RAW-100',
      lot: 'B1',
      sampleSize: 2,
      status: 'created',
    }
    const port = {
      createInspectionLot: async (input: Record<string, unknown>) => {
        sent.push(input)
        return { record, created: true }
      },
      openNonconformance: async (input: Record<string, unknown>) => {
        sent.push(input)
        return { record: {}, created: true }
      },
      openCorrectiveAction: async (input: Record<string, unknown>) => {
        sent.push(input)
        return { record: {}, created: true }
      },
    } as unknown as QmsPort
    const qms = qmsByPlant({
      P100: mappedQmsPort(
        port,
        {},
        { system: 'qms', entities: ['plant'], unknown: 'reject', plants: { 'QP-1': 'P100' } },
        'P100',
      ),
    })
    const kg = { units: 1000, scale: 3, uom: 'KG' }
    const created = await qms.createInspectionLot({
      idempotencyKey: 'k',
      plant: 'P100',
      material: 'RAW-100',
      lot: 'B1',
      quantity: kg,
    })
    await qms.openNonconformance({ idempotencyKey: 'k', plant: 'P100', title: 't', severity: 'major' })
    await qms.openCorrectiveAction({ idempotencyKey: 'k', plant: 'P100', title: 't' } as never)
    expect(sent.map((s) => s.plant)).toEqual(['QP-1', 'QP-1', 'QP-1'])
    expect(created.record.plant).toBe('P100')
  })
})

/**
 * The ERPNext Purchase Receipt translator alone (connectors/erp/erpnext/receipt-translator.ts):
 * a submitted receipt becomes one `erp.goods_receipt.posted.v1` per row in the bucket of its
 * warehouse; bad input is refused with a stable code naming the field, and nothing is produced;
 * with plants mapped, a receipt of another company than the source's plant is QLK_PLANT_MISMATCH.
 */
import { describe, expect, it } from 'vitest'
import { erpNextReceiptTranslator } from '../../src/connectors/erp/erpnext/receipt-translator.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import type { IdMappingSettings } from '../../src/mapping/id-mapping.ts'
import { memoryXrefResolver } from '../../src/mapping/xref.ts'
import type { StoredRawDelivery } from '../../src/store/types.ts'

const WAREHOUSES = { unrestricted: 'Stores - P200', qualityInspection: 'Quality Inspection - P200' }
const xref = memoryXrefResolver([])

const raw = (body: unknown): StoredRawDelivery =>
  ({
    seq: 1,
    source: 'erp-p200',
    deliveryId: 'd1',
    plant: 'P200',
    headers: {},
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    receivedAtMs: 0,
  }) as unknown as StoredRawDelivery

const receipt = (over: Record<string, unknown> = {}, row: Record<string, unknown> = {}) => ({
  doctype: 'Purchase Receipt',
  name: 'MAT-PRE-2025-00001',
  docstatus: 1,
  company: 'Plant B GmbH',
  supplier: 'SUP-9',
  posting_date: '2025-03-01',
  posting_time: '08:00:00',
  items: [
    {
      idx: 1,
      item_code: 'RAW-200',
      batch_no: 'B200',
      qty: 50,
      stock_uom: 'Kg',
      warehouse: 'Quality Inspection - P200',
      ...row,
    },
  ],
  ...over,
})

const translate = (body: unknown, ids?: IdMappingSettings) =>
  erpNextReceiptTranslator('erp-p200', { warehouses: WAREHOUSES, ids }).translate(raw(body), xref)

/** The refusal's code and the path it names (throws when the translation did not fail). */
async function refusal(p: Promise<unknown>): Promise<[string, string | undefined]> {
  const e = await p.then(
    () => {
      throw new Error('expected a refusal')
    },
    (err: unknown) => err,
  )
  if (!isQualinkError(e)) throw e
  return [e.code, e.errors[0]?.path]
}

describe('ERPNext Purchase Receipt translator', () => {
  it('translates a submitted row into a goods receipt in the bucket of its warehouse', async () => {
    const [event] = await translate(receipt())
    expect(event).toMatchObject({
      id: 'MAT-PRE-2025-00001-1',
      type: 'erp.goods_receipt.posted.v1',
      plant: 'P200',
      subject: 'B200',
      time: '2025-03-01T08:00:00.000Z',
      data: {
        materialDocument: { id: 'MAT-PRE-2025-00001', year: 2025, item: '1' },
        lot: { id: 'B200', material: 'RAW-200', plant: 'P200' },
        supplier: 'SUP-9',
        quantity: { units: 50_000, scale: 3, uom: 'KG' },
        bucket: 'qualityInspection',
      },
    })
  })

  it.each([
    ['another doctype', receipt({ doctype: 'Delivery Note' }), '/doctype'],
    ['no receipt number', receipt({ name: '' }), '/name'],
    ['a posting date not YYYY-MM-DD', receipt({ posting_date: '01.03.2025' }), '/posting_date'],
    ['no rows', receipt({ items: [] }), '/items'],
    ['a row without item', receipt({}, { item_code: '' }), '/items/0/item_code'],
    ['a row without batch', receipt({}, { batch_no: undefined }), '/items/0/batch_no'],
    [
      'a warehouse the connector does not name',
      receipt({}, { warehouse: 'Stores - P100' }),
      '/items/0/warehouse',
    ],
    ['a quantity that is no number', receipt({}, { qty: 'fifty' }), '/items/0/qty'],
  ])('refuses %s with QLK_VALIDATION naming the field', async (_what, body, path) => {
    expect(await refusal(translate(body))).toEqual(['QLK_VALIDATION', path])
  })

  it('refuses a body that is no JSON with a QLK_ code', async () => {
    const [code] = await refusal(translate('{not json'))
    expect(code).toMatch(/^QLK_/)
  })

  it('produces nothing for a draft: it is nobody’s stock yet', async () => {
    expect(await translate(receipt({ docstatus: 0 }))).toEqual([])
  })

  it('with plants mapped, maps the company to the plant and refuses another company as QLK_PLANT_MISMATCH', async () => {
    const ids: IdMappingSettings = {
      system: 'erp-p200',
      entities: ['plant'],
      unknown: 'pass',
      plants: { 'Plant B GmbH': 'P200', 'Plant A AG': 'P100' },
    }
    expect(await translate(receipt(), ids)).toHaveLength(1)
    expect(await refusal(translate(receipt({ company: 'Plant A AG' }), ids))).toEqual([
      'QLK_PLANT_MISMATCH',
      '/company',
    ])
    expect(await refusal(translate(receipt({ company: 'Elsewhere Ltd' }), ids))).toEqual([
      'QLK_PLANT_MISMATCH',
      '/company',
    ])
    expect(await refusal(translate(receipt({ company: undefined }), ids))).toEqual([
      'QLK_VALIDATION',
      '/company',
    ])
  })
})

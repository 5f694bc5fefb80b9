/**
 * `plants.<code>.idMapping` in qualink.yaml: names a connector of the plant or one of its ingress
 * sources (else QLK_CONFIG_INVALID at the field), and buildRuntime hands each source's translator
 * and each plant's ports the same settings (src/mapping/id-mapping.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { memoryXrefResolver } from '../../src/mapping/xref.ts'
import type { StoredRawDelivery } from '../../src/store/types.ts'
import { baseDoc, type Doc, problemsOf, TempDir } from './fixture.ts'

const ENV = { ERP_SECRET: 's', ERPNEXT_KEY: 'k', ERPNEXT_SECRET: 's' }
let tmp: TempDir
beforeEach(() => {
  tmp = new TempDir()
})
afterEach(() => tmp.remove())

const withMapping = (idMapping: Record<string, unknown>, plant = 'P100'): Doc => {
  const doc = baseDoc()
  const plants = doc.plants as Record<string, Record<string, unknown>>
  plants[plant] = { ...plants[plant], idMapping }
  return doc
}

const rawGoodsReceipt = (material: string, plant = '1000'): StoredRawDelivery =>
  ({
    seq: 1,
    source: 'erp-p100',
    deliveryId: 'd-1',
    plant: 'P100',
    headers: {},
    body: Buffer.from(
      JSON.stringify({
        EventID: 'e-1',
        MaterialDocumentYear: '2025',
        MaterialDocument: '4900000001',
        MaterialDocumentItem: '1',
        GoodsMovementType: '101',
        Material: material,
        Plant: plant,
        Batch: 'B1',
        Supplier: 'SUP-7',
        QuantityInEntryUnit: '10',
        EntryUnit: 'KG',
        InventoryStockType: '02',
        PostingDate: '2025-03-01T08:00:00Z',
      }),
    ),
    receivedAtMs: 0,
  }) as unknown as StoredRawDelivery

describe('qualink.yaml idMapping', () => {
  it('refuses a name that is neither a connector of the plant nor its source, and a bad entity', () => {
    const problems = problemsOf(
      tmp,
      withMapping({
        'erpnext-p200': { entities: ['material'], unknown: 'reject' },
        'sap-p100': { entities: ['colour'], unknown: 'reject' },
      }),
    )
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['/plants/P100/idMapping/sap-p100/entities/0']),
    )
    const semantic = problemsOf(
      tmp,
      withMapping({ 'erpnext-p200': { entities: ['material'], unknown: 'reject' } }),
    )
    expect(semantic).toContainEqual({
      path: '/plants/P100/idMapping/erpnext-p200',
      message:
        "'erpnext-p200' is neither a connector of plant P100 (erp, qms, notify) nor one of its ingress sources",
    })
    const otherPlant = problemsOf(tmp, withMapping({ 'lims-p200': { entities: ['lot'], unknown: 'pass' } }))
    expect(otherPlant).toContainEqual({
      path: '/plants/P100/idMapping/lims-p200',
      message: "ingress source 'lims-p200' belongs to plant 'P200'",
    })
  })

  it("gives the source's translator the plant's settings: mapped, passed through, or parked", async () => {
    const xref = memoryXrefResolver([
      { plant: 'P100', system: 'sap', entityType: 'material', externalCode: 'RAW-100', enterpriseId: 'M-1' },
    ])
    const translate = async (unknown: 'reject' | 'pass', material: string) => {
      const file = tmp.write(
        'qualink.yaml',
        withMapping({
          'erp-p100': { entities: ['material', 'plant'], unknown, system: 'sap', plants: { '1000': 'P100' } },
        }),
      )
      const rt = buildRuntime(loadConfig(file, {}), ENV)
      const t = rt.options.translators!.find((x) => x.source === 'erp-p100')!
      return t.translate(rawGoodsReceipt(material), xref)
    }
    expect((await translate('reject', 'RAW-100'))[0]!.data).toMatchObject({
      lot: { id: 'B1', material: 'M-1', plant: 'P100' }, // the ERP's plant 1000 is P100 by the declared plants
      supplier: 'SUP-7', // supplier is not in `entities`: passed as is
    })
    expect((await translate('pass', 'RAW-999'))[0]!.data).toMatchObject({ lot: { material: 'RAW-999' } })
    const parked = await translate('reject', 'RAW-999').catch((e: unknown) => e)
    expect(isQualinkError(parked) && parked.code).toBe('QLK_XREF_MISSING')
    expect(isQualinkError(parked) && parked.errors[0]!.path).toBe('/Material')
  })

  it("maps the plant's egress calls through the bound identity map before anything is sent", async () => {
    const file = tmp.write(
      'qualink.yaml',
      withMapping({ 'qms-cloud': { entities: ['material'], unknown: 'reject' } }),
    )
    const rt = buildRuntime(loadConfig(file, {}), ENV)
    rt.options.xref!.current = memoryXrefResolver([])
    const refused = await rt.ports.qms
      .createInspectionLot({
        idempotencyKey: 'k',
        plant: 'P100',
        material: 'M-1',
        lot: 'B1',
        quantity: { units: 1000, scale: 3, uom: 'KG' },
      })
      .catch((e: unknown) => e)
    // refused locally: the QMS at qms.example is never reached (it does not exist)
    expect(isQualinkError(refused) && [refused.code, refused.errors[0]!.path]).toEqual([
      'QLK_XREF_MISSING',
      '/material',
    ])
  })

  it('checks a declared plant mapping: the kind is mapped, each code names a plant, one code per plant', () => {
    const problems = problemsOf(
      tmp,
      withMapping({
        'sap-p100': { entities: ['material'], unknown: 'reject', plants: { '1000': 'P100', '1001': 'P100' } },
        'erp-p100': { entities: ['plant'], unknown: 'reject', plants: { '1000': 'P999' } },
      }),
    )
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          path: '/plants/P100/idMapping/sap-p100/entities',
          message: "must include 'plant' when plants are declared",
        },
        {
          path: '/plants/P100/idMapping/sap-p100/plants/1001',
          message: "plant 'P100' already has code '1000': one code per plant",
        },
        {
          path: '/plants/P100/idMapping/erp-p100/plants/1000',
          message: "names plant 'P999', which plants does not define (defined: P100, P200)",
        },
      ]),
    )
    expect(problems).toHaveLength(3)
    // a plant code that is not a plant code (PLANT_PATTERN) is refused by the schema at its path
    const schema = problemsOf(
      tmp,
      withMapping({ 'sap-p100': { entities: ['plant'], unknown: 'reject', plants: { '1000': 'p 1' } } }),
    )
    expect(schema.map((p) => p.path)).toContain('/plants/P100/idMapping/sap-p100/plants/1000')
  })

  it('a goods receipt of the ERP plant mapped to another plant, or of an unmapped code, is refused naming /Plant', async () => {
    const file = tmp.write(
      'qualink.yaml',
      withMapping({
        'erp-p100': { entities: ['plant'], unknown: 'pass', plants: { '1000': 'P100', '2000': 'P200' } },
      }),
    )
    const rt = buildRuntime(loadConfig(file, {}), ENV)
    const t = rt.options.translators!.find((x) => x.source === 'erp-p100')!
    const refusal = async (plant: string) => {
      const e = await t
        .translate(rawGoodsReceipt('RAW-100', plant), memoryXrefResolver([]))
        .catch((x: unknown) => x)
      return isQualinkError(e) ? [e.code, e.errors[0]!.path, e.errors[0]!.message] : e
    }
    expect(await refusal('2000')).toEqual([
      'QLK_PLANT_MISMATCH',
      '/Plant',
      "plant '2000' maps to plant P200, not to P100, the plant of source erp-p100; nothing was stored",
    ])
    expect((await refusal('3000')) as string[]).toEqual([
      'QLK_PLANT_MISMATCH',
      '/Plant',
      expect.stringContaining("plant '3000' is not plant P100"),
    ])
  })
})

/**
 * The adoption reads through a plant's identity mapping: ERP and QMS codes come back as enterprise
 * ids, a QMS query goes out with the QMS's codes, and a code without a mapping (`unknown: reject`)
 * marks the document for a person instead of passing the foreign code on; `unknown: pass` takes
 * the code unchanged, as ingress does. The plan over such reads is in src/adoption/adopt.test.ts;
 * end to end: test/workflows/adoption-mapped.test.ts.
 */
import { describe, expect, it } from 'vitest'
import type { IdMappingSettings } from '../../mapping/id-mapping.ts'
import { memoryXrefResolver } from '../../mapping/xref.ts'
import { quantity } from '../../model/quantity.ts'
import type { AdoptionErpPort, AdoptionQmsPort, QmsLotWithReference } from './adoption.ts'
import { mappedAdoptionErpPort, mappedAdoptionQmsPort } from './mapped-adoption.ts'

const KG = (n: number) => quantity(n, 3, 'KG')
const ERP: IdMappingSettings = {
  system: 'sap-p100',
  entities: ['material', 'supplier', 'lot'],
  unknown: 'reject',
}
const QMS: IdMappingSettings = {
  system: 'qms-cloud',
  entities: ['material', 'lot', 'plant'],
  unknown: 'reject',
  plants: { Q1: 'P100' },
}
const xref = memoryXrefResolver(
  (
    [
      ['sap-p100', 'material', 'RAW-100', 'MAT-100'],
      ['sap-p100', 'supplier', 'SUP-7', 'SUPP-7'],
      ['sap-p100', 'lot', 'B1', 'LOT-1'],
      ['sap-p100', 'lot', 'FG1', 'LOT-FG1'],
      ['qms-cloud', 'material', 'Q-100', 'MAT-100'],
      ['qms-cloud', 'lot', 'QB1', 'LOT-1'],
    ] as const
  ).map(([system, entityType, externalCode, enterpriseId]) => ({
    system,
    entityType,
    externalCode,
    enterpriseId,
    plant: 'P100',
  })),
)

const erpLot = (material: string, lot: string) => ({
  inspectionLot: `0100${lot}`,
  plant: '1000',
  material,
  lot,
  supplier: 'SUP-7',
  materialDocument: { id: '5000000001' },
  quantity: KG(10),
  toBePosted: KG(10),
  decidedInErp: false,
})
const erp: AdoptionErpPort = {
  listOpenInspectionLots: async () => [erpLot('RAW-100', 'B1'), erpLot('RAW-999', 'B1')],
  listHeldProductionOrders: async () => [
    { order: 'PO-1', plant: '1000', material: 'RAW-100', lot: 'FG1', reason: 'QM' },
    { order: 'PO-2', plant: '1000', material: 'RAW-100', lot: 'FG2', reason: 'QM' },
  ],
}

const asked: unknown[] = []
const qLot: QmsLotWithReference = {
  id: 'QL-1',
  plant: 'Q1',
  material: 'Q-100',
  lot: 'QB1',
  quantity: KG(10),
  sampleSize: 2,
  status: 'released',
  externalRef: '',
}
const qms: AdoptionQmsPort = {
  findInspectionLots: async (q) => {
    asked.push(q)
    return q.lot === 'QB1' ? [qLot] : []
  },
  getInspectionLot: async (id) => (id === 'QL-1' ? qLot : null),
  listOpenNonconformances: async () => [
    { id: 'NC-1', title: 'a', severity: 'major', status: 'open', lot: 'QB1' },
    { id: 'NC-2', title: 'b', severity: 'major', status: 'open', lot: 'QB9' },
    { id: 'NC-3', title: 'c', severity: 'minor', status: 'open' },
  ],
}

describe('adoption reads through the identity mapping', () => {
  it('gives the ERP’s lots and held orders with enterprise ids; an unmapped code is unsettled, not passed', async () => {
    const port = mappedAdoptionErpPort(erp, xref, ERP, 'P100')
    const [mapped, unmapped] = await port.listOpenInspectionLots()
    expect(mapped).toMatchObject({ material: 'MAT-100', lot: 'LOT-1', supplier: 'SUPP-7', plant: '1000' })
    expect(mapped!.unsettled).toBeUndefined()
    expect(unmapped).toMatchObject({ material: 'RAW-999', lot: 'B1' })
    expect(unmapped!.unsettled).toContain("material 'RAW-999' from sap-p100 in plant P100 has no mapping")
    const [po1, po2] = await port.listHeldProductionOrders()
    expect(po1).toMatchObject({ material: 'MAT-100', lot: 'LOT-FG1' })
    expect(po1!.unsettled).toBeUndefined()
    expect(po2!.unsettled).toContain("lot 'FG2'")
  })

  it('asks the QMS in its codes and answers in enterprise ids and the Qualink plant', async () => {
    const port = mappedAdoptionQmsPort(qms, xref, QMS, 'P100')
    asked.length = 0
    const found = await port.findInspectionLots({ lot: 'LOT-1', material: 'MAT-100' })
    expect(asked).toEqual([{ lot: 'QB1', material: 'Q-100' }])
    expect(found).toEqual([{ ...qLot, plant: 'P100', material: 'MAT-100', lot: 'LOT-1' }])
    expect(await port.getInspectionLot('QL-1')).toMatchObject({ plant: 'P100', lot: 'LOT-1' })
    // an enterprise id the QMS has no code for: refused before anything is asked
    const err = await port.findInspectionLots({ lot: 'LOT-FG1' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'QLK_XREF_MISSING' })
    expect(asked).toHaveLength(1)
    const ncs = await port.listOpenNonconformances()
    expect(ncs.map((n) => [n.id, n.lot, n.unsettled === undefined])).toEqual([
      ['NC-1', 'LOT-1', true],
      ['NC-2', 'QB9', false],
      ['NC-3', undefined, true],
    ])
  })

  it('takes an unmapped code unchanged under unknown: pass, as ingress does', async () => {
    const port = mappedAdoptionErpPort(erp, xref, { ...ERP, unknown: 'pass' }, 'P100')
    const lots = await port.listOpenInspectionLots()
    expect(lots.map((l) => [l.material, l.unsettled])).toEqual([
      ['MAT-100', undefined],
      ['RAW-999', undefined],
    ])
  })
})

import { describe, expect, it } from 'vitest'
import type { ResultRecord } from './inspection.ts'
import { escapeXml, lotToB2mml, lotToB2mmlJson, lotToB2mmlXml } from './isa95.ts'
import type { Lot } from './lot.ts'
import { emptyStock } from './stock.ts'

const audit = {
  timestamp: '2025-03-04T10:00:00Z',
  sourceSystem: 'qms-p100',
  approvalStatus: 'approved' as const,
}
const stock = { ...emptyStock('KG', 3), received: 50000 }
const lot: Lot = {
  id: 'B-778',
  plant: 'P100',
  material: 'M-100 <steel & "alloy">',
  stock: { ...stock, buckets: { ...stock.buckets, unrestricted: 48000, sample: 2000 } },
  audit,
}
const results: ResultRecord[] = [
  {
    inspectionLot: 'IL-1',
    plant: 'P100',
    characteristic: 'DIA',
    sample: 'S1',
    value: '12.03',
    unit: 'MM',
    valuation: 'accepted',
    audit,
  },
  {
    inspectionLot: 'IL-1',
    plant: 'P100',
    characteristic: 'DIA',
    sample: 'S2',
    value: '12.11',
    unit: 'MM',
    valuation: 'rejected',
    audit,
  },
  {
    inspectionLot: 'IL-1',
    plant: 'P100',
    characteristic: 'VISUAL',
    attribute: 'pass',
    valuation: 'accepted',
    audit,
  },
]

describe('ISA-95 / B2MML V0700 export', () => {
  it('builds MaterialLot in schema element order with Quantity as the lot total', () => {
    const { MaterialLot } = lotToB2mml(lot, results, { testSpecificationIds: ['PLAN-7'] })
    expect(Object.keys(MaterialLot).filter((k) => MaterialLot[k] !== undefined)).toEqual([
      'ID',
      'HierarchyScope',
      'MaterialDefinitionID',
      'Status',
      'MaterialLotProperty',
      'Quantity',
      'MaterialTestSpecificationID',
    ])
    expect(MaterialLot.Quantity).toEqual([
      { QuantityString: '50.000', DataType: 'decimal', UnitOfMeasure: 'KG' },
    ])
    expect(MaterialLot.Status).toBe('Released')
  })

  it('renders XML with TestResult per result, measurements and escaping', () => {
    const xml = lotToB2mmlXml(lot, results)
    expect(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<MaterialLot xmlns="http://www.mesa.org/xml/B2MML">',
      ),
    ).toBe(true)
    expect(xml).toContain(
      '<MaterialDefinitionID>M-100 &lt;steel &amp; &quot;alloy&quot;&gt;</MaterialDefinitionID>',
    )
    expect(xml.match(/<TestResult>/g)).toHaveLength(3)
    expect(xml).toContain(
      [
        '    <TestResult>',
        '      <ID>IL-1/DIA/S2</ID>',
        '      <EvaluationDate>2025-03-04T10:00:00Z</EvaluationDate>',
        '      <EvaluatedCriterionResult>Fail</EvaluatedCriterionResult>',
        '      <PropertyMeasurement>',
        '        <MeasurementDate>2025-03-04T10:00:00Z</MeasurementDate>',
        '        <Value>',
        '          <ValueString>12.11</ValueString>',
        '          <DataType>decimal</DataType>',
        '          <UnitOfMeasure>MM</UnitOfMeasure>',
        '        </Value>',
        '      </PropertyMeasurement>',
        '    </TestResult>',
      ].join('\n'),
    )
    expect(xml).toContain('<ID>Stock.sample</ID>')
    expect(xml).toContain('<QuantityString>50.000</QuantityString>')
    // ID → … → MaterialLotProperty → Quantity (MaterialLotType sequence)
    expect(xml.indexOf('<MaterialDefinitionID>')).toBeLessThan(xml.indexOf('<MaterialLotProperty>'))
    expect(xml.lastIndexOf('</MaterialLotProperty>')).toBeLessThan(xml.indexOf('<Quantity>'))
    // Balanced tags
    const opens = xml.match(/<[A-Za-z]+[ >]/g)?.length
    expect(opens).toBe(xml.match(/<\/[A-Za-z]+>/g)?.length)
  })

  it('renders the same tree as JSON', () => {
    const json = JSON.parse(lotToB2mmlJson(lot, results))
    expect(json.MaterialLot.MaterialLotProperty[0]).toMatchObject({
      ID: 'DIA',
      TestResult: [{ ID: 'IL-1/DIA/S1' }, { ID: 'IL-1/DIA/S2' }],
    })
    expect(json.MaterialLot.MaterialLotProperty[1].TestResult[0].PropertyMeasurement.Value).toEqual({
      ValueString: 'pass',
      DataType: 'string',
    })
  })

  it('escapes all five XML specials and refuses characters XML cannot carry, naming the field', () => {
    expect(escapeXml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f')
    expect(() => lotToB2mmlXml({ ...lot, id: 'B\u0001' }, [])).toThrow(
      expect.objectContaining({
        code: 'QLK_VALIDATION',
        errors: [expect.objectContaining({ path: '/MaterialLot/ID' })],
      }),
    )
  })
})

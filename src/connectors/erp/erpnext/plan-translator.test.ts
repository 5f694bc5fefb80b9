/**
 * The ERPNext inspection-plan translator on its own (the feed, the QMS and a receipt end to end:
 * test/ingress/erpnext-plan-feed.test.ts): one specification per Item naming the template, the
 * version derived from `modified`, the parameter mapping, and each refusal naming its field.
 */
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { isQualinkError } from '../../../contracts/errors.ts'
import type { XrefResolver } from '../../../mapping/xref.ts'
import { InspectionSpecification } from '../../../model/inspection.ts'
import type { StoredRawDelivery } from '../../../store/types.ts'
import { templateVersion } from './plan-feed.ts'
import { erpNextInspectionPlanTranslator } from './plan-translator.ts'

type Row = Record<string, unknown>
const param = (over: Row = {}): Row => ({
  specification: 'Diameter',
  numeric: 1,
  min_value: 11.92,
  max_value: 12.08,
  value: null,
  formula_based_criteria: 0,
  ...over,
})
const template = (over: Row = {}): Row => ({
  name: 'RAW Receiving',
  quality_inspection_template_name: 'RAW Receiving',
  docstatus: 0,
  modified: '2026-11-27 08:00:00.123456',
  item_quality_inspection_parameter: [
    param(),
    param({ specification: 'Surface', numeric: 0, value: 'No scratches' }),
  ],
  items: [{ item_code: 'RAW-200' }, { item_code: 'RAW-201' }],
  ...over,
})
const raw = (body: Row) =>
  ({
    plant: 'P200',
    source: 'plans',
    deliveryId: 'd',
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
  }) as StoredRawDelivery
// no identity mapping configured: the translator never consults the map
const xref = {} as XrefResolver
const translate = (body: Row) => erpNextInspectionPlanTranslator('plans').translate(raw(body), xref)
const refusal = async (body: Row) => {
  try {
    await translate(body)
  } catch (e) {
    if (isQualinkError(e)) return { code: e.code, paths: e.errors.map((p) => p.path) }
    throw e
  }
  throw new Error('translated, expected a refusal')
}

describe('ERPNext Quality Inspection Template → md.inspection_plan.upserted.v1', () => {
  it('derives the version from modified: microseconds read as UTC, later saves higher', () => {
    expect(templateVersion('2026-11-27 08:00:00.123456')).toBe(
      Date.parse('2026-11-27T08:00:00Z') * 1000 + 123456,
    )
    expect(templateVersion('2026-11-27 08:00:00')).toBe(Date.parse('2026-11-27T08:00:00Z') * 1000)
    expect(templateVersion('2026-11-27 08:00:00.5')).toBe(Date.parse('2026-11-27T08:00:00Z') * 1000 + 500000)
    expect(
      templateVersion('2026-11-27 08:00:00.000002')! - templateVersion('2026-11-27 08:00:00.000001')!,
    ).toBe(1)
    expect(templateVersion('2026-11-27T08:00:00Z')).toBeNull()
    expect(templateVersion(17)).toBeNull()
  })

  it('makes one valid specification per Item naming the template, for the feed plant, with no route or supplier', async () => {
    const events = await translate(template())
    const version = templateVersion('2026-11-27 08:00:00.123456')!
    expect(events.map((e) => [e.id, e.subject])).toEqual([
      [`RAW Receiving:RAW-200/v${version}`, 'RAW Receiving:RAW-200'],
      [`RAW Receiving:RAW-201/v${version}`, 'RAW Receiving:RAW-201'],
    ])
    const spec = (events[0]!.data as { version: number; inspectionPlan: Row }).inspectionPlan
    expect(events[0]!.data).toMatchObject({ version })
    for (const e of events)
      expect(
        Value.Check(InspectionSpecification, (e.data as { inspectionPlan: unknown }).inspectionPlan),
      ).toBe(true)
    expect(spec).toEqual({
      id: 'RAW Receiving:RAW-200',
      plant: 'P200',
      material: 'RAW-200',
      version,
      characteristics: [
        {
          id: 'Diameter',
          name: 'Diameter',
          quantitative: true,
          lowerLimit: '11.92',
          upperLimit: '12.08',
          sampleRule: { kind: 'full' },
          required: true,
        },
        {
          id: 'Surface',
          name: 'Surface: No scratches',
          quantitative: false,
          sampleRule: { kind: 'full' },
          required: true,
        },
      ],
      audit: { timestamp: '2026-11-27T08:00:00.123Z', sourceSystem: 'plans', approvalStatus: 'not_required' },
    })
  })

  it('keeps a limit of 0 and a one-sided limit (the other left null)', async () => {
    const [e] = await translate(
      template({
        items: [{ item_code: 'RAW-200' }],
        item_quality_inspection_parameter: [
          param({ specification: 'Burr', min_value: 0, max_value: '0.2' }),
          param({ specification: 'Hardness', min_value: 40, max_value: null }),
        ],
      }),
    )
    const chars = (e!.data as { inspectionPlan: { characteristics: Row[] } }).inspectionPlan.characteristics
    expect(chars.map((c) => [c.id, c.lowerLimit, c.upperLimit])).toEqual([
      ['Burr', '0', '0.2'],
      ['Hardness', '40', undefined],
    ])
  })

  it('refuses bad template data whole, naming the field', async () => {
    const cases: Array<[Row, string]> = [
      [{ items: [] }, '/items'],
      [{ items: [{ item_code: '' }] }, '/items/0/item_code'],
      [{ items: [{ item_code: 'RAW-200' }, { item_code: 'RAW-200' }] }, '/items'],
      [{ item_quality_inspection_parameter: [] }, '/item_quality_inspection_parameter'],
      [
        { item_quality_inspection_parameter: [param({ min_value: 12.5 })] },
        '/item_quality_inspection_parameter/0/min_value',
      ],
      [
        { item_quality_inspection_parameter: [param({ max_value: 'abc' })] },
        '/item_quality_inspection_parameter/0/max_value',
      ],
      [
        { item_quality_inspection_parameter: [param({ min_value: 0, max_value: 0 })] },
        '/item_quality_inspection_parameter/0/max_value',
      ],
      [
        { item_quality_inspection_parameter: [param({ specification: '' })] },
        '/item_quality_inspection_parameter/0/specification',
      ],
      [
        { item_quality_inspection_parameter: [param(), param()] },
        '/item_quality_inspection_parameter/1/specification',
      ],
      [
        {
          item_quality_inspection_parameter: [
            param({ formula_based_criteria: 1, acceptance_formula: 'reading_1 > 2' }),
          ],
        },
        '/item_quality_inspection_parameter/0/formula_based_criteria',
      ],
      [{ modified: '27.11.2026' }, '/modified'],
      [{ name: 'QA/1' }, '/name'],
      [{ name: '' }, '/name'],
    ]
    for (const [over, path] of cases)
      expect(await refusal(template(over)), path).toEqual({ code: 'QLK_VALIDATION', paths: [path] })
  })
})

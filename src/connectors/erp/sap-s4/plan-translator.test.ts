/**
 * The S/4 inspection-plan translator on its own (the feed, the QMS and the MES end to end:
 * test/ingress/plan-feed.test.ts): scopes per material assignment and operation, the version, the
 * characteristic mapping, and each refusal naming its field.
 */
import { describe, expect, it } from 'vitest'
import { isQualinkError } from '../../../contracts/errors.ts'
import type { XrefResolver } from '../../../mapping/xref.ts'
import type { StoredRawDelivery } from '../../../store/types.ts'
import { sapS4InspectionPlanTranslator } from './plan-translator.ts'

type Row = Record<string, unknown>
const char = (over: Row = {}): Row => ({
  BOOCharacteristic: '10',
  InspectionSpecification: 'DIAMETER',
  InspectionSpecificationText: 'Diameter',
  InspSpecIsQuantitative: true,
  InspSpecLowerLimit: '11.92',
  InspSpecUpperLimit: '12.08',
  InspSpecTargetValue: '12.00',
  InspSpecUnit: 'mm',
  InspCharacteristicSampleSize: '',
  ...over,
})
const planVersion = (over: Row = {}): Row => ({
  InspectionPlanGroup: 'QP1',
  InspectionPlan: '1',
  InspectionPlanInternalVersion: '3',
  Plant: 'P100',
  LastChangeDateTime: Date.parse('2026-11-27T08:00:00Z'),
  to_InspPlanMaterialAssgmt: [{ Material: 'M-1', Supplier: '' }],
  to_InspPlanOperation: [{ Operation: '0010', to_InspPlanOpCharacteristic: [char()] }],
  ...over,
})
const raw = (body: Row) =>
  ({
    plant: 'P100',
    source: 'plans',
    deliveryId: 'd',
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
  }) as StoredRawDelivery
// no identity mapping configured: the translator never consults the map
const xref = {} as XrefResolver
const translate = (body: Row) => sapS4InspectionPlanTranslator('plans').translate(raw(body), xref)
const refusal = async (body: Row) => {
  try {
    await translate(body)
  } catch (e) {
    if (isQualinkError(e)) return { code: e.code, paths: e.errors.map((p) => p.path) }
    throw e
  }
  throw new Error('translated, expected a refusal')
}

describe('S/4 inspection plan → md.inspection_plan.upserted.v1', () => {
  it('makes one specification per material and supplier, versioned by the internal version', async () => {
    const events = await translate(
      planVersion({
        to_InspPlanMaterialAssgmt: [{ Material: 'M-1' }, { Material: 'M-1', Supplier: 'SUP-7' }],
      }),
    )
    expect(events.map((e) => [e.id, e.subject])).toEqual([
      ['QP1:1:M-1:*:*/v3', 'QP1:1:M-1:*:*'],
      ['QP1:1:M-1:SUP-7:*/v3', 'QP1:1:M-1:SUP-7:*'],
    ])
    expect(events[1]!.data).toEqual({
      version: 3,
      inspectionPlan: {
        id: 'QP1:1:M-1:SUP-7:*',
        plant: 'P100',
        material: 'M-1',
        supplier: 'SUP-7',
        version: 3,
        characteristics: [
          {
            id: 'DIAMETER',
            name: 'Diameter',
            quantitative: true,
            target: '12.00',
            lowerLimit: '11.92',
            upperLimit: '12.08',
            unit: 'MM',
            sampleRule: { kind: 'full' },
            required: true,
          },
        ],
        audit: {
          timestamp: '2026-11-27T08:00:00.000Z',
          sourceSystem: 'plans',
          approvalStatus: 'not_required',
        },
      },
    })
  })

  it('scopes each operation of a plan with several by its operation number (route)', async () => {
    const events = await translate(
      planVersion({
        to_InspPlanOperation: [
          { Operation: '0010', to_InspPlanOpCharacteristic: [char()] },
          {
            Operation: '0020',
            to_InspPlanOpCharacteristic: [
              char({
                InspectionSpecification: '',
                BOOCharacteristic: '20',
                InspCharacteristicSampleSize: '5',
              }),
            ],
          },
        ],
      }),
    )
    const specs = events.map((e) => (e.data as { inspectionPlan: Row }).inspectionPlan)
    expect(specs.map((s) => [s.id, s.route])).toEqual([
      ['QP1:1:M-1:*:0010', '0010'],
      ['QP1:1:M-1:*:0020', '0020'],
    ])
    expect((specs[1]!.characteristics as Row[])[0]).toMatchObject({
      id: '20',
      sampleRule: { kind: 'fixed', sampleSize: 5 },
    })
  })

  it('refuses bad plan data whole, naming the field', async () => {
    const op = (c: Row) => ({
      to_InspPlanOperation: [{ Operation: '0010', to_InspPlanOpCharacteristic: [c] }],
    })
    const at = '/to_InspPlanOperation/0/to_InspPlanOpCharacteristic/0'
    const cases: Array<[Row, string]> = [
      [{ to_InspPlanMaterialAssgmt: [] }, '/to_InspPlanMaterialAssgmt'],
      [{ to_InspPlanMaterialAssgmt: [{ Material: ' ' }] }, '/to_InspPlanMaterialAssgmt/0/Material'],
      [op(char({ InspSpecLowerLimit: '12.10' })), `${at}/InspSpecLowerLimit`],
      [op(char({ InspSpecTargetValue: '13' })), `${at}/InspSpecTargetValue`],
      [op(char({ InspSpecUpperLimit: '1e3' })), `${at}/InspSpecUpperLimit`],
      [
        op(char({ InspSpecLowerLimit: '', InspSpecUpperLimit: '', InspSpecTargetValue: '' })),
        `${at}/InspSpecUpperLimit`,
      ],
      [op(char({ InspectionSpecificationText: '' })), `${at}/InspectionSpecificationText`],
      [op(char({ InspCharacteristicSampleSize: '0' })), `${at}/InspCharacteristicSampleSize`],
      [
        { to_InspPlanOperation: [{ Operation: '0010', to_InspPlanOpCharacteristic: [] }] },
        '/to_InspPlanOperation/0/to_InspPlanOpCharacteristic',
      ],
      [{ to_InspPlanOperation: [] }, '/to_InspPlanOperation'],
      [{ InspectionPlanInternalVersion: '0' }, '/InspectionPlanInternalVersion'],
      [
        { to_InspPlanMaterialAssgmt: [{ Material: 'M-1' }, { Material: 'M-1' }] },
        '/to_InspPlanMaterialAssgmt',
      ],
    ]
    for (const [over, path] of cases)
      expect(await refusal(planVersion(over)), path).toEqual({ code: 'QLK_VALIDATION', paths: [path] })
    expect(await refusal(planVersion({ Plant: 'P200' }))).toEqual({
      code: 'QLK_PLANT_MISMATCH',
      paths: ['/Plant'],
    })
  })
})

import { type Static, Type } from 'typebox'
import { Audit, DecimalString, Id, PlantId, Strict, Timestamp } from './common.ts'
import { Quantity, UomCode } from './quantity.ts'

/** How many units a characteristic inspects (SAP InspCharacteristicSampleSize / sampling procedure). */
export const SampleRule = Type.Union([
  Strict({ kind: Type.Literal('fixed'), sampleSize: Type.Integer({ minimum: 1 }) }),
  Strict({ kind: Type.Literal('percent'), percent: DecimalString }),
  Strict({
    kind: Type.Literal('aql'),
    aql: DecimalString,
    inspectionLevel: Type.Enum(['S-1', 'S-2', 'S-3', 'S-4', 'I', 'II', 'III']),
  }),
  Strict({ kind: Type.Literal('full') }),
])
export type SampleRule = Static<typeof SampleRule>

/** Field names follow SAP A_InspectionCharacteristic (InspSpecTargetValue, …UpperLimit, …LowerLimit). */
export const Characteristic = Strict({
  id: Id,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  quantitative: Type.Boolean(),
  target: Type.Optional(DecimalString),
  lowerLimit: Type.Optional(DecimalString),
  upperLimit: Type.Optional(DecimalString),
  unit: Type.Optional(UomCode),
  sampleRule: SampleRule,
  required: Type.Boolean({
    description: 'A usage decision waits until every required characteristic is closed',
  }),
})
export type Characteristic = Static<typeof Characteristic>

export const InspectionSpecification = Strict(
  {
    id: Id,
    plant: PlantId,
    material: Id,
    /** the routing operation it applies to (in-process inspection); absent: every operation */
    route: Type.Optional(Id),
    /** the supplier it applies to (receipt inspection); absent: every supplier */
    supplier: Type.Optional(Id),
    version: Type.Integer({ minimum: 1 }),
    characteristics: Type.Array(Characteristic, { minItems: 1 }),
    audit: Audit,
  },
  'Inspection plan / test specification (ISA-95 TestSpecification), for a material and optionally one route and one supplier. Identifiers: id + plant + version.',
)
export type InspectionSpecification = Static<typeof InspectionSpecification>

/** States of the canonical inspection-lot machine (SAP system statuses in brackets, §1.2). */
export const INSPECTION_LOT_STATES = [
  'created', // CRTD
  'released', // REL
  'skipped', // SKIP
  'in_inspection', // INSP
  'results_confirmed', // RREC
  'usage_decision', // UD
  'stock_posting_required', // SPRQ
  'stock_posting_completed', // SPCO
  'marked_for_cancellation', // MCAN
  'cancelled', // LTCA
] as const
export type InspectionLotStatus = (typeof INSPECTION_LOT_STATES)[number]

/** SAP inspection lot origins (§1.1); customers cannot add their own. */
export const INSPECTION_ORIGINS = [
  '01',
  '02',
  '03',
  '04',
  '05',
  '06',
  '07',
  '08',
  '09',
  '10',
  '11',
  '12',
  '13',
  '14',
  '15',
  '89',
] as const

export const InspectionLot = Strict(
  {
    id: Id,
    plant: PlantId,
    material: Id,
    lot: Type.Optional(Id),
    origin: Type.Enum(INSPECTION_ORIGINS),
    stockRelevant: Type.Boolean({ description: 'false for in-process (origin 03) lots' }),
    status: Type.Enum(INSPECTION_LOT_STATES),
    quantity: Quantity,
    specification: Type.Optional(Id),
    specificationVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    productionOrder: Type.Optional(Id),
    audit: Audit,
  },
  'Inspection lot (SAP A_InspectionLot). Identifiers: id + plant.',
)
export type InspectionLot = Static<typeof InspectionLot>

export const VALUATIONS = ['accepted', 'rejected', 'undetermined'] as const

export const ResultRecord = Strict(
  {
    inspectionLot: Id,
    plant: PlantId,
    characteristic: Id,
    sample: Type.Optional(Type.String({ maxLength: 64, description: 'Sample / inspection point id' })),
    value: Type.Optional(DecimalString),
    unit: Type.Optional(UomCode),
    attribute: Type.Optional(Type.Enum(['pass', 'fail'])),
    valuation: Type.Enum(VALUATIONS),
    defectCodes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }))),
    measuredAt: Type.Optional(Timestamp),
    audit: Audit,
  },
  'One recorded result of a characteristic (SAP A_InspectionResult/-Value). Identifiers: inspectionLot + characteristic (+ sample).',
)
export type ResultRecord = Static<typeof ResultRecord>

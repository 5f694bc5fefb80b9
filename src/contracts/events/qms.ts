import { Type } from 'typebox'
import { DecimalString, Timestamp } from '../../model/common.ts'
import { InspectionLot, ResultRecord, VALUATIONS } from '../../model/inspection.ts'
import {
  CorrectiveAction,
  DISPOSITION_CODES,
  Disposition,
  Nonconformance,
} from '../../model/nonconformance.ts'
import { UomCode } from '../../model/quantity.ts'
import { defineEventType } from '../event-type.ts'
import { Audit, Id, PlantId, Quantity, Strict } from './refs.ts'

const Valuation = Type.Enum(['accepted', 'rejected'])

/** v2 of a result: the unit becomes structured so UCUM and SAP units can both be carried. */
export const ResultRecordV2 = Strict({
  inspectionLot: Id,
  plant: PlantId,
  characteristic: Id,
  sample: Type.Optional(Type.String({ maxLength: 64 })),
  measured: Type.Optional(
    Strict({
      value: DecimalString,
      // Absent for dimensionless values (pH, counts): inventing a unit would be worse than none.
      unit: Type.Optional(Strict({ code: UomCode, system: Type.Enum(['qualink', 'ucum', 'sap']) })),
    }),
  ),
  attribute: Type.Optional(Type.Enum(['pass', 'fail'])),
  valuation: Type.Enum(VALUATIONS),
  defectCodes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }))),
  measuredAt: Type.Optional(Timestamp),
  audit: Audit,
})

/** v1 → v2: a flat `value` + `unit` becomes `measured: { value, unit: { code, system: 'qualink' } }`. */
export function upcastResultV1(data: unknown): unknown {
  const { value, unit, ...rest } = data as Record<string, unknown>
  if (value === undefined) return rest
  return {
    ...rest,
    measured: unit === undefined ? { value } : { value, unit: { code: unit, system: 'qualink' } },
  }
}

/** QMS events: inspection, decisions, nonconformances and CAPA, owned by the QMS. */
export const qmsEventTypes = [
  defineEventType({
    type: 'qms.inspection_lot.created.v1',
    routing: 'transactional',
    description: 'An inspection lot was created (from a goods receipt, an order release or the API).',
    schema: Strict({ inspectionLot: InspectionLot }),
  }),
  defineEventType({
    type: 'qms.inspection_lot.cancelled.v1',
    routing: 'transactional',
    description: 'An inspection lot was cancelled (MCAN → LTCA).',
    schema: Strict({
      inspectionLot: Id,
      plant: PlantId,
      /** the lot (batch) the inspection was for: keys the receipt workflow's run */
      lot: Type.Optional(Id),
      reason: Type.String({ minLength: 1, maxLength: 500 }),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'qms.result.recorded.v1',
    routing: 'transactional',
    description: 'A characteristic result was recorded. Upcast to v2 for consumers.',
    schema: ResultRecord,
    upcast: { to: 'qms.result.recorded.v2', fn: upcastResultV1 },
  }),
  defineEventType({
    type: 'qms.result.recorded.v2',
    routing: 'transactional',
    description: 'A characteristic result was recorded, with a structured unit.',
    schema: ResultRecordV2,
  }),
  defineEventType({
    type: 'qms.usage_decision.made.v1',
    routing: 'transactional',
    description: 'A usage decision was made; the stock posting it requires is a separate ERP event.',
    schema: Strict({
      inspectionLot: Id,
      plant: PlantId,
      lot: Type.Optional(Id),
      code: Type.String({ minLength: 1, maxLength: 16 }),
      codeGroup: Type.Optional(Type.String({ maxLength: 16 })),
      valuation: Valuation,
      qualityScore: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
      stockPostings: Type.Array(Strict({ code: Type.Enum(DISPOSITION_CODES), quantity: Quantity })),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'qms.usage_decision.changed.v1',
    routing: 'transactional',
    description: 'A usage decision was changed; the earlier decision stays on record.',
    schema: Strict({
      inspectionLot: Id,
      plant: PlantId,
      lot: Type.Optional(Id),
      previousCode: Type.String({ minLength: 1, maxLength: 16 }),
      code: Type.String({ minLength: 1, maxLength: 16 }),
      valuation: Valuation,
      reason: Type.String({ minLength: 1, maxLength: 500 }),
      /** the new split; absent when only the code changed and no quantity moves */
      stockPostings: Type.Optional(
        Type.Array(Strict({ code: Type.Enum(DISPOSITION_CODES), quantity: Quantity })),
      ),
      /** the split the change replaces: the receipt workflow posts only the difference */
      previousStockPostings: Type.Optional(
        Type.Array(Strict({ code: Type.Enum(DISPOSITION_CODES), quantity: Quantity })),
      ),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'qms.nonconformance.opened.v1',
    routing: 'transactional',
    description: 'A nonconformance was opened.',
    schema: Strict({ nonconformance: Nonconformance }),
  }),
  defineEventType({
    type: 'qms.nonconformance.dispositioned.v1',
    routing: 'transactional',
    description: 'A nonconformance was dispositioned into quantity lines.',
    schema: Strict({ disposition: Disposition }),
  }),
  defineEventType({
    type: 'qms.capa.opened.v1',
    routing: 'transactional',
    description: 'A corrective or preventive action was opened.',
    schema: Strict({ correctiveAction: CorrectiveAction }),
  }),
  defineEventType({
    type: 'qms.capa.step_changed.v1',
    routing: 'transactional',
    description:
      'An open corrective or preventive action moved to another 8D discipline (D0 plan … D8 recognise the team); correctiveAction.eightDStep is the step reached. Opening, closing and reopening are capa.opened/closed, not this.',
    schema: Strict({ correctiveAction: CorrectiveAction }),
  }),
  defineEventType({
    type: 'qms.capa.closed.v1',
    routing: 'transactional',
    description: 'A corrective or preventive action was closed after verification.',
    schema: Strict({ correctiveAction: CorrectiveAction, effective: Type.Boolean() }),
  }),
]

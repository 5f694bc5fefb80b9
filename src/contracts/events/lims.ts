import { Type } from 'typebox'
import { DecimalString } from '../../model/common.ts'
import { UomCode } from '../../model/quantity.ts'
import { defineEventType } from '../event-type.ts'
import { Audit, Id, PlantId, Strict } from './refs.ts'

/** LIMS events: laboratory results for a sample of a lot. */
export const limsEventTypes = [
  defineEventType({
    type: 'lims.result.reported.v1',
    routing: 'transactional',
    description: 'A laboratory reported verified results for a sample of a lot.',
    schema: Strict({
      sample: Id,
      lot: Id,
      plant: PlantId,
      inspectionLot: Type.Optional(Id),
      tests: Type.Array(
        Strict({
          characteristic: Id,
          method: Type.Optional(Type.String({ maxLength: 64 })),
          value: Type.Optional(DecimalString),
          unit: Type.Optional(UomCode),
          result: Type.Enum(['pass', 'fail', 'out_of_specification', 'not_tested']),
        }),
        { minItems: 1 },
      ),
      audit: Audit,
    }),
  }),
]

import { Type } from 'typebox'
import { DecimalString, Timestamp } from '../../model/common.ts'
import { UomCode } from '../../model/quantity.ts'
import { defineEventType } from '../event-type.ts'
import { Audit, Id, LotQuantity, PlantId, Strict } from './refs.ts'

const Measurement = Strict({
  characteristic: Id,
  value: DecimalString,
  unit: UomCode,
  sample: Type.Optional(Type.String({ maxLength: 64 })),
  takenAt: Type.Optional(Timestamp),
})

/** MES events: operations with measurements and genealogy (ISA-95 MaterialActual Consumed/Produced). */
export const mesEventTypes = [
  defineEventType({
    type: 'mes.operation.completed.v1',
    routing: 'transactional',
    description: 'A routing operation completed, with its measurements and consumed/produced lots.',
    schema: Strict({
      operation: Strict({
        productionOrder: Id,
        number: Type.String({ minLength: 1, maxLength: 16 }),
        workCenter: Type.Optional(Type.String({ maxLength: 64 })),
      }),
      plant: PlantId,
      measurements: Type.Array(Measurement),
      consumed: Type.Array(LotQuantity),
      produced: Type.Array(LotQuantity),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'mes.packaging.verified.v1',
    routing: 'transactional',
    description:
      'Packaging of a lot was verified (labels, counts, seals) — a finished-goods release checkpoint.',
    schema: Strict({
      lot: Id,
      plant: PlantId,
      productionOrder: Type.Optional(Id),
      delivery: Type.Optional(Id),
      checks: Type.Array(
        Strict({ name: Type.String({ minLength: 1, maxLength: 64 }), passed: Type.Boolean() }),
      ),
      verified: Type.Boolean(),
      audit: Audit,
    }),
  }),
]

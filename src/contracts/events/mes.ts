import { Type } from 'typebox'
import { DecimalString, Timestamp } from '../../model/common.ts'
import { UomCode } from '../../model/quantity.ts'
import { defineEventType } from '../event-type.ts'
import { Adoption, Audit, Id, LotQuantity, PlantId, Strict } from './refs.ts'

const Measurement = Strict({
  characteristic: Id,
  value: DecimalString,
  unit: UomCode,
  sample: Type.Optional(Type.String({ maxLength: 64 })),
  takenAt: Type.Optional(Timestamp),
})

/** n, mean, min, max of the good values a sampled result stands for (from…to: their source times). */
const Summary = Strict({
  count: Type.Integer({ minimum: 1 }),
  mean: DecimalString,
  min: DecimalString,
  max: DecimalString,
  from: Timestamp,
  to: Timestamp,
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
      /** present when `qualink adopt` took a production order on hold over at go-live (no measurements) */
      adoption: Type.Optional(Adoption),
      audit: Audit,
    }),
  }),
  defineEventType({
    type: 'mes.measurement.sampled.v1',
    routing: 'transactional',
    description:
      'A sampled result of shop-floor telemetry (every Nth value, or one summary per window), not each raw value.',
    schema: Strict({
      plant: PlantId,
      /** the machine or resource that measured (ISA-95 equipment) */
      equipment: Type.String({ minLength: 1, maxLength: 128 }),
      measurement: Measurement,
      /** present for a window summary; `measurement.value` is then its mean */
      summary: Type.Optional(Summary),
      /** what was running when the value was taken, read from the source's context nodes */
      productionOrder: Type.Optional(Id),
      operation: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
      lot: Type.Optional(Id),
      /** where the value came from, e.g. an OPC UA endpoint and NodeId */
      origin: Strict({ endpoint: Type.String({ minLength: 1, maxLength: 256 }), node: Id }),
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

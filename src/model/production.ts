import { type Static, Type } from 'typebox'
import { Audit, Id, PlantId, Strict, Timestamp } from './common.ts'
import { Quantity } from './quantity.ts'

export const HOLD_STATES = ['released', 'on_hold'] as const
export type HoldState = (typeof HOLD_STATES)[number]

export const ProductionOrder = Strict(
  {
    id: Id,
    plant: PlantId,
    material: Id,
    quantity: Quantity,
    hold: Type.Enum(HOLD_STATES),
    holdReason: Type.Optional(Type.String({ maxLength: 500 })),
    audit: Audit,
  },
  'ERP production order; `hold` is the quality hold, not the ERP order status. Identifiers: id + plant.',
)
export type ProductionOrder = Static<typeof ProductionOrder>

export const Operation = Strict(
  {
    id: Id,
    plant: PlantId,
    productionOrder: Id,
    number: Type.String({ minLength: 1, maxLength: 16, description: 'Routing operation number, e.g. 0010' }),
    workCenter: Type.Optional(Type.String({ maxLength: 64 })),
    startedAt: Type.Optional(Timestamp),
    completedAt: Type.Optional(Timestamp),
    audit: Audit,
  },
  'One routing step of a production order (ISA-95 OpSegmentResponse). Identifiers: productionOrder + number.',
)
export type Operation = Static<typeof Operation>

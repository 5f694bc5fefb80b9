import { type Static, Type } from 'typebox'
import { Audit, Id, PlantId, Strict } from './common.ts'
import { SEVERITIES } from './nonconformance.ts'
import { Quantity } from './quantity.ts'

export const Complaint = Strict(
  {
    id: Id,
    plant: PlantId,
    customer: Id,
    material: Type.Optional(Id),
    lots: Type.Array(Id),
    serials: Type.Optional(Type.Array(Id)),
    deliveries: Type.Array(Id),
    quantity: Type.Optional(Quantity),
    severity: Type.Enum(SEVERITIES),
    description: Type.String({ maxLength: 4000 }),
    audit: Audit,
  },
  'Customer complaint case (CRM). Identifiers: id + plant.',
)
export type Complaint = Static<typeof Complaint>

export const BLOCK_STATES = ['unblocked', 'blocked'] as const
export type BlockState = (typeof BLOCK_STATES)[number]

export const DeliveryLine = Strict({
  item: Type.String({ minLength: 1, maxLength: 16 }),
  material: Id,
  lot: Type.Optional(Id),
  serials: Type.Optional(Type.Array(Id)),
  quantity: Quantity,
})

export const Delivery = Strict(
  {
    id: Id,
    plant: PlantId,
    customer: Id,
    lines: Type.Array(DeliveryLine, { minItems: 1 }),
    block: Type.Enum(BLOCK_STATES),
    audit: Audit,
  },
  'Outbound delivery to a customer; `block` is the quality delivery block. Identifiers: id + plant.',
)
export type Delivery = Static<typeof Delivery>

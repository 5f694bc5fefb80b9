import { Type } from 'typebox'
import { Audit, Id, PlantId, Strict } from '../../model/common.ts'
import { Quantity } from '../../model/quantity.ts'

/** Shared parts of event data; the objects themselves come from src/model. */
export const LotRef = Strict({ id: Id, material: Id, plant: PlantId })

export const MaterialDocument = Strict({
  id: Id,
  year: Type.Optional(Type.Integer({ minimum: 1900, maximum: 9999 })),
  item: Type.Optional(Type.String({ minLength: 1, maxLength: 8 })),
})

export const LotQuantity = Strict({ lot: Id, material: Id, quantity: Quantity })

export { Audit, Id, PlantId, Quantity, Strict }

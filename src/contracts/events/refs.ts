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

/**
 * Marks an event `qualink adopt` made at go-live from work the ERP and QMS already had in flight
 * (docs/workflows.md "Go-live adoption"); who adopted and when is in the event's `audit`. It names
 * the QMS records that already exist, so the run takes them over instead of creating new ones.
 */
export const Adoption = Strict({
  /** the QMS inspection lot that already exists for the receipt */
  qmsInspectionLot: Type.Optional(Id),
  /** the open nonconformance a held production order waits on */
  nonconformance: Type.Optional(Id),
  /** the batch the held order produces (what the nonconformance's disposition names) */
  lot: Type.Optional(Id),
})

export { Audit, Id, PlantId, Quantity, Strict }

import { type Static, Type } from 'typebox'
import { Audit, Id, PlantId, Strict } from './common.ts'
import { StockVector } from './stock.ts'

export const Lot = Strict(
  {
    id: Id,
    plant: PlantId,
    material: Id,
    supplier: Type.Optional(Id),
    supplierBatch: Type.Optional(
      Type.String({ maxLength: 64, description: 'SAP BatchBySupplier / ASN lot' }),
    ),
    productionOrder: Type.Optional(Id),
    stock: StockVector,
    audit: Audit,
  },
  'A batch/lot of one material in one plant (ISA-95 MaterialLot). Identifiers: id + plant + material.',
)
export type Lot = Static<typeof Lot>

export const Serial = Strict(
  {
    id: Id,
    plant: PlantId,
    material: Id,
    lot: Type.Optional(Id),
    audit: Audit,
  },
  'A serialised unit (ISA-95 MaterialSubLot of quantity 1). Identifiers: id + material.',
)
export type Serial = Static<typeof Serial>

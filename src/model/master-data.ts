import { type Static, Type } from 'typebox'
import { Audit, Id, PlantId, Strict } from './common.ts'
import { UomCode } from './quantity.ts'

export const Plant = Strict(
  {
    id: PlantId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    timezone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone, e.g. Europe/Berlin' }),
    ),
    audit: Audit,
  },
  'A manufacturing site (ISA-95 Site). Identifier: id.',
)
export type Plant = Static<typeof Plant>

export const Material = Strict(
  {
    id: Id,
    plant: PlantId,
    description: Type.String({ maxLength: 200 }),
    baseUom: UomCode,
    batchManaged: Type.Boolean(),
    serialManaged: Type.Boolean(),
    materialType: Type.Optional(
      Type.String({ maxLength: 32, description: 'ERP material type, e.g. ROH, HALB, FERT' }),
    ),
    audit: Audit,
  },
  'Material master per plant (ISA-95 MaterialDefinition). Identifiers: id + plant.',
)
export type Material = Static<typeof Material>

export const SUPPLIER_STATES = ['approved', 'conditional', 'blocked', 'disqualified'] as const

export const Supplier = Strict(
  {
    id: Id,
    plant: PlantId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' })),
    qualification: Type.Enum(SUPPLIER_STATES),
    audit: Audit,
  },
  'Supplier (vendor) as qualified for a plant. Identifiers: id + plant.',
)
export type Supplier = Static<typeof Supplier>

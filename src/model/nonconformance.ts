import { type Static, Type } from 'typebox'
import { Audit, Id, PlantId, Strict } from './common.ts'
import { Quantity } from './quantity.ts'

export const NC_STATES = [
  'open',
  'contained',
  'under_review',
  'dispositioned',
  'disposition_executed',
  'closed',
  'cancelled',
] as const
export type NonconformanceStatus = (typeof NC_STATES)[number]

export const SEVERITIES = ['minor', 'major', 'critical'] as const

export const Nonconformance = Strict(
  {
    id: Id,
    plant: PlantId,
    material: Type.Optional(Id),
    lots: Type.Array(Id),
    quantity: Type.Optional(Quantity),
    defectCode: Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'Enterprise defect code (see mapping/taxonomy)',
    }),
    severity: Type.Enum(SEVERITIES),
    description: Type.String({ maxLength: 4000 }),
    status: Type.Enum(NC_STATES),
    inspectionLot: Type.Optional(Id),
    productionOrder: Type.Optional(Id),
    supplier: Type.Optional(Id),
    audit: Audit,
  },
  'Nonconformance report. Identifiers: id + plant.',
)
export type Nonconformance = Static<typeof Nonconformance>

/** Canonical MRB and usage-decision codes (reference/quality-domain.md §1.4, §5). */
export const DISPOSITION_CODES = [
  'USE_AS_IS',
  'REWORK',
  'REPAIR',
  'REGRADE',
  'SCRAP',
  'RETURN_TO_VENDOR',
  'RELEASE',
  'BLOCK',
  'SAMPLE_CONSUMED',
  'RETAIN_SAMPLE',
] as const
export type DispositionCode = (typeof DISPOSITION_CODES)[number]

export const DispositionLine = Strict({
  code: Type.Enum(DISPOSITION_CODES),
  quantity: Quantity,
  note: Type.Optional(Type.String({ maxLength: 1000 })),
  targetMaterial: Type.Optional(Id),
  targetLot: Type.Optional(Id),
})
export type DispositionLine = Static<typeof DispositionLine>

export const Disposition = Strict(
  {
    id: Id,
    plant: PlantId,
    lot: Id,
    nonconformance: Type.Optional(Id),
    inspectionLot: Type.Optional(Id),
    lines: Type.Array(DispositionLine, { minItems: 1 }),
    audit: Audit,
  },
  'A decision splitting a quantity into lines, each with a code and quantity. Identifiers: id + plant.',
)
export type Disposition = Static<typeof Disposition>

export const CAPA_STATES = ['open', 'in_progress', 'verification', 'closed', 'cancelled'] as const
/** 8D disciplines D0..D8 (reference/quality-domain.md §5). */
export const EIGHT_D_STEPS = ['D0', 'D1', 'D2', 'D3', 'D4', 'D5', 'D6', 'D7', 'D8'] as const

export const CorrectiveAction = Strict(
  {
    id: Id,
    plant: PlantId,
    kind: Type.Enum(['corrective', 'preventive']),
    status: Type.Enum(CAPA_STATES),
    eightDStep: Type.Enum(EIGHT_D_STEPS),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    nonconformances: Type.Array(Id),
    complaints: Type.Optional(Type.Array(Id)),
    supplier: Type.Optional(Id),
    rootCause: Type.Optional(Type.String({ maxLength: 4000 })),
    audit: Audit,
  },
  'Corrective/preventive action with status and 8D step as the QMS reports them. Identifiers: id + plant.',
)
export type CorrectiveAction = Static<typeof CorrectiveAction>

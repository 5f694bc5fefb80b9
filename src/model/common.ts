import { type Static, type TSchema, Type } from 'typebox'

/** Enterprise identifier of a canonical object (after identity mapping; see src/mapping/xref.ts). */
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^\\S(.*\\S)?$' })

export const PlantId = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: 'Enterprise plant id; every row and event is scoped by plant (DESIGN §6)',
})

export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp with offset' })

/** A measured or specified value as a decimal string: measurements are not conserved, but exact. */
export const DecimalString = Type.String({
  pattern: '^[+-]?\\d{1,15}(\\.\\d{1,9})?$',
  description: 'Plain decimal number as text, no exponent',
})

export const APPROVAL_STATUSES = ['not_required', 'draft', 'pending', 'approved', 'rejected'] as const
export const ApprovalStatus = Type.Enum(APPROVAL_STATUSES)

/**
 * Who, what, when and where for every record (21 CFR 11.10(e): time-stamped operator entries;
 * ISA-95 EquipmentActual). `sourceSystem` is the configured connector instance, not a vendor name.
 */
export const Audit = Type.Object(
  {
    timestamp: Timestamp,
    operator: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    equipment: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    sourceSystem: Type.String({ minLength: 1, maxLength: 64 }),
    approvalStatus: ApprovalStatus,
  },
  { additionalProperties: false },
)
export type Audit = Static<typeof Audit>

/** A strict object: unknown fields are refused at the edge so drift is caught, not carried. */
export function Strict<P extends Record<string, TSchema>>(properties: P, description?: string) {
  return Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) })
}

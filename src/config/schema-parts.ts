/** Building blocks every part of the qualink.yaml schema shares (names, plants, durations, secrets). */
import { type Static, type TSchema, Type } from 'typebox'

export const closed = { additionalProperties: false } as const

/** connector and ingress source names: they appear in URLs (/v1/ingress/<name>) and in metrics */
export const NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$'
export const PLANT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$'
export const ENV_PATTERN = '^[A-Z_][A-Z0-9_]*$'
/** what engine/retry.ts parseDuration accepts as text */
export const DURATION_PATTERN = '^\\d+(\\.\\d+)?(ms|s|m|h|d)$'

export const Name = Type.String({ pattern: NAME_PATTERN })
export const PlantCode = Type.String({ pattern: PLANT_PATTERN })
export const Duration = Type.String({ pattern: DURATION_PATTERN, description: '250ms, 30s, 5m, 72h, 2d' })
export const byName = <T extends TSchema>(item: T) =>
  Type.Record(Type.String({ pattern: NAME_PATTERN }), item)
export const byPlant = <T extends TSchema>(item: T) =>
  Type.Record(Type.String({ pattern: PLANT_PATTERN }), item)

/** A secret is never in the file: exactly one of an environment variable or a file (e.g. /run/secrets/x). */
export const SecretRef = Type.Object(
  {
    secretEnv: Type.Optional(Type.String({ pattern: ENV_PATTERN })),
    secretFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { ...closed, minProperties: 1, maxProperties: 1 },
)
export type SecretRef = Static<typeof SecretRef>

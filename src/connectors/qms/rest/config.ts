/** qualink.yaml config of kind qms/rest (a SaaS QMS REST API under /api/v1). */
import { type Static, Type } from 'typebox'
import { EgressSettings } from '../../sdk/define-connector.ts'

export const QmsRestConfig = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://[^/]+$',
      description: 'scheme://host:port; the API is under /api/v1',
    }),
    /** bearer token, read from this environment variable (never from the file) */
    apiKeyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
    /** decimals the QMS keeps quantities with */
    quantityScale: Type.Integer({ minimum: 0, maximum: 6, default: 3 }),
    egress: Type.Optional(EgressSettings),
  },
  { additionalProperties: false },
)
export type QmsRestConfig = Static<typeof QmsRestConfig>

/** qualink.yaml config of kind qms/rest (a SaaS QMS REST API under /api/v1). */
import { type Static, Type } from 'typebox'
import { EgressSettings } from '../../sdk/define-connector.ts'
import { atMostOneSecret, SecretEnvField, SecretFileField } from '../../sdk/secrets.ts'

export const QmsRestConfig = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://[^/]+$',
      description: 'scheme://host:port; the API is under /api/v1',
    }),
    /** bearer token, from an environment variable or a file (never from qualink.yaml); none: no auth */
    apiKeyEnv: SecretEnvField(),
    apiKeyFile: SecretFileField(),
    /** decimals the QMS keeps quantities with */
    quantityScale: Type.Integer({ minimum: 0, maximum: 6, default: 3 }),
    egress: Type.Optional(EgressSettings),
  },
  { additionalProperties: false, ...atMostOneSecret('apiKey') },
)
export type QmsRestConfig = Static<typeof QmsRestConfig>

/**
 * The one catalogue of stable error codes. Users branch on `code`, never on message text.
 * The API returns these as RFC 9457 problem+json (see src/server/problem.ts); docs/errors.md
 * lists them and a test checks the list matches this file.
 */
export interface ErrorSpec {
  readonly status: number
  readonly title: string
  /** true when retrying the same request later may succeed */
  readonly retryable: boolean
}

export const ERRORS = {
  QLK_VALIDATION: { status: 400, title: 'Request failed validation', retryable: false },
  QLK_MALFORMED_JSON: { status: 400, title: 'Body is not valid JSON', retryable: false },
  QLK_CONTENT_TYPE: { status: 415, title: 'Unsupported content type', retryable: false },
  QLK_ATTRIBUTE_MISSING: { status: 400, title: 'Required CloudEvents attribute missing', retryable: false },
  QLK_UNKNOWN_EVENT_TYPE: { status: 400, title: 'Event type is not registered', retryable: false },
  QLK_SCHEMA_VIOLATION: { status: 400, title: 'Event data violates its schema', retryable: false },
  QLK_BATCH_EMPTY: { status: 400, title: 'Batch contains no events', retryable: false },
  QLK_BATCH_TOO_LARGE: { status: 413, title: 'Batch has too many events', retryable: false },
  QLK_PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large', retryable: false },
  QLK_NOT_FOUND: { status: 404, title: 'Not found', retryable: false },
  QLK_LOT_AMBIGUOUS: {
    status: 409,
    title: 'The batch is a lot in several of your plants; name the plant',
    retryable: false,
  },
  QLK_STORE_UNAVAILABLE: {
    status: 503,
    title: 'Store could not commit; nothing was stored',
    retryable: true,
  },
  QLK_SHUTTING_DOWN: { status: 503, title: 'Server is shutting down', retryable: true },
  QLK_PROJECTION_BEHIND: {
    status: 503,
    title: 'A projection has not yet caught up with the event that asks; retried',
    retryable: true,
  },
  QLK_STORE_LOCKED: { status: 500, title: 'Database file is owned by another process', retryable: false },
  QLK_MIGRATION_BREAKING: {
    status: 500,
    title: 'Database has a breaking migration newer than this code',
    retryable: false,
  },
  QLK_CONFIG_INVALID: { status: 500, title: 'Configuration is invalid', retryable: false },
  QLK_XREF_MISSING: { status: 422, title: 'No identity mapping for an external code', retryable: true },
  QLK_PLANT_MISMATCH: {
    status: 422,
    title: "The document's plant is not the plant of the source that delivered it",
    retryable: false,
  },
  QLK_ILLEGAL_TRANSITION: { status: 409, title: 'State transition not allowed', retryable: false },
  QLK_STALE_SEQUENCE: {
    status: 409,
    title: 'Event is older than the state it would overwrite',
    retryable: false,
  },
  QLK_CONSERVATION: { status: 400, title: 'Quantity is not conserved', retryable: false },
  QLK_UNIT_CONVERSION: { status: 400, title: 'Unit conversion not possible', retryable: false },
  QLK_LEASE_LOST: { status: 409, title: 'Lease was taken over by another owner', retryable: true },
  QLK_NONDETERMINISM: {
    status: 500,
    title: 'Replay step sequence differs from the journal',
    retryable: false,
  },
  QLK_AUDIT_BROKEN: { status: 500, title: 'Audit chain verification failed', retryable: false },
  QLK_SIGNATURE_INVALID: {
    status: 401,
    title: 'Webhook signature missing, stale or wrong',
    retryable: false,
  },
  QLK_UNKNOWN_SOURCE: {
    status: 404,
    title: 'No ingress source of that name is configured',
    retryable: false,
  },
  // Connector egress (src/connectors/sdk/egress.ts). Retryable ones are retried by the engine;
  // an ambiguous failure is safe to retry only because connectors read back before re-posting.
  QLK_EGRESS_DENIED: {
    status: 403,
    title: 'Outbound URL is not on the connector egress allowlist',
    retryable: false,
  },
  QLK_EGRESS_ADDRESS_BLOCKED: {
    status: 403,
    title: 'Outbound host resolves to a blocked address (loopback, link-local, metadata, unspecified)',
    retryable: false,
  },
  QLK_EGRESS_REDIRECT: {
    status: 502,
    title: 'Remote redirected to another origin; not followed',
    retryable: false,
  },
  QLK_EGRESS_NETWORK: { status: 502, title: 'Remote unreachable; the request was not sent', retryable: true },
  QLK_EGRESS_TIMEOUT: {
    status: 504,
    title: 'Remote did not answer within the connector timeout',
    retryable: true,
  },
  QLK_EGRESS_AMBIGUOUS: {
    status: 502,
    title: 'Connection lost after the request was sent; outcome unknown until read back',
    retryable: true,
  },
  QLK_CIRCUIT_OPEN: { status: 503, title: 'Circuit breaker open for this remote target', retryable: true },
  QLK_REMOTE_RATE_LIMITED: { status: 429, title: 'Remote asked to slow down (429)', retryable: true },
  QLK_REMOTE_UNAVAILABLE: {
    status: 502,
    title: 'Remote answered with a server error (5xx)',
    retryable: true,
  },
  QLK_REMOTE_REJECTED: { status: 502, title: 'Remote refused the request (4xx)', retryable: false },
  QLK_REMOTE_INVALID_RESPONSE: {
    status: 502,
    title: 'Remote answer could not be understood',
    retryable: true,
  },
  QLK_REMOTE_TOO_LARGE: {
    status: 502,
    title: 'Remote answer exceeds the connector response size limit',
    retryable: false,
  },
  QLK_REMOTE_CONFLICT: {
    status: 409,
    title: 'Remote state contradicts the requested effect; needs a person',
    retryable: false,
  },
  QLK_RECONCILIATION_OFF: {
    status: 409,
    title: 'Reconciliation is not configured on this deployment (no ERP port or no schedule)',
    retryable: false,
  },
  QLK_UNAUTHENTICATED: { status: 401, title: 'Authentication required', retryable: false },
  QLK_FORBIDDEN: { status: 403, title: 'The role of the caller does not allow this', retryable: false },
  QLK_AUTH_UNAVAILABLE: {
    status: 503,
    title: 'The identity provider’s signing keys could not be fetched',
    retryable: true,
  },
  // Electronic signatures (src/signatures, 21 CFR Part 11 §11.50, §11.70, §11.200).
  QLK_REAUTH_FAILED: {
    status: 401,
    title: 'Signer re-authentication failed; nothing signed',
    retryable: false,
  },
  QLK_SIGNATURE_DUPLICATE: {
    status: 409,
    title: 'This person already signed this record version',
    retryable: false,
  },
  QLK_TWO_PERSON_SAME_SIGNER: {
    status: 403,
    title: 'The second signature of a two-person rule must be another person’s',
    retryable: false,
  },
  QLK_RECORD_CHANGED: {
    status: 409,
    title: 'The record changed since it was previewed or signed; preview again',
    retryable: false,
  },
  QLK_SIGNATURES_REQUIRED: {
    status: 403,
    title: 'Signatures of two different people are required first',
    retryable: false,
  },
  // Field-level encryption at rest (src/security/encryption.ts).
  QLK_KEY_UNAVAILABLE: {
    status: 500,
    title: 'A value is encrypted under a key that is not configured',
    retryable: false,
  },
  QLK_DECRYPT_FAILED: {
    status: 500,
    title: 'An encrypted value did not authenticate under its key',
    retryable: false,
  },
  // Abuse limits on /v1 (src/server/rate-limit.ts).
  QLK_RATE_LIMITED: {
    status: 429,
    title: 'Too many requests from this API key or token subject; retry after Retry-After',
    retryable: true,
  },
  QLK_PROMOTION_REFUSED: {
    status: 409,
    title: 'Configuration not promoted: its synthetic run did not pass',
    retryable: false,
  },
  QLK_ROLLBACK_UNAVAILABLE: {
    status: 409,
    title: 'No earlier promoted configuration to roll back to',
    retryable: false,
  },
  QLK_INTERNAL: { status: 500, title: 'Internal error', retryable: true },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERRORS

export interface FieldProblem {
  /** JSON Pointer-like path of the offending field, e.g. `/data/quantity/value` */
  readonly path: string
  /** the rule it broke, in words */
  readonly message: string
}

/** An error with a stable catalogue code. `errors` names each offending field and rule. */
export class QualinkError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly errors: readonly FieldProblem[]

  constructor(
    code: ErrorCode,
    detail: string,
    errors: readonly FieldProblem[] = [],
    options?: { cause?: unknown },
  ) {
    super(detail, options)
    this.name = 'QualinkError'
    this.code = code
    this.status = ERRORS[code].status
    this.retryable = ERRORS[code].retryable
    this.errors = errors
  }
}

export function isQualinkError(e: unknown): e is QualinkError {
  return e instanceof QualinkError
}

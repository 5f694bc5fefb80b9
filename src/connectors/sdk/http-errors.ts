/**
 * How an HTTP exchange maps onto the engine's failure taxonomy (src/engine/errors.ts). The
 * subclasses keep `instanceof RetryableError / PermanentError` true, so the engine classifies
 * them, and add what a connector needs to decide (remote code, ambiguity).
 */
import { PermanentError, RetryableError } from '../../engine/errors.ts'

/** A retryable egress failure; `ambiguous` when the request may have been applied remotely. */
export class EgressFailure extends RetryableError {
  readonly ambiguous: boolean
  readonly status: number | undefined
  constructor(
    code: string,
    message: string,
    opts: { ambiguous: boolean; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(code, message, opts)
    this.name = 'EgressFailure'
    this.ambiguous = opts.ambiguous
    this.status = opts.status
  }
}

/** The remote refused (4xx): retrying the same request cannot help. */
export class RemoteRejected extends PermanentError {
  readonly status: number
  /** the remote's own error code when its body has one (SAP `QA/185`, Frappe exc_type, …) */
  readonly remoteCode: string | undefined
  readonly remoteMessage: string
  constructor(status: number, remote: RemoteError, context: string) {
    super(
      'QLK_REMOTE_REJECTED',
      `${context}: ${status}${remote.code ? ` ${remote.code}` : ''} ${remote.message}`,
    )
    this.name = 'RemoteRejected'
    this.status = status
    this.remoteCode = remote.code
    this.remoteMessage = remote.message
  }
}

export interface RemoteError {
  readonly code?: string
  readonly message: string
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * Pulls code and message out of the error bodies we meet: OData v2 `{ error: { code, message:
 * { value } } }`, `{ error: { code, message } }`, `{ message }`, Frappe `{ exc_type, exception }`,
 * else the start of the text. Remote text is untrusted (OWASP API10): it is cut to 300 chars.
 */
export function describeRemoteError(body: string): RemoteError {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return { message: body.slice(0, 300) || '(empty body)' }
  }
  if (typeof parsed !== 'object' || parsed === null) return { message: body.slice(0, 300) }
  const o = parsed as Record<string, unknown>
  const err =
    typeof o.error === 'object' && o.error !== null ? (o.error as Record<string, unknown>) : undefined
  if (err) {
    const m = err.message
    const message =
      str(m) ?? (typeof m === 'object' && m !== null ? str((m as Record<string, unknown>).value) : undefined)
    return { code: str(err.code), message: (message ?? JSON.stringify(err)).slice(0, 300) }
  }
  const message = str(o.message) ?? str(o.exception) ?? body
  return { code: str(o.exc_type) ?? str(o.code), message: message.slice(0, 300) }
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Network error codes that prove the request never left (the connection was never made). */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  // The TLS handshake refused the server's certificate: no request byte was written.
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
])

export function networkFailure(err: unknown, context: string): EgressFailure {
  // fetch wraps the socket error in `cause`; node:http (pinned-http.ts) and DNS throw it bare.
  const cause =
    (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause ??
    (err as { code?: unknown; message?: unknown } | undefined)
  const code = typeof cause?.code === 'string' ? cause.code : ''
  const detail =
    typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err)
  if (NOT_SENT.has(code))
    return new EgressFailure('QLK_EGRESS_NETWORK', `${context}: ${code} ${detail}`, {
      ambiguous: false,
      cause: err,
    })
  return new EgressFailure(
    'QLK_EGRESS_AMBIGUOUS',
    `${context}: connection lost (${code || detail}); read back before retrying`,
    {
      ambiguous: true,
      cause: err,
    },
  )
}

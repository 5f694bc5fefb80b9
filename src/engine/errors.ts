import { isQualinkError } from '../contracts/errors.ts'

/**
 * Failure taxonomy, after Temporal's: a failure says whether retrying can help. Anything that
 * is not classified is treated as retryable (a timeout, a reset connection), bounded by the
 * workflow's retry policy.
 */
export class RetryableError extends Error {
  readonly code: string
  /** a delay the remote asked for (HTTP 429/503 Retry-After), honoured instead of the backoff when larger */
  readonly retryAfterMs: number | undefined
  constructor(code: string, message: string, opts: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'RetryableError'
    this.code = code
    this.retryAfterMs = opts.retryAfterMs
  }
}

export class PermanentError extends Error {
  readonly code: string
  constructor(code: string, message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'PermanentError'
    this.code = code
  }
}

/** Which connector instance (and target, `scheme://host:port`) a failure came from. */
export interface FailedAt {
  readonly connector?: string
  readonly target?: string
}

const FAILED_AT = Symbol.for('qualink.failedAt')

/**
 * Marks an error thrown by a connector's egress call or port method with the connector (and
 * target) it came from, keeping what an inner layer already set (the egress client knows the
 * target, the connector wrapper only the name). Non-objects pass unchanged.
 */
export function tagFailedAt<E>(e: E, at: FailedAt): E {
  if (typeof e !== 'object' || e === null) return e
  const before = (e as { [FAILED_AT]?: FailedAt })[FAILED_AT]
  Object.defineProperty(e, FAILED_AT, { value: { ...at, ...before }, configurable: true })
  return e
}

export function failedAtOf(e: unknown): FailedAt | undefined {
  return typeof e === 'object' && e !== null ? (e as { [FAILED_AT]?: FailedAt })[FAILED_AT] : undefined
}

export interface Classified {
  readonly retryable: boolean
  readonly code: string
  readonly message: string
  readonly retryAfterMs?: number
  /** the connector whose call failed, when a connector threw it */
  readonly failedAt?: FailedAt
}

export function classify(e: unknown): Classified {
  const at = failedAtOf(e)
  const failedAt = at ? { failedAt: at } : {}
  if (e instanceof PermanentError) return { retryable: false, code: e.code, message: e.message, ...failedAt }
  if (e instanceof RetryableError)
    return { retryable: true, code: e.code, message: e.message, retryAfterMs: e.retryAfterMs, ...failedAt }
  if (isQualinkError(e)) return { retryable: e.retryable, code: e.code, message: e.message, ...failedAt }
  const message = e instanceof Error ? e.message : String(e)
  return { retryable: true, code: 'QLK_INTERNAL', message, ...failedAt }
}

/** Thrown inside a run to end this execution while the run waits durably; never escapes the engine. */
export class Suspended extends Error {
  constructor() {
    super('run suspended')
    this.name = 'Suspended'
  }
}

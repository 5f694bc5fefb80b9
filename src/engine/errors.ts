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

export interface Classified {
  readonly retryable: boolean
  readonly code: string
  readonly message: string
  readonly retryAfterMs?: number
}

export function classify(e: unknown): Classified {
  if (e instanceof PermanentError) return { retryable: false, code: e.code, message: e.message }
  if (e instanceof RetryableError)
    return { retryable: true, code: e.code, message: e.message, retryAfterMs: e.retryAfterMs }
  if (isQualinkError(e)) return { retryable: e.retryable, code: e.code, message: e.message }
  const message = e instanceof Error ? e.message : String(e)
  return { retryable: true, code: 'QLK_INTERNAL', message }
}

/** Thrown inside a run to end this execution while the run waits durably; never escapes the engine. */
export class Suspended extends Error {
  constructor() {
    super('run suspended')
    this.name = 'Suspended'
  }
}

/** What the engine does with a step: retry RetryableErrors with the same idempotency key (no backoff here). */
import { RetryableError } from '../../src/engine/errors.ts'

export async function asEngine<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (e) {
      if (!(e instanceof RetryableError) || i >= attempts) throw e
    }
  }
}

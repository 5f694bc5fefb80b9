import { QualinkError } from '../../contracts/errors.ts'

/**
 * A raw delivery's JSON body, for a translator; not JSON ⇒ QLK_MALFORMED_JSON (the translation
 * stage dead-letters it with the raw body). `what` names the payload in the message.
 */
export function parseJsonBody<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T
  } catch (e) {
    throw new QualinkError('QLK_MALFORMED_JSON', `${what} is not JSON: ${(e as Error).message}`, [
      { path: '/', message: 'is not valid JSON' },
    ])
  }
}

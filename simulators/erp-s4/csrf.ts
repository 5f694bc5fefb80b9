/**
 * SAP Gateway's CSRF protection: a GET with `x-csrf-token: fetch` returns a token that every
 * modifying request must echo; otherwise 403 with `x-csrf-token: Required` and the plain-text body
 * "CSRF token validation failed". Tokens are checked by value only (the real one is bound to the
 * session cookie too; this simulator also sets that cookie so clients that keep it behave right).
 */
import { randomBytes } from 'node:crypto'
import { HttpError, type SimRequest } from '../shared/http.ts'

const MODIFYING = new Set(['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE'])

export class CsrfTokens {
  private readonly valid = new Set<string>()

  /** Headers to add to a GET response when the client asked for a token. */
  issueIfAsked(req: SimRequest): Record<string, string> {
    if (req.method !== 'GET' || (req.header('x-csrf-token') ?? '').toLowerCase() !== 'fetch') return {}
    const token = randomBytes(16).toString('base64')
    this.valid.add(token)
    return {
      'x-csrf-token': token,
      'set-cookie': `SAP_SESSIONID_SIM=${randomBytes(8).toString('hex')}; Path=/; HttpOnly`,
    }
  }

  check(req: SimRequest): void {
    if (!MODIFYING.has(req.method)) return
    const token = req.header('x-csrf-token')
    if (!token || !this.valid.has(token)) {
      throw new HttpError(403, 'CSRF token validation failed', { 'x-csrf-token': 'Required' })
    }
  }

  /** Simulates a session timeout: every issued token stops working. */
  expireAll(): void {
    this.valid.clear()
  }

  get issued(): number {
    return this.valid.size
  }
}

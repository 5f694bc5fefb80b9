/**
 * Webhook signatures in the Stripe-style scheme the QMS and CRM simulators use:
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 over "${t}.${rawBody}">`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export function signPayload(secret: string, timestamp: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')
  return `t=${timestamp},v1=${mac}`
}

/** For tests and examples; the real verifier belongs to the connector SDK. */
export function verifySignature(secret: string, header: string, rawBody: string | Buffer): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]))
  const t = Number(parts.t)
  if (!Number.isInteger(t) || !parts.v1) return false
  const expected = Buffer.from(signPayload(secret, t, rawBody).split('v1=')[1] ?? '', 'hex')
  const got = Buffer.from(parts.v1, 'hex')
  return got.length === expected.length && timingSafeEqual(got, expected)
}

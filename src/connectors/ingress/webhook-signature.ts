import { createHmac, timingSafeEqual } from 'node:crypto'
import { QualinkError } from '../../contracts/errors.ts'

export interface SignatureConfig {
  /** current and, during rotation, previous secret: either verifies */
  readonly secrets: readonly string[]
  /** how far the signed timestamp may be from now (Stripe's default: 300 s) */
  readonly toleranceSeconds?: number
}

/**
 * Verifies `t=<unix seconds>,v1=<hex>` where v1 = HMAC-SHA256(secret, `${t}.${rawBody}`), the
 * Stripe scheme (docs.stripe.com/webhooks#verify-manually): over the raw bytes before any JSON
 * parsing, in constant time, against every configured secret, refusing stale timestamps so a
 * captured delivery cannot be replayed later.
 */
export function verifyWebhookSignature(
  header: string | undefined,
  rawBody: Buffer,
  cfg: SignatureConfig,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): void {
  const refuse = (message: string) =>
    new QualinkError('QLK_SIGNATURE_INVALID', `webhook signature refused: ${message}`, [
      { path: '/headers/signature', message },
    ])
  if (!header) throw refuse('the signature header is missing')
  const parts = new Map<string, string[]>()
  for (const item of header.split(',')) {
    const [k, v] = item.split('=', 2).map((x) => x.trim())
    if (k && v) parts.set(k, [...(parts.get(k) ?? []), v])
  }
  const t = parts.get('t')?.[0]
  const sigs = parts.get('v1') ?? []
  if (!t || !/^\d{1,12}$/.test(t) || sigs.length === 0) throw refuse('expected t=<unix seconds>,v1=<hex>')
  const tolerance = cfg.toleranceSeconds ?? 300
  if (Math.abs(nowSeconds - Number(t)) > tolerance) {
    throw refuse(`timestamp ${t} is more than ${tolerance} s from now`)
  }
  const signed = Buffer.concat([Buffer.from(`${t}.`), rawBody])
  for (const secret of cfg.secrets) {
    const expected = createHmac('sha256', secret).update(signed).digest()
    for (const s of sigs) {
      const given = /^[0-9a-f]{64}$/i.test(s) ? Buffer.from(s, 'hex') : Buffer.alloc(0)
      if (given.length === expected.length && timingSafeEqual(given, expected)) return
    }
  }
  throw refuse('no configured secret produces this signature')
}

/**
 * Verifies Frappe's webhook signature (frappe/integrations/doctype/webhook/webhook.py:
 * `X-Frappe-Webhook-Signature` = base64 HMAC-SHA256 of the body under the Webhook Secret), over the
 * raw bytes, in constant time, against every configured secret. Frappe signs no timestamp, so
 * a replay is caught only by delivery deduplication (the route keys a Frappe delivery by its body).
 */
export function verifyFrappeSignature(
  header: string | undefined,
  rawBody: Buffer,
  secrets: readonly string[],
): void {
  const refuse = (message: string) =>
    new QualinkError('QLK_SIGNATURE_INVALID', `webhook signature refused: ${message}`, [
      { path: '/headers/signature', message },
    ])
  if (!header) throw refuse('the signature header is missing')
  const given = /^[A-Za-z0-9+/]{43}=$/.test(header.trim())
    ? Buffer.from(header.trim(), 'base64')
    : Buffer.alloc(0)
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest()
    if (given.length === expected.length && timingSafeEqual(given, expected)) return
  }
  throw refuse('no configured secret produces this signature (base64 HMAC-SHA256 of the body)')
}

export function signWebhook(
  secret: string,
  rawBody: Buffer | string,
  t: number = Math.floor(Date.now() / 1000),
): string {
  const mac = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex')
  return `t=${t},v1=${mac}`
}

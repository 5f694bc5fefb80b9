import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * Every dashboard response: scripts and styles from this origin only (htmx is served from
 * /ui/htmx.min.js and configured not to inject styles or eval), no framing, no referrer, no
 * MIME sniffing. `form-action 'self'` keeps the no-JavaScript form posts working.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

export async function addSecurityHeaders(_req: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.headers(SECURITY_HEADERS)
}

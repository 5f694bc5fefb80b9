import type { FastifyRequest } from 'fastify'
import { QualinkError } from '../contracts/errors.ts'

type Headers = Record<string, string | string[] | undefined>

/**
 * Why a state-changing dashboard request must be refused as cross-site, or undefined to let it
 * through. OWASP CSRF Prevention Cheat Sheet, "Fetch Metadata headers" and "Verifying origin
 * with standard headers":
 * - `Sec-Fetch-Site` (sent by Chromium, Firefox 90+, Safari 16.4+) must be `same-origin`;
 * - without it, `Origin` must be this host. The dashboard sends `Referrer-Policy: no-referrer`,
 *   under which a browser's own POST carries `Origin: null` (Fetch standard, "append a request
 *   Origin header"), so `null` cannot be trusted either way and is refused;
 * - with neither header the client is not a browser (curl, scripts, tests): a browser always
 *   sends one of them on a cross-site POST, so no forged browser request gets through here.
 */
export function crossSiteRefusal(headers: Headers, scheme: 'http' | 'https'): string | undefined {
  const site = headers['sec-fetch-site']
  if (typeof site === 'string') {
    return site === 'same-origin' ? undefined : `the request came from another site (Sec-Fetch-Site: ${site})`
  }
  const origin = headers.origin
  if (typeof origin !== 'string') return undefined
  const host = headers.host
  if (typeof host === 'string' && origin === `${scheme}://${host}`) return undefined
  return `the request came from another origin (Origin: ${origin})`
}

/** onRequest hook for the dashboard's POST actions: a cross-site form post is refused with 403. */
export async function refuseCrossSite(req: FastifyRequest): Promise<void> {
  const why = crossSiteRefusal(req.headers, req.protocol === 'https' ? 'https' : 'http')
  if (why) {
    throw new QualinkError('QLK_FORBIDDEN', `Action refused: ${why}. Use the dashboard itself.`, [
      {
        path: '/headers/sec-fetch-site',
        message: 'dashboard actions must come from the dashboard’s own pages',
      },
    ])
  }
}

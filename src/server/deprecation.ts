import type { FastifyInstance, RouteOptions } from 'fastify'

/**
 * A route being retired, declared where the route is: `app.get(url, { config: { deprecation } })`.
 * Its answers then carry the headers below and /openapi.json marks the operation deprecated, so
 * a client learns it at every call, not from release notes.
 */
export interface RouteDeprecation {
  /** when the route is (or will be) deprecated: an ISO date or timestamp */
  readonly since: string
  /** when it will stop answering: an ISO date or timestamp, not before `since` */
  readonly sunset?: string
  /** the path to move to, e.g. `/v1/lots/{id}` */
  readonly successor?: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    deprecation?: RouteDeprecation
  }
}

function timeOf(route: string, field: string, value: unknown): number {
  const t = typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (Number.isNaN(t))
    throw new Error(
      `route ${route}: deprecation.${field} must be an ISO date or timestamp (got ${String(value)})`,
    )
  return t
}

/**
 * The response headers of a deprecated route:
 * - `Deprecation: @<epoch seconds>`, a structured-field date (RFC 9745 §2.1);
 * - `Sunset: <HTTP-date>` when a removal date is set (RFC 8594), never earlier than the
 *   deprecation (RFC 9745 §4 says it MUST NOT be);
 * - `Link: <successor>; rel="successor-version"` (RFC 5829) when there is one.
 * A bad declaration throws at registration, so a typo cannot reach a client.
 */
export function deprecationHeaders(route: string, d: RouteDeprecation): Record<string, string> {
  const since = timeOf(route, 'since', d.since)
  const headers: Record<string, string> = { deprecation: `@${Math.floor(since / 1000)}` }
  if (d.sunset !== undefined) {
    const sunset = timeOf(route, 'sunset', d.sunset)
    if (sunset < since)
      throw new Error(`route ${route}: deprecation.sunset is earlier than deprecation.since`)
    headers.sunset = new Date(sunset).toUTCString()
  }
  if (d.successor !== undefined) {
    if (!/^\/[\w\-./{}]*$/.test(d.successor))
      throw new Error(`route ${route}: deprecation.successor must be a path starting with /`)
    headers.link = `<${d.successor}>; rel="successor-version"`
  }
  return headers
}

/** Sends each deprecated route's headers on every answer of it, errors included. */
export function registerDeprecationHeaders(app: FastifyInstance): void {
  const byRoute = new Map<string, Record<string, string>>()
  app.addHook('onRoute', (r: RouteOptions) => {
    const d = (r.config as { deprecation?: RouteDeprecation } | undefined)?.deprecation
    if (!d) return
    const headers = deprecationHeaders(r.url, d)
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) byRoute.set(`${m} ${r.url}`, headers)
  })
  app.addHook('onSend', async (req, reply, payload) => {
    const headers = byRoute.get(`${req.method} ${req.routeOptions.url}`)
    if (headers) reply.headers(headers)
    return payload
  })
}

import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { deprecationHeaders, type RouteDeprecation, registerDeprecationHeaders } from './deprecation.ts'
import { collectRoutes, openapiDocument } from './openapi.ts'

/** A retiring route as buildApp wires it: route collection, the headers hook, the document. */
async function appWith(deprecation: RouteDeprecation) {
  const app = Fastify()
  const routes = collectRoutes(app)
  registerDeprecationHeaders(app)
  app.get('/openapi.json', async () => openapiDocument(routes, '1'))
  app.get('/v1/old-lots/:id', { config: { deprecation } }, async (req) => {
    if ((req.params as { id: string }).id === 'missing')
      throw Object.assign(new Error('no'), { statusCode: 404 })
    return { ok: true }
  })
  app.get('/v1/lots/:id', async () => ({ ok: true }))
  await app.ready()
  return app
}

describe('deprecation headers for retiring routes', () => {
  it('a deprecated route answers Deprecation, Sunset and its successor on every answer; others carry none', async () => {
    const app = await appWith({ since: '2026-12-01', sunset: '2027-06-30', successor: '/v1/lots/{id}' })
    const r = await app.inject({ method: 'GET', url: '/v1/old-lots/B1' })
    expect(r.statusCode).toBe(200)
    // RFC 9745: an sf-date, seconds since the epoch; RFC 8594: an HTTP-date
    expect(r.headers.deprecation).toBe(`@${Date.UTC(2026, 11, 1) / 1000}`)
    expect(r.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT')
    expect(r.headers.link).toBe('</v1/lots/{id}>; rel="successor-version"')
    // an error answer of the retiring route says it too
    const missing = await app.inject({ method: 'GET', url: '/v1/old-lots/missing' })
    expect(missing.statusCode).toBe(404)
    expect(missing.headers.deprecation).toBe(r.headers.deprecation)
    const current = await app.inject({ method: 'GET', url: '/v1/lots/B1' })
    expect(current.headers.deprecation).toBeUndefined()
    expect(current.headers.sunset).toBeUndefined()

    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    expect(doc.paths['/v1/old-lots/{id}'].get).toMatchObject({
      deprecated: true,
      description: 'Deprecated since 2026-12-01. Stops answering on 2027-06-30. Use /v1/lots/{id} instead.',
    })
    expect(doc.paths['/v1/lots/{id}'].get.deprecated).toBeUndefined()
    await app.close()
  })

  it('refuses a declaration a client could not read, naming the route and field', async () => {
    await expect(appWith({ since: 'next spring' })).rejects.toThrow(
      'route /v1/old-lots/:id: deprecation.since must be an ISO date or timestamp (got next spring)',
    )
    expect(() => deprecationHeaders('/v1/x', { since: '2027-01-01', sunset: '2026-01-01' })).toThrow(
      'route /v1/x: deprecation.sunset is earlier than deprecation.since',
    )
    expect(() =>
      deprecationHeaders('/v1/x', { since: '2027-01-01', successor: 'https://evil.example/' }),
    ).toThrow('route /v1/x: deprecation.successor must be a path starting with /')
    // without a sunset or successor, only the Deprecation header
    expect(deprecationHeaders('/v1/x', { since: '2027-01-01T00:00:00Z' })).toEqual({
      deprecation: `@${Date.UTC(2027, 0, 1) / 1000}`,
    })
  })
})

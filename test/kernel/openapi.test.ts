import { describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/contracts/errors.ts'
import { useQualink } from '../qualink-fixture.ts'

describe('the OpenAPI 3.1 document', () => {
  const bed = useQualink('sqlite', 'suite')

  it('is generated from the route schemas and lists every /v1 route', async () => {
    const doc = (await bed.q.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    expect(doc.openapi).toBe('3.1.0')
    const paths = Object.keys(doc.paths)
    for (const p of [
      '/v1/events',
      '/v1/events/{id}',
      '/v1/runs/{id}/cancel',
      '/v1/dead-letters/replay',
      '/v1/lots/{id}/trace',
      '/v1/drift',
      '/v1/xref',
    ])
      expect(paths).toContain(p)
    expect(Object.keys(doc.paths['/v1/events'])).toEqual(expect.arrayContaining(['get', 'post']))
    const cancel = doc.paths['/v1/runs/{id}/cancel'].post
    expect(cancel.requestBody.content['application/json'].schema.required).toEqual(['reason'])
    expect(cancel.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ])
    const trace = doc.paths['/v1/lots/{id}/trace'].get.parameters.map((p: { name: string }) => p.name)
    expect(trace).toEqual(['id', 'direction', 'depth', 'limit', 'cursor', 'exactCounts'])
    expect(doc.components.schemas.Problem.properties.code.enum).toEqual(Object.keys(ERRORS))
    expect(paths.some((p) => p.startsWith('/ui'))).toBe(false)
  })

  it('has a docs page rendered from the same document: every operation, its parameters and body', async () => {
    const doc = (await bed.q.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    const r = await bed.q.app.inject({ method: 'GET', url: '/ui/api' })
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toMatch(/^text\/html/)
    expect(r.headers['content-security-policy']).toContain("script-src 'self'")
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) =>
      Object.keys(m).map((x) => `${x.toUpperCase()} ${p}`),
    )
    const shown = [...r.body.matchAll(/<section class="api-op" id="[^"]+" data-op="([^"]+)">/g)].map(
      (m) => m[1],
    )
    expect(shown.sort()).toEqual(ops.sort())
    expect(r.body).toContain(`${ops.length} operations`)
    const cancel = r.body.slice(r.body.indexOf('data-op="POST /v1/runs/{id}/cancel"')).split('</section>')[0]!
    expect(cancel).toContain('<td><code>id</code></td><td>path</td><td>string</td><td>yes</td>')
    expect(cancel).toContain('&quot;reason&quot;')
    expect(r.body).toContain('<a href="/openapi.json">')
    // no route is being retired today: nothing is marked deprecated
    expect(r.body).not.toContain('badge warn">deprecated')
  })
})

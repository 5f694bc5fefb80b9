import path from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/contracts/errors.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'

describe('the OpenAPI 3.1 document', () => {
  let db: TestDatabase
  let store: Store
  let q: Qualink

  beforeAll(async () => {
    db = await createTestDatabase('sqlite')
    store = await db.open()
    q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, 'a.jsonl'),
    })
  })
  afterAll(async () => {
    await q?.close()
    await store?.close()
    await db?.cleanup()
  })

  it('is generated from the route schemas and lists every /v1 route', async () => {
    const doc = (await q.app.inject({ method: 'GET', url: '/openapi.json' })).json()
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
})

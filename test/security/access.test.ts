import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../src/server/auth.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { type DemoHub, startDemoHub, until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'

const KEYS = {
  p100Viewer: 'k-viewer-p100-4b1c9e7f2a',
  p100Operator: 'k-operator-p100-90a7d3c1e5',
  p200Operator: 'k-operator-p200-1f4e6a8c2d',
  admin: 'k-admin-all-7c2e9b4d1a',
} as const

describe.each(DIALECTS)('authentication and plant-scoped access on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined
  let store: Store
  let q: Qualink

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      apiKeys: [
        { id: 'viewer-p100', sha256: hashApiKey(KEYS.p100Viewer), roles: ['viewer'], plants: ['P100'] },
        { id: 'operator-p100', sha256: hashApiKey(KEYS.p100Operator), roles: ['operator'], plants: ['P100'] },
        { id: 'operator-p200', sha256: hashApiKey(KEYS.p200Operator), roles: ['operator'], plants: ['P200'] },
        { id: 'admin', sha256: hashApiKey(KEYS.admin), roles: ['admin', 'auditor'], plants: ['*'] },
      ],
    })
    ;({ q, store } = hub)
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  const call = (
    key: string | undefined,
    method: 'GET' | 'POST',
    url: string,
    payload?: object,
    contentType = 'application/json',
  ) =>
    q.app.inject({
      method,
      url,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(payload ? { 'content-type': contentType } : {}),
      },
      payload: payload ? JSON.stringify(payload) : undefined,
    })

  it('refuses missing and wrong keys (broken authentication), nothing stored', async () => {
    const e = ping()
    for (const key of [undefined, 'not-a-key']) {
      const r = await call(key, 'POST', '/v1/events', e, 'application/cloudevents+json')
      expect(r.statusCode).toBe(401)
      expect(r.json()).toMatchObject({ code: 'QLK_UNAUTHENTICATED' })
    }
    expect((await call(undefined, 'GET', '/healthz')).statusCode).toBe(200)
    expect(await store.listEvents({ allPlants: true, reason: 'test' }, { limit: 10 })).toEqual([])
  })

  it('answers another plant’s objects with 404, never their data (BOLA)', async () => {
    const theirs = ping({ plant: 'P200', subject: 'lot-200' })
    expect(
      (await call(KEYS.p200Operator, 'POST', '/v1/events', theirs, 'application/cloudevents+json'))
        .statusCode,
    ).toBe(202)
    const mine = ping({ plant: 'P100' })
    expect(
      (await call(KEYS.p100Operator, 'POST', '/v1/events', mine, 'application/cloudevents+json')).statusCode,
    ).toBe(202)
    expect((await call(KEYS.p100Viewer, 'GET', `/v1/events/${theirs.id}`)).statusCode).toBe(404)
    expect((await call(KEYS.p100Viewer, 'GET', `/v1/events/${mine.id}`)).statusCode).toBe(200)
    const listed = (await call(KEYS.p100Viewer, 'GET', '/v1/events')).json().events
    expect(listed.map((e: { plant: string }) => e.plant)).toEqual(['P100'])
    expect((await call(KEYS.admin, 'GET', '/v1/events')).json().events).toHaveLength(2)
  })

  it('keeps effects to their roles and plants (function-level authorization)', async () => {
    const order = {
      specversion: '1.0',
      id: 'order-p200',
      source: 'urn:test',
      type: 'qualink.demo.order_received.v1',
      subject: 'O-200',
      plant: 'P200',
      data: { order: 'O-200', lines: 1, failOnLine: 1 },
    }
    expect(
      (await call(KEYS.p200Operator, 'POST', '/v1/events', order, 'application/cloudevents+json')).statusCode,
    ).toBe(202)
    await until(
      async () => (await call(KEYS.admin, 'GET', '/v1/dead-letters')).json().deadLetters.length === 1,
    )
    const [dl] = (await call(KEYS.admin, 'GET', '/v1/dead-letters')).json().deadLetters
    // A viewer may not replay; an operator of another plant does not even see it.
    expect((await call(KEYS.p100Viewer, 'POST', `/v1/dead-letters/${dl.id}/replay`)).json()).toMatchObject({
      status: 403,
      code: 'QLK_FORBIDDEN',
    })
    expect((await call(KEYS.p100Operator, 'POST', `/v1/dead-letters/${dl.id}/replay`)).statusCode).toBe(404)
    expect((await call(KEYS.p100Operator, 'GET', '/v1/dead-letters')).json().deadLetters).toEqual([])
    // Discarding is an administrator's decision; an operator may replay.
    expect(
      (await call(KEYS.p200Operator, 'POST', `/v1/dead-letters/${dl.id}/discard`, { reason: 'duplicate' }))
        .statusCode,
    ).toBe(403)
    expect((await call(KEYS.p200Operator, 'POST', `/v1/dead-letters/${dl.id}/replay`)).statusCode).toBe(202)
    expect((await call(KEYS.p100Operator, 'GET', '/v1/audit/verify')).statusCode).toBe(403)
    expect((await call(KEYS.admin, 'GET', '/v1/audit/verify')).statusCode).toBe(200)
    // Audit entries name the key, not a self-declared actor header.
    const replayed = await store.listAudit(
      { allPlants: true, reason: 'test' },
      { action: 'dead_letter.replayed', limit: 5 },
    )
    expect(replayed[0]?.actor).toBe('api:operator-p200')
  })

  it('refuses to listen beyond loopback without authentication', async () => {
    await expect(
      startQualink({ store, host: '0.0.0.0', port: 0, logger: pino({ level: 'silent' }) }),
    ).rejects.toMatchObject({
      code: 'QLK_CONFIG_INVALID',
    })
  })
})

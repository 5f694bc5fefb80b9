import { generateKeyPair } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Authenticator, hashApiKey } from '../../src/server/auth.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, type DemoHub, startDemoHub } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { AUDIENCE, ISSUER, startTestIdp, type TestIdp, unsignedToken } from './jwks-server.ts'

const ADMIN_KEY = 'k-admin-all-3e8b1d6c0f'

let idp: TestIdp
beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => idp?.close())

describe.each(DIALECTS)('OIDC bearer tokens verified against a JWKS on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      apiKeys: [{ id: 'admin', sha256: hashApiKey(ADMIN_KEY), roles: ['admin'], plants: ['*'] }],
      oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: idp.jwksUrl, clockToleranceSeconds: 5 },
    })
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  const call = (token: string, method: 'GET' | 'POST', url: string, event?: object) =>
    hub!.q.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(event ? { 'content-type': 'application/cloudevents+json' } : {}),
      },
      payload: event ? JSON.stringify(event) : undefined,
    })

  it('accepts a valid token with the roles and plants of its claims, next to API keys', async () => {
    const operator = await idp.token({ sub: 'ana@p100', roles: ['operator'], plants: ['P100'] })
    const mine = ping({ plant: 'P100' })
    expect((await call(operator, 'POST', '/v1/events', mine)).statusCode).toBe(202)
    // The roles claim limits the token: an operator may not discard, a viewer may not ingest.
    const viewer = await idp.token({ sub: 'vic@p100', roles: ['viewer'], plants: ['P100'] })
    const refused = await call(viewer, 'POST', '/v1/events', ping({ plant: 'P100' }))
    expect(refused.json()).toMatchObject({ status: 403, code: 'QLK_FORBIDDEN' })
    expect((await call(viewer, 'GET', `/v1/events/${mine.id}`)).json()).toMatchObject({ id: mine.id })
    // The audit trail names the token's subject.
    const audit = await hub!.store.listAudit(ALL, { subject: String(mine.subject), limit: 10 })
    expect(audit.map((a) => a.actor)).toContain('api:ana@p100')
    // API keys still work beside tokens.
    expect((await call(ADMIN_KEY, 'GET', '/v1/events')).json().events).toHaveLength(1)
  })

  it('enforces the plants claim: another plant’s object answers 404 (BOLA)', async () => {
    const theirs = ping({ plant: 'P200', subject: 'lot-200' })
    expect((await call(ADMIN_KEY, 'POST', '/v1/events', theirs)).statusCode).toBe(202)
    const p100 = await idp.token({ sub: 'vic@p100', roles: ['viewer'], plants: ['P100'] })
    expect((await call(p100, 'GET', `/v1/events/${theirs.id}`)).json()).toMatchObject({
      status: 404,
      code: 'QLK_NOT_FOUND',
    })
    expect((await call(p100, 'GET', '/v1/events')).json().events).toEqual([])
    const p200 = await idp.token({ sub: 'pia@p200', roles: ['viewer'], plants: ['P200'] })
    expect((await call(p200, 'GET', `/v1/events/${theirs.id}`)).statusCode).toBe(200)
  })

  it('refuses expired, wrong-issuer, wrong-audience, wrong-key and unsigned tokens with 401', async () => {
    const claims = { sub: 'ana@p100', roles: ['admin'], plants: ['*'] }
    const other = await generateKeyPair('ES256')
    const now = Math.floor(Date.now() / 1000)
    const bad = {
      expired: await idp.token({ ...claims, iat: now - 3600, exp: now - 600 }),
      'wrong issuer': await idp.token({ ...claims, iss: 'https://evil.example' }),
      'wrong audience': await idp.token({ ...claims, aud: 'another-api' }),
      'wrong key': await idp.token(claims, { key: other.privateKey }),
      'alg none': unsignedToken(claims),
    }
    const details: Record<string, string> = {}
    for (const [name, token] of Object.entries(bad)) {
      const r = await call(token, 'GET', '/v1/events')
      expect(r.statusCode, name).toBe(401)
      expect(r.json().code, name).toBe('QLK_UNAUTHENTICATED')
      details[name] = r.json().detail
    }
    expect(details.expired).toMatch(/expired/)
    expect(details['wrong issuer']).toMatch(/"iss"/)
    expect(details['wrong audience']).toMatch(/"aud"/)
    expect(details['wrong key']).toMatch(/not signed by the configured identity provider/)
    expect((await call(ADMIN_KEY, 'GET', '/v1/events')).statusCode).toBe(200)
  })

  it('lets a fresh token re-authenticate its own subject for signing, not an old one', async () => {
    const sign = (token: string, signer?: string) =>
      hub!.q.app.inject({
        method: 'POST',
        url: '/v1/signatures',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ record: { kind: 'bulk-replay', filter: {} }, meaning: 'reviewed', signer }),
      })
    const claims = { sub: 'qa@p100', name: 'Quinn Approver', roles: ['approver'], plants: ['*'] }
    const fresh = await sign(await idp.token(claims))
    expect(fresh.statusCode).toBe(201)
    expect(fresh.json()).toMatchObject({
      signerId: 'qa@p100',
      printedName: 'Quinn Approver',
      method: 'token',
    })
    const now = Math.floor(Date.now() / 1000)
    const stale = await sign(await idp.token({ ...claims, iat: now - 3600, auth_time: now - 3600 }))
    expect(stale.json()).toMatchObject({ status: 401, code: 'QLK_REAUTH_FAILED' })
    const other = await sign(await idp.token(claims), 'someone-else')
    expect(other.json()).toMatchObject({ status: 401, code: 'QLK_REAUTH_FAILED' })
    expect(await hub!.store.listAudit(ALL, { action: 'signature.signed', limit: 10 })).toHaveLength(1)
  })
})

describe('an unreachable identity provider', () => {
  it('answers 503 QLK_AUTH_UNAVAILABLE, not 401, while API keys keep working', async () => {
    // A port that was just listening and is now closed: connection refused.
    const gone = await startTestIdp()
    await gone.close()
    const hub = await startDemoHub('sqlite', {
      apiKeys: [{ id: 'admin', sha256: hashApiKey(ADMIN_KEY), roles: ['admin'], plants: ['*'] }],
      oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: gone.jwksUrl },
    })
    try {
      const token = await idp.token({ sub: 'ana@p100', roles: ['viewer'], plants: ['P100'] })
      const r = await hub.q.app.inject({ url: '/v1/events', headers: { authorization: `Bearer ${token}` } })
      expect(r.json()).toMatchObject({ status: 503, code: 'QLK_AUTH_UNAVAILABLE' })
      const k = await hub.q.app.inject({
        url: '/v1/events',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      })
      expect(k.statusCode).toBe(200)
    } finally {
      await hub.close()
    }
  })
})

describe('authentication configuration', () => {
  it('names the API key and the role that is not one of ROLES', () => {
    expect(
      () =>
        new Authenticator([
          { id: 'ok', sha256: hashApiKey('a'), roles: ['viewer'], plants: ['*'] },
          // biome-ignore lint/suspicious/noExplicitAny: a keys file read from JSON can hold anything
          { id: 'line-7', sha256: hashApiKey('b'), roles: ['viewer', 'superuser' as any], plants: ['P100'] },
        ]),
    ).toThrow(/API key line-7: role "superuser" is not one of viewer, operator, approver, admin, auditor/)
  })

  it('refuses alg none and shared-secret algorithms in the OIDC configuration', () => {
    for (const alg of ['none', 'HS256']) {
      expect(
        () =>
          new Authenticator([], {
            oidc: {
              issuer: ISSUER,
              audience: AUDIENCE,
              jwksUrl: 'http://127.0.0.1:1/jwks',
              algorithms: [alg],
            },
          }),
      ).toThrow(new RegExp(`"${alg}" is not allowed`))
    }
  })
})

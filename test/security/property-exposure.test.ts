/**
 * OWASP API3 (broken object property level authorization), issue 10: no answer carries a secret
 * (API keys or their hashes, password hashes of dashboard users and signers, a signer's password,
 * a session id), whatever GET route an admin-and-auditor key reads, the signed record included;
 * the secrets are not in the database either; and fields Qualink owns cannot be mass-assigned
 * (an event's `seq`, a signature's printed name or time, extra switches on a bulk replay).
 */
import pino from 'pino'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../src/server/auth.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { type DemoHub, demoEvent, startDemoHub } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'

const CHEAP = { N: 2 ** 14, r: 8, p: 1 }
const ADMIN_KEY = 'k-admin-exposure-6f1d3b9a2c'
const APPROVER_KEY = 'k-approver-exposure-0e7c5a3f81'
const SIGNER_PASSWORD = 'signer-secret-9d4e2b7c'
const USER_PASSWORD = 'user-secret-3a8f6c1d'
let signerHash: string
let userHash: string

beforeAll(async () => {
  signerHash = await hashPassword(SIGNER_PASSWORD, CHEAP)
  userHash = await hashPassword(USER_PASSWORD, CHEAP)
})

describe.each(DIALECTS)('property-level exposure on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  async function start(ctx: { skip: () => void }): Promise<DemoHub> {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      logger: pino({ level: 'silent' }),
      apiKeys: [
        { id: 'admin', sha256: hashApiKey(ADMIN_KEY), roles: ['admin', 'auditor'], plants: ['*'] },
        { id: 'approver', sha256: hashApiKey(APPROVER_KEY), roles: ['approver'], plants: ['*'] },
      ],
      users: [{ id: 'uma', name: 'Uma User', passwordHash: userHash, roles: ['auditor'], plants: ['*'] }],
      signatures: {
        signers: [{ id: 'sam', name: 'Sam Signer', passwordHash: signerHash, plants: ['*'] }],
        bulkReplayTwoPersonOver: 1,
      },
    })
    return hub
  }

  const call = (h: DemoHub, key: string, method: 'GET' | 'POST', url: string, body?: object, type?: string) =>
    h.q.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body ? { 'content-type': type ?? 'application/json' } : {}),
      },
      payload: body ? JSON.stringify(body) : undefined,
    })

  it('no answer and no stored row carries a key, a hash, a password or a session id', async (ctx) => {
    const h = await start(ctx)
    const e = demoEvent('order_received', { order: 'O-1', lines: 1 })
    expect(
      (await call(h, ADMIN_KEY, 'POST', '/v1/events', e, 'application/cloudevents+json')).statusCode,
    ).toBe(202)
    const signed = await call(h, APPROVER_KEY, 'POST', '/v1/signatures', {
      record: { kind: 'bulk-replay', filter: {} },
      meaning: 'approved',
      signer: 'sam',
      password: SIGNER_PASSWORD,
    })
    expect(signed.statusCode).toBe(201)
    const login = await h.q.app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      payload: new URLSearchParams({ user: 'uma', password: USER_PASSWORD }).toString(),
    })
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    const sessionId = cookie.split('=')[1]!
    const secrets = {
      ADMIN_KEY,
      APPROVER_KEY,
      adminKeyHash: hashApiKey(ADMIN_KEY),
      approverKeyHash: hashApiKey(APPROVER_KEY),
      SIGNER_PASSWORD,
      signerHash,
      USER_PASSWORD,
      userHash,
      sessionId,
    }

    // every GET route without path parameters, as the OpenAPI document lists them, and the
    // routes that show the objects made above
    const doc = (await h.q.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>
    }
    const urls = Object.entries(doc.paths)
      .filter(([p, ops]) => 'get' in ops && !p.includes('{'))
      .map(([p]) => p)
    urls.push(`/v1/events/${e.id}`, `/v1/signatures/${signed.json().id}`, '/metrics')
    expect(urls.length).toBeGreaterThan(10)
    const answers: string[] = []
    for (const url of urls) {
      const r = await call(h, ADMIN_KEY, 'GET', url)
      answers.push(`${url} ${r.statusCode} ${JSON.stringify(r.headers)} ${r.body}`)
    }
    for (const url of ['/ui', '/ui/lots', '/ui/exceptions', '/ui/connectors', '/ui/kpis']) {
      const r = await h.q.app.inject({ method: 'GET', url, headers: { cookie } })
      answers.push(`${url} ${r.statusCode} ${r.body}`)
    }
    expect(answers.filter((a) => / 200 /.test(a)).length).toBeGreaterThan(10)
    for (const [name, secret] of Object.entries(secrets))
      for (const a of answers) expect(a.includes(secret), `${name} in ${a.slice(0, 80)}`).toBe(false)

    // nor in the database: audit payloads, signatures, sessions (only the session id's hash)
    const tables = ['audit_log', 'signatures', 'dashboard_sessions']
    for (const t of tables) {
      const dump = JSON.stringify(await h.store.sql.all(`SELECT * FROM ${t}`))
      for (const [name, secret] of Object.entries(secrets))
        expect(dump.includes(secret), `${name} in table ${t}`).toBe(false)
    }
  })

  it('fields Qualink owns cannot be set by the caller (mass assignment), nothing stored', async (ctx) => {
    const h = await start(ctx)
    const spoof = ping({ seq: 424242 })
    const r = await call(h, ADMIN_KEY, 'POST', '/v1/events', spoof, 'application/cloudevents+json')
    expect(r.statusCode).toBe(400)
    expect(r.json()).toMatchObject({ code: 'QLK_VALIDATION', errors: [{ path: '/seq' }] })
    expect((await call(h, ADMIN_KEY, 'GET', `/v1/events/${spoof.id}`)).statusCode).toBe(404)

    // a signature's printed name, time and signer identity come from the server, never the body
    for (const extra of [
      { printedName: 'Someone Else' },
      { signedAt: '2020-01-01T00:00:00Z' },
      { valid: true },
    ]) {
      const s = await call(h, APPROVER_KEY, 'POST', '/v1/signatures', {
        record: { kind: 'bulk-replay', filter: {} },
        meaning: 'approved',
        signer: 'sam',
        password: SIGNER_PASSWORD,
        ...extra,
      })
      expect(s.statusCode).toBe(400)
      expect(s.json().code).toBe('QLK_VALIDATION')
    }
    expect(Number((await h.store.sql.all('SELECT COUNT(*) AS n FROM signatures'))[0]!.n)).toBe(0)
    // no switch in the body skips the two-person rule of a bulk replay
    const bypass = await call(h, ADMIN_KEY, 'POST', '/v1/dead-letters/replay', {
      signatures: 2,
      approved: true,
    })
    expect(bypass.statusCode).toBe(400)
    expect(bypass.json().code).toBe('QLK_VALIDATION')
  })
})

/**
 * OWASP API4 beyond API keys (issue 10): a dashboard user has a bucket of their own on /ui, and a
 * webhook source one on /v1/ingress/<source>, spent only once the delivery's signature holds (a
 * forger cannot spend it), with a per-source override. Refill is set far below the test's pace.
 */
import path from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { signWebhook } from '../../src/connectors/ingress/webhook-signature.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect } from '../dialects.ts'

const PASSWORD = 'limits-pass-9c2e'
const slow = (burst: number) => ({ ratePerSecond: 0.001, burst })

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.()
})

async function qualink(dialect: Dialect): Promise<{ q: Qualink; store: Store }> {
  const db = await createTestDatabase(dialect, { migrated: true })
  cleanups.push(() => db.cleanup())
  const store = await db.open()
  cleanups.push(() => store.close())
  const q = await startQualink({
    store,
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(db.dir, 'anchors.jsonl'),
    apiKeys: [{ id: 'ops', sha256: hashApiKey('k-ops-5f1a2b3c4d'), roles: ['viewer'], plants: ['*'] }],
    users: [
      {
        id: 'quinn',
        name: 'Quinn Quality',
        passwordHash: await hashPassword(PASSWORD, { N: 2 ** 14, r: 8, p: 1 }),
        roles: ['viewer'],
        plants: ['P100'],
      },
    ],
    apiLimits: { ...slow(100), webhooks: slow(3), callers: { quinn: slow(2), 'source:bulk-erp': slow(5) } },
    webhooks: [
      { name: 'qms', plant: 'P100', secrets: ['qms-secret'] },
      { name: 'mes', plant: 'P100', secrets: ['mes-secret'] },
      { name: 'bulk-erp', plant: 'P100', secrets: ['erp-secret'] },
    ],
  })
  cleanups.push(() => q.close())
  return { q, store }
}

let n = 0
function deliver(q: Qualink, source: string, secret: string) {
  const body = JSON.stringify({ n: ++n })
  return q.app.inject({
    method: 'POST',
    url: `/v1/ingress/${source}`,
    headers: {
      'content-type': 'application/json',
      'x-qualink-signature': signWebhook(secret, body),
      'x-delivery-id': `d-${process.pid}-${n}`,
    },
    payload: body,
  })
}

const stored = async (store: Store, source: string) => {
  const rows = (await store.sql.all('SELECT count(*) AS n FROM raw_deliveries WHERE source = ?', [
    source,
  ])) as Array<{
    n: number | string
  }>
  return Number(rows[0]!.n)
}

describe.each(DIALECTS)('per-caller limits beyond API keys on %s', (dialect: Dialect) => {
  it('a dashboard user over their burst gets 429 with Retry-After on /ui; an API key is not affected', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const { q } = await qualink(dialect)
    const login = await q.app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      payload: new URLSearchParams({ user: 'quinn', password: PASSWORD }).toString(),
    })
    expect(login.statusCode).toBe(303)
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    const page = () => q.app.inject({ method: 'GET', url: '/ui/lots', headers: { cookie } })
    expect((await page()).statusCode).toBe(200)
    expect((await page()).statusCode).toBe(200)
    const over = await page()
    expect(over.statusCode).toBe(429)
    // the dashboard answers with its own error page, naming the limit
    expect(over.headers['content-type']).toMatch(/text\/html/)
    expect(over.body).toMatch(/dashboard user quinn is over its limit of 0\.001 requests\/s \(burst 2\)/)
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    const key = await q.app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { authorization: 'Bearer k-ops-5f1a2b3c4d' },
    })
    expect(key.statusCode).toBe(200)
  })

  it('a webhook source over its budget gets 429 and stores nothing; forged deliveries spend none; sources apart', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const { q, store } = await qualink(dialect)
    // forged deliveries are refused by the signature check before the limiter sees them
    for (let i = 0; i < 5; i++) expect((await deliver(q, 'qms', 'not-the-secret')).statusCode).toBe(401)
    for (let i = 0; i < 3; i++) expect((await deliver(q, 'qms', 'qms-secret')).statusCode).toBe(202)
    const over = await deliver(q, 'qms', 'qms-secret')
    expect(over.statusCode).toBe(429)
    expect(over.json()).toMatchObject({ code: 'QLK_RATE_LIMITED' })
    expect(over.json().detail).toMatch(/webhook source qms .*burst 3/)
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(await stored(store, 'qms')).toBe(3)
    // another source has its own bucket; one with an override has its own size
    expect((await deliver(q, 'mes', 'mes-secret')).statusCode).toBe(202)
    for (let i = 0; i < 5; i++) expect((await deliver(q, 'bulk-erp', 'erp-secret')).statusCode).toBe(202)
    expect((await deliver(q, 'bulk-erp', 'erp-secret')).statusCode).toBe(429)
    expect(await stored(store, 'bulk-erp')).toBe(5)
  })
})

/**
 * OWASP API4 (unrestricted resource consumption), issue 10 item 6: per-caller rate limits on /v1
 * (a bucket per API key and per token subject; 429 QLK_RATE_LIMITED with Retry-After; shared by
 * the processes of one PostgreSQL database), bounded batch size, body size, page size and bulk
 * replay volume. Refill is set far below the test's pace, so no assertion depends on timing.
 */
import path from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../src/server/auth.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ping } from '../event-fixtures.ts'
import { AUDIENCE, ISSUER, startTestIdp } from './jwks-server.ts'

const KEY_A = 'k-limits-a-51c0e9d27f3b'
const KEY_B = 'k-limits-b-0a8e4c6f1d92'
const KEY_BULK = 'k-limits-bulk-7e3a9c1b5d'
const apiKeys = [
  { id: 'a', sha256: hashApiKey(KEY_A), roles: ['operator' as const], plants: ['*'] },
  { id: 'b', sha256: hashApiKey(KEY_B), roles: ['operator' as const], plants: ['*'] },
  { id: 'bulk', sha256: hashApiKey(KEY_BULK), roles: ['operator' as const], plants: ['*'] },
]
// 0.001 tokens/s: one token per 1000 s, so nothing refills during a test
const apiLimits = { ratePerSecond: 0.001, burst: 3, callers: { bulk: { ratePerSecond: 0.001, burst: 6 } } }

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.()
})

async function database(dialect: Dialect): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect, { migrated: true })
  cleanups.push(() => db.cleanup())
  return db
}

async function qualink(db: TestDatabase, extra: Parameters<typeof startQualink>[0] = {}) {
  const store: Store = await db.open()
  cleanups.push(() => store.close())
  const q = await startQualink({
    store,
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(db.dir, `anchors-${cleanups.length}.jsonl`),
    apiKeys,
    apiLimits,
    ...extra,
  })
  cleanups.push(() => q.close())
  return q
}

const get = (q: Qualink, key: string, url = '/v1/events') =>
  q.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })

describe.each(DIALECTS)('per-caller rate limits on %s', (dialect: Dialect) => {
  it('a key over its burst gets 429 QLK_RATE_LIMITED with Retry-After; other keys are not affected', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const q = await qualink(await database(dialect))
    for (let i = 0; i < 3; i++) expect((await get(q, KEY_A)).statusCode).toBe(200)
    const over = await get(q, KEY_A)
    expect(over.statusCode).toBe(429)
    expect(over.headers['content-type']).toMatch(/application\/problem\+json/)
    expect(over.json().code).toBe('QLK_RATE_LIMITED')
    expect(over.json().detail).toMatch(/API key a .*3/)
    const retryAfter = Number(over.headers['retry-after'])
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true)
    // a limited write stores nothing
    const e = ping()
    const post = await q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(e),
    })
    expect(post.statusCode).toBe(429)
    expect((await get(q, KEY_B, `/v1/events/${e.id}`)).statusCode).toBe(404)
    // key b has its own bucket (it spent one on the read just above); key bulk has a larger one
    for (let i = 0; i < 2; i++) expect((await get(q, KEY_B)).statusCode).toBe(200)
    expect((await get(q, KEY_B)).statusCode).toBe(429)
    for (let i = 0; i < 6; i++) expect((await get(q, KEY_BULK)).statusCode).toBe(200)
    expect((await get(q, KEY_BULK)).statusCode).toBe(429)
    // unauthenticated probes and health checks are not counted against anyone
    expect((await q.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })

  it('server.limits enabled: false turns the limits off', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const q = await qualink(await database(dialect), { apiLimits: false })
    for (let i = 0; i < 8; i++) expect((await get(q, KEY_A)).statusCode).toBe(200)
  })
})

describe('per-subject limits for OIDC tokens', () => {
  it('every token of one subject draws on one bucket; another subject has its own', async () => {
    const idp = await startTestIdp()
    cleanups.push(() => idp.close())
    const q = await qualink(await database('sqlite'), {
      oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: idp.jwksUrl, clockToleranceSeconds: 5 },
    })
    const claims = (sub: string) => ({ sub, roles: ['viewer'], plants: ['P100'] })
    // three different tokens of the same person
    const ana = [
      await idp.token(claims('ana')),
      await idp.token(claims('ana')),
      await idp.token(claims('ana')),
    ]
    for (const t of ana) expect((await get(q, t)).statusCode).toBe(200)
    const over = await get(q, await idp.token(claims('ana')))
    expect(over.statusCode).toBe(429)
    expect(over.json().detail).toMatch(/token subject ana/)
    expect((await get(q, await idp.token(claims('ben')))).statusCode).toBe(200)
    // API keys keep their own buckets beside the subjects'
    expect((await get(q, KEY_A)).statusCode).toBe(200)
  })
})

describe('rate limits shared through PostgreSQL', () => {
  it('two API processes on one database keep one bucket per key', async (ctx) => {
    if (!AVAILABLE.postgres) ctx.skip()
    const db = await database('postgres')
    const one = await qualink(db)
    const two = await qualink(db)
    const codes = []
    for (const q of [one, two, one, two]) codes.push((await get(q, KEY_A)).statusCode)
    expect(codes).toEqual([200, 200, 200, 429])
    expect((await get(two, KEY_B)).statusCode).toBe(200)
  })

  it('shared: false keeps a bucket per process (each allows the burst)', async (ctx) => {
    if (!AVAILABLE.postgres) ctx.skip()
    const db = await database('postgres')
    const local = { apiLimits: { ...apiLimits, shared: false } }
    const one = await qualink(db, local)
    const two = await qualink(db, local)
    const codes = []
    for (const q of [one, two, one, two, one, two, one, two]) codes.push((await get(q, KEY_A)).statusCode)
    expect(codes).toEqual([200, 200, 200, 200, 200, 200, 429, 429])
    expect(
      await db.open().then(async (s) => {
        const n = (await s.sql.all("SELECT COUNT(*) AS n FROM rate_limits WHERE target LIKE 'api:%'"))[0]!.n
        await s.close()
        return Number(n)
      }),
    ).toBe(0)
  })
})

describe('bounded batch, body, page and replay sizes', () => {
  it('refuses what is too large with a stable code, storing nothing', async () => {
    const db = await database('sqlite')
    const q = await qualink(db, { apiLimits: false })
    const headers = { authorization: `Bearer ${KEY_A}` }
    const batch = Array.from({ length: 1001 }, () => ping())
    const tooMany = await q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...headers, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(batch),
    })
    expect(tooMany.statusCode).toBe(413)
    expect(tooMany.json().code).toBe('QLK_BATCH_TOO_LARGE')
    const big = ping({ data: { note: 'x'.repeat(1024 * 1024), n: 1 } })
    const tooBig = await q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...headers, 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(big),
    })
    expect(tooBig.statusCode).toBe(413)
    expect(tooBig.json().code).toBe('QLK_PAYLOAD_TOO_LARGE')
    const listed = await get(q, KEY_A, '/v1/events?limit=1000')
    expect(listed.json().events).toEqual([])
    const page = await get(q, KEY_A, '/v1/events?limit=1000000')
    expect(page.statusCode).toBe(400)
    expect(page.json().code).toBe('QLK_VALIDATION')
    const replay = await q.app.inject({
      method: 'POST',
      url: '/v1/dead-letters/replay',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: JSON.stringify({ dryRun: true, max: 10_001 }),
    })
    expect(replay.statusCode).toBe(400)
    expect(replay.json().code).toBe('QLK_VALIDATION')
    expect(JSON.stringify(replay.json().errors)).toMatch(/max/)
  })
})

/**
 * Dashboard sessions in the store (migration 0015), on both dialects: only the hash of the id is
 * stored; another process on the same database knows the session and a logout there ends it
 * here; idle and absolute timeouts still hold; expired rows are purged; and a restarted Qualink
 * keeps its users logged in (OWASP API2, broken authentication; ASVS V3 session management).
 */
import { createHash } from 'node:crypto'
import path from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { SqlSessions } from '../../src/security/session-store.ts'
import { DashboardLogin } from '../../src/security/sessions.ts'
import type { DashboardUser } from '../../src/security/users.ts'
import { startQualink } from '../../src/server/qualink.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'

const CHEAP = { N: 2 ** 14, r: 8, p: 1 }
const PASSWORD = 'quality-pass-3e8b'
let userCache: DashboardUser[] | undefined
async function users(): Promise<DashboardUser[]> {
  userCache ??= [
    {
      id: 'quinn',
      name: 'Quinn Quality',
      passwordHash: await hashPassword(PASSWORD, CHEAP),
      roles: ['viewer'],
      plants: ['P100'],
    },
  ]
  return userCache
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.()
})

async function database(dialect: Dialect): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect, { migrated: true })
  cleanups.push(() => db.cleanup())
  return db
}

async function open(db: TestDatabase): Promise<Store> {
  const store = await db.open()
  cleanups.push(() => store.close())
  return store
}

const rows = async (store: Store) => store.sql.all('SELECT * FROM dashboard_sessions ORDER BY created_at_ms')

describe.each(DIALECTS)('dashboard sessions in the store on %s', (dialect: Dialect) => {
  it('stores only the hash; another process sees the session, and a logout there ends it here', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const db = await database(dialect)
    const [storeA, storeB] =
      dialect === 'postgres' ? [await open(db), await open(db)] : [await open(db), undefined]
    let now = 1_000_000
    const policy = { now: () => now, idleMs: 10_000, absoluteMs: 60_000 }
    const a = new DashboardLogin(await users(), policy)
    a.persistIn(new SqlSessions(storeA.sql))
    // SQLite has one process per file: the second "process" shares the store handle
    const b = new DashboardLogin(await users(), policy)
    b.persistIn(new SqlSessions((storeB ?? storeA).sql))

    const r = await a.attempt('quinn', PASSWORD, '127.0.0.1')
    if (!r.ok) throw new Error('login failed')
    const cookie = `qualink_session=${r.sessionId}`
    const stored = await rows(storeA)
    expect(stored).toHaveLength(1)
    expect(stored[0]!.id_hash).toBe(createHash('sha256').update(r.sessionId).digest('hex'))
    expect(JSON.stringify(stored)).not.toContain(r.sessionId)

    // the other process knows the session, with the user's roles and plants from its users file
    expect((await b.principalOf(cookie, true))?.scope).toEqual({ plants: ['P100'] })
    now += 9_000 // touched at +0 by b: idle 9 s of 10 s
    expect((await a.principalOf(cookie, true))?.id).toBe('quinn')
    now += 9_000 // a's touch at +9 s keeps it alive at +18 s
    expect(await b.principalOf(cookie, false)).toBeDefined()
    expect((await b.logout(cookie))?.userId).toBe('quinn')
    expect(await a.principalOf(cookie, true)).toBeUndefined()
    expect(await rows(storeA)).toHaveLength(0)
  })

  it('idle and absolute timeouts hold; expired sessions are purged at the next login', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const store = await open(await database(dialect))
    let now = 5_000_000
    const login = new DashboardLogin(await users(), { now: () => now, idleMs: 1_000, absoluteMs: 5_000 })
    login.persistIn(new SqlSessions(store.sql))
    const idle = await login.attempt('quinn', PASSWORD, '127.0.0.1')
    const busy = await login.attempt('quinn', PASSWORD, '127.0.0.1')
    if (!idle.ok || !busy.ok) throw new Error('login failed')
    for (let t = 800; t <= 4_800; t += 800) {
      now = 5_000_000 + t
      expect(await login.principalOf(`qualink_session=${busy.sessionId}`, true)).toBeDefined()
    }
    // the idle one ended at +1 s, but its row is still there until looked up or purged
    expect(await rows(store)).toHaveLength(2)
    now = 5_000_000 + 5_001 // past the absolute timeout, however busy
    expect(await login.principalOf(`qualink_session=${busy.sessionId}`, true)).toBeUndefined()
    const fresh = await login.attempt('quinn', PASSWORD, '127.0.0.1')
    if (!fresh.ok) throw new Error('login failed')
    const left = await rows(store)
    expect(left).toHaveLength(1)
    expect(left[0]!.id_hash).toBe(createHash('sha256').update(fresh.sessionId).digest('hex'))
  })

  it('a restarted Qualink keeps the user logged in; logout is final across the restart', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const db = await database(dialect)
    const start = async () => {
      const store = await db.open()
      const q = await startQualink({
        store,
        port: 0,
        logger: pino({ level: 'silent' }),
        anchorFile: path.join(db.dir, 'anchors.jsonl'),
        users: await users(),
      })
      return {
        q,
        stop: async () => {
          await q.close()
          await store.close()
        },
      }
    }
    const first = await start()
    const login = await first.q.app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      payload: new URLSearchParams({ user: 'quinn', password: PASSWORD }).toString(),
    })
    expect(login.statusCode).toBe(303)
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    expect(
      (await first.q.app.inject({ method: 'GET', url: '/ui/lots', headers: { cookie } })).statusCode,
    ).toBe(200)
    await first.stop()

    const second = await start()
    cleanups.push(second.stop)
    const after = await second.q.app.inject({ method: 'GET', url: '/ui/lots', headers: { cookie } })
    expect(after.statusCode).toBe(200)
    const out = await second.q.app.inject({
      method: 'POST',
      url: '/ui/logout',
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
    })
    expect(out.statusCode).toBe(303)
    const gone = await second.q.app.inject({ method: 'GET', url: '/ui/lots', headers: { cookie } })
    expect(gone.statusCode).toBe(303)
    expect(gone.headers.location).toMatch(/^\/ui\/login/)
  })
})

/**
 * Failed-login counters in the store (migration 0021): two Qualink processes on one PostgreSQL
 * database count the same failures, so guesses spread over both still lock the user after N
 * (OWASP API2, broken authentication). On SQLite one process owns the file; the same counters
 * survive a restart there. The lockout's N comes from the environment, validated.
 */
import path from 'node:path'
import pino from 'pino'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loginPolicyFromEnv } from '../../src/security/sessions.ts'
import type { DashboardUser } from '../../src/security/users.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'

const CHEAP = { N: 2 ** 14, r: 8, p: 1 }
const PASSWORD = 'vera-pass-0c7d2e'
const LOCK_MS = 60_000
let users: DashboardUser[]
beforeAll(async () => {
  users = [
    {
      id: 'vera',
      name: 'Vera Viewer',
      passwordHash: await hashPassword(PASSWORD, CHEAP),
      roles: ['viewer'],
      plants: ['P100'],
    },
  ]
})

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.()
})

describe('the lockout from the environment', () => {
  it('reads N per user, per address and the lock length; refuses anything but a whole number ≥ 1', () => {
    expect(
      loginPolicyFromEnv({
        QUALINK_LOGIN_MAX_FAILURES: '4',
        QUALINK_LOGIN_MAX_FAILURES_PER_IP: '40',
        QUALINK_LOGIN_LOCKOUT_SECONDS: '120',
      }),
    ).toMatchObject({ maxFailuresPerUser: 4, maxFailuresPerIp: 40, lockoutMs: 120_000 })
    expect(loginPolicyFromEnv({})).toEqual({})
    for (const bad of ['0', '-1', '2.5', 'five'])
      expect(() => loginPolicyFromEnv({ QUALINK_LOGIN_MAX_FAILURES: bad })).toThrow(
        expect.objectContaining({
          code: 'QLK_CONFIG_INVALID',
          message: expect.stringContaining('QUALINK_LOGIN_MAX_FAILURES'),
        }),
      )
  })
})

describe.each(DIALECTS)('failed logins counted in the store on %s', (dialect: Dialect) => {
  let clock = Date.parse('2026-11-27T08:00:00Z')

  async function start(db: TestDatabase): Promise<Qualink> {
    const store = await db.open()
    const q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(db.dir, `anchors-${cleanups.length}.jsonl`),
      users,
      login: { now: () => clock, maxFailuresPerUser: 3, maxFailuresPerIp: 100, lockoutMs: LOCK_MS },
    })
    cleanups.push(() => store.close())
    let closed = false
    const close = async () => {
      if (!closed) await q.close()
      closed = true
    }
    cleanups.push(close)
    return { ...q, close }
  }
  const login = (q: Qualink, password: string, ip: string) =>
    q.app.inject({
      method: 'POST',
      url: '/ui/login',
      remoteAddress: ip,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      payload: new URLSearchParams({ user: 'vera', password }).toString(),
    })

  it('locks the user after N failures spread over processes, for every process, then lets her in', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const db = await createTestDatabase(dialect, { migrated: true })
    cleanups.push(() => db.cleanup())
    const a = await start(db)
    // SQLite: one process owns the file, so the second "process" is the same one restarted
    const second = async () => {
      if (dialect === 'postgres') return start(db)
      await a.close()
      return start(db)
    }
    // failures 1 and 2 on A (from two addresses: the user's own counter is what locks)
    expect((await login(a, 'guess-1', '10.0.0.1')).statusCode).toBe(401)
    expect((await login(a, 'guess-2', '10.0.0.2')).statusCode).toBe(401)
    const b = await second()
    // failure 3 on B reaches the limit of 3 that A's failures counted toward
    expect((await login(b, 'guess-3', '10.0.0.3')).statusCode).toBe(401)
    // now locked everywhere, even with the right password
    const locked = await login(b, PASSWORD, '10.0.0.4')
    expect(locked.statusCode).toBe(429)
    expect(locked.headers['retry-after']).toBe(String(LOCK_MS / 1000))
    if (dialect === 'postgres') expect((await login(a, PASSWORD, '10.0.0.5')).statusCode).toBe(429)
    const [row] = await b.store.sql.all('SELECT * FROM login_attempts WHERE attempt_key = ?', ['user:vera'])
    expect(row).toMatchObject({ failures: 0, in_flight: 0, lockouts: 1 })
    expect(Number(row!.locked_until_ms)).toBe(clock + LOCK_MS)
    // no attempt left in flight on any key (every reservation was ended)
    const flying = await b.store.sql.all('SELECT attempt_key FROM login_attempts WHERE in_flight <> 0')
    expect(flying).toEqual([])

    clock += LOCK_MS + 1
    const ok = await login(b, PASSWORD, '10.0.0.6')
    expect(ok.statusCode, ok.body).toBe(303)
    const [cleared] = await b.store.sql.all('SELECT * FROM login_attempts WHERE attempt_key = ?', [
      'user:vera',
    ])
    expect(cleared).toMatchObject({ failures: 0, lockouts: 0 })
    expect(Number(cleared!.locked_until_ms)).toBe(0)
    // a day later nothing is left to remember: the next login deletes every row
    clock += 24 * 3_600_000 + 1
    expect((await login(b, PASSWORD, '10.0.0.7')).statusCode).toBe(303)
    expect(await b.store.sql.all('SELECT attempt_key FROM login_attempts')).toEqual([])
  })
})

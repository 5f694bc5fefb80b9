import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { DashboardLogin, sessionCookie } from '../../src/security/sessions.ts'
import { checkUsers, type DashboardUser } from '../../src/security/users.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { hashPassword, verifyPassword } from '../../src/signatures/password.ts'
import { qualinkArgs } from '../bundle.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, append, type DemoHub, demoEvent, startDemoHub, until } from '../engine/harness.ts'

// The lowest cost password.ts accepts, so a test's many logins stay cheap; production hashes
// use N = 2^17 (`qualink users hash-password`).
const CHEAP = { N: 2 ** 14, r: 8, p: 1 }
const PW = { viewer: 'viewer-pass-7f3a', operator: 'operator-pass-91c2', all: 'auditor-pass-5d0e' }
const ADMIN_KEY = 'k-admin-seed-2b7e4c9a1f'
const LOCK_MS = 60_000

async function users(): Promise<DashboardUser[]> {
  return [
    {
      id: 'vera',
      name: 'Vera Viewer',
      passwordHash: await hashPassword(PW.viewer, CHEAP),
      roles: ['viewer'],
      plants: ['P100'],
    },
    {
      id: 'otto',
      name: 'Otto Operator',
      passwordHash: await hashPassword(PW.operator, CHEAP),
      roles: ['operator'],
      plants: ['P100'],
    },
    {
      id: 'ada',
      name: 'Ada Auditor',
      passwordHash: await hashPassword(PW.all, CHEAP),
      roles: ['auditor'],
      plants: ['*'],
    },
  ]
}

const receipt = (lot: string, plant: string) =>
  ({
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:login',
    type: 'erp.goods_receipt.posted.v1',
    subject: lot,
    plant,
    data: {
      materialDocument: { id: randomUUID().slice(0, 10), year: 2026, item: '0001' },
      lot: { id: lot, material: 'RAW', plant },
      supplier: 'V-42',
      quantity: { units: 5000, scale: 3, uom: 'KG' },
      bucket: 'unrestricted',
      audit: { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' },
    },
  }) as unknown as CloudEvent

const FORM = 'application/x-www-form-urlencoded'
const SAME_SITE = { 'sec-fetch-site': 'same-origin' }

describe.each(DIALECTS.filter((d) => AVAILABLE[d]))('dashboard login on %s', (dialect: Dialect) => {
  let hub: DemoHub
  let clock = Date.parse('2026-11-27T08:00:00Z')

  beforeAll(async () => {
    hub = await startDemoHub(dialect, {
      users: await users(),
      apiKeys: [{ id: 'seed', sha256: hashApiKey(ADMIN_KEY), roles: ['admin'], plants: ['*'] }],
      login: { now: () => clock, maxFailuresPerUser: 3, maxFailuresPerIp: 6, lockoutMs: LOCK_MS },
    })
    await append(hub.store, receipt('L-100', 'P100'), receipt('L-200', 'P200'))
    await append(hub.store, demoEvent('order_received', { order: 'DL-1', lines: 1, failOnLine: 1 }))
    await append(hub.store, demoEvent('order_received', { order: 'DL-2', lines: 1, failOnLine: 1 }))
    hub.q.engine.wake()
    await until(async () => (await openDeadLetters()).length === 2)
    // The lots pages read the lots projection, which follows the log's tail; on PostgreSQL the tail
    // waits for any transaction open on the shared server (test/dialects.ts untilTailCaughtUp).
    const projected = async (lot: string) =>
      (
        await hub.q.app.inject({
          method: 'GET',
          url: `/v1/lots/${lot}`,
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        })
      ).statusCode === 200
    await until(async () => (await projected('L-100')) && (await projected('L-200')))
  }, 60_000)
  afterAll(async () => {
    await hub?.close()
  })

  const openDeadLetters = () => hub.store.engine.listDeadLetters(ALL, { status: 'open', limit: 100 })

  const login = (user: string, password: string, ip = '127.0.0.1', next?: string) =>
    hub.q.app.inject({
      method: 'POST',
      url: '/ui/login',
      remoteAddress: ip,
      headers: { 'content-type': FORM, ...SAME_SITE },
      payload: new URLSearchParams({ user, password, ...(next ? { next } : {}) }).toString(),
    })

  const cookieOf = (r: { headers: Record<string, unknown> }) =>
    String(r.headers['set-cookie'] ?? '').split(';')[0]!

  async function session(user: string, password: string): Promise<string> {
    const r = await login(user, password)
    expect(r.statusCode, r.body).toBe(303)
    return cookieOf(r)
  }

  const get = (url: string, cookie?: string) =>
    hub.q.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} })

  const auditOf = (action: string) => hub.store.listAudit(ALL, { action, limit: 1000 })
  /** every stored audit payload as JSON text (PostgreSQL keeps them as jsonb) */
  const payloads = async () =>
    (await hub.store.sql.all('SELECT payload FROM audit_payloads')).map((r) =>
      typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload),
    )
  const reasons = async () =>
    (await payloads()).map((p) => (JSON.parse(p) as { reason?: string }).reason).filter(Boolean)

  it('refuses a wrong password or unknown id with one message, and stores only an audit entry', async () => {
    const seqBefore = await hub.store.maxAuditSeq()
    const eventsBefore = (await hub.store.listEvents(ALL, { limit: 1000 })).length
    const wrong = await login('vera', 'not-her-password', '127.0.0.11')
    const unknown = await login('nobody', 'not-her-password', '127.0.0.11')
    for (const r of [wrong, unknown]) {
      expect(r.statusCode).toBe(401)
      expect(r.headers['set-cookie']).toBeUndefined()
      expect(r.body).toContain('Login failed: the user id or password is not correct.')
    }
    // Same page apart from the echoed id: nothing tells which ids exist.
    expect(wrong.body.replace(/nobody|vera/g, '')).toBe(unknown.body.replace(/nobody|vera/g, ''))
    expect(await hub.store.maxAuditSeq()).toBe(seqBefore + 2)
    expect((await hub.store.listEvents(ALL, { limit: 1000 })).length).toBe(eventsBefore)
    const failed = (await auditOf('dashboard.login_failed')).filter((a) => a.seq > seqBefore)
    expect(failed.map((a) => [a.subject, a.actor, a.plant])).toEqual([
      ['user:vera', 'ui:vera', '*'],
      ['user:nobody', 'ui:nobody', '*'],
    ])
    expect(await reasons()).toEqual(expect.arrayContaining(['wrong-password', 'unknown-user']))
    expect((await payloads()).join('\n')).not.toContain('not-her-password')
    // Without a session, a page sends the browser to the login form and back.
    const page = await get('/ui/lots')
    expect(page.statusCode).toBe(303)
    expect(page.headers.location).toBe('/ui/login?next=%2Fui%2Flots')
    // A polling fragment sends htmx to the login form, to come back to the page it was on.
    const poll = await hub.q.app.inject({
      method: 'GET',
      url: '/ui/partials/overview',
      headers: { 'hx-request': 'true', 'hx-current-url': 'http://127.0.0.1/ui/exceptions?plant=P100' },
    })
    expect(poll.statusCode).toBe(401)
    expect(poll.headers['hx-redirect']).toBe('/ui/login?next=%2Fui%2Fexceptions%3Fplant%3DP100')
    expect((await get('/')).headers.location).toBe('/ui/login?next=%2Fui')
    const form = await get('/ui/login?next=%2Fui%2Flots')
    expect(form.statusCode).toBe(200)
    expect(form.body).toContain('<input type="hidden" name="next" value="/ui/lots">')
    expect(form.body).not.toContain('<nav>')
  })

  it('locks a user after N failures for M minutes, doubling the next lockout; and an address', async () => {
    const from = await hub.store.maxAuditSeq()
    for (let i = 0; i < 3; i++) expect((await login('otto', `guess-${i}`, '127.0.0.21')).statusCode).toBe(401)
    const locked = await login('otto', PW.operator, '127.0.0.22')
    expect(locked.statusCode).toBe(429)
    expect(locked.headers['set-cookie']).toBeUndefined()
    expect(locked.headers['retry-after']).toBe(String(LOCK_MS / 1000))
    expect(locked.body).toContain('Too many failed logins. Try again in 1 minute.')
    expect((await reasons()).filter((r) => r === 'locked')).toHaveLength(1)
    clock += LOCK_MS + 1
    // Three more failures before any success lock again, now for twice as long.
    for (let i = 0; i < 3; i++)
      expect((await login('otto', `guess-b${i}`, '127.0.0.23')).statusCode).toBe(401)
    expect((await login('otto', PW.operator, '127.0.0.24')).statusCode).toBe(429)
    clock += LOCK_MS + 1
    const still = await login('otto', PW.operator, '127.0.0.24')
    expect(still.statusCode).toBe(429)
    expect(Number(still.headers['retry-after'])).toBe(LOCK_MS / 1000) // 59.999 s left of 120 s
    clock += LOCK_MS
    expect((await login('otto', PW.operator, '127.0.0.24')).statusCode).toBe(303)
    // A success clears the backoff: the next lockout is back to M minutes.
    for (let i = 0; i < 3; i++) await login('otto', `guess-c${i}`, '127.0.0.25')
    expect((await login('otto', PW.operator, '127.0.0.26')).statusCode).toBe(429)
    clock += LOCK_MS + 1
    expect((await login('otto', PW.operator, '127.0.0.26')).statusCode).toBe(303)
    // One address guessing many ids is locked whatever the id; another address is not.
    for (let i = 0; i < 6; i++)
      expect((await login(`spray-${i}`, 'x-guess', '127.0.0.27')).statusCode).toBe(401)
    expect((await login('vera', PW.viewer, '127.0.0.27')).statusCode).toBe(429)
    expect((await login('vera', PW.viewer, '127.0.0.28')).statusCode).toBe(303)
    const logins = (await auditOf('dashboard.login')).filter((a) => a.seq > from)
    expect(logins.map((a) => a.subject)).toEqual(['user:otto', 'user:otto', 'user:vera'])
  })

  it('a viewer session sees only its plants’ lots (another plant’s is 404) and cannot replay', async () => {
    const cookie = await session('vera', PW.viewer)
    const lots = await get('/ui/lots', cookie)
    expect(lots.statusCode).toBe(200)
    expect(lots.body).toContain('href="/ui/lots/L-100"')
    expect(lots.body).not.toContain('L-200')
    expect(lots.body).toContain('Vera Viewer')
    const own = await get('/ui/lots/L-100', cookie)
    expect(own.statusCode).toBe(200)
    // The audit trail is the auditor's: not on a viewer's lot page, and not its page.
    expect(own.body).toContain('Audit entries are shown to auditors.')
    expect(own.body).not.toContain('Chain intact')
    expect((await get('/ui/audit', cookie)).statusCode).toBe(403)
    const theirs = await get('/ui/lots/L-200', cookie)
    expect(theirs.statusCode).toBe(404)
    expect(theirs.body).not.toContain('P200')
    const dl = (await openDeadLetters())[0]!
    const replay = await hub.q.app.inject({
      method: 'POST',
      url: `/ui/exceptions/${dl.id}/replay`,
      headers: { cookie, 'content-type': FORM, ...SAME_SITE },
      payload: 'view=row',
    })
    expect(replay.statusCode).toBe(403)
    expect(replay.body).toContain('operator role required')
    expect(replay.body).not.toContain(String(dl.key))
    expect((await openDeadLetters()).map((d) => d.id)).toContain(dl.id)
    // The cookie is the dashboard's only: /v1 stays key- or token-only.
    expect((await get('/v1/events', cookie)).statusCode).toBe(401)
    const seeded = await hub.q.app.inject({
      method: 'GET',
      url: '/v1/events',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    })
    expect(seeded.statusCode).toBe(200)
  })

  it('an operator session replays through the dashboard form, audited under its user', async () => {
    const cookie = await session('otto', PW.operator)
    const dl = (await openDeadLetters())[0]!
    const refused = await hub.q.app.inject({
      method: 'POST',
      url: `/ui/exceptions/${dl.id}/replay`,
      headers: { cookie, 'content-type': FORM, 'sec-fetch-site': 'cross-site' },
      payload: 'view=row',
    })
    expect(refused.statusCode).toBe(403)
    const r = await hub.q.app.inject({
      method: 'POST',
      url: `/ui/exceptions/${dl.id}/replay`,
      headers: { cookie, 'content-type': FORM, ...SAME_SITE },
      payload: 'view=row',
    })
    expect(r.statusCode, r.body).toBe(200)
    const replayed = await hub.store.engine.listDeadLetters(ALL, { status: 'replayed', limit: 100 })
    expect(replayed.find((d) => d.id === dl.id)?.resolvedBy).toBe('ui:otto')
  })

  it("an auditor's session reads the audit trail: the lot page's entries with the chain's state, and the audit page", async () => {
    const cookie = await session('ada', PW.all)
    const lot = await get('/ui/lots/L-100', cookie)
    expect(lot.statusCode).toBe(200)
    expect(lot.body).toMatch(
      /<h2>Audit<\/h2><div class="banner ok" role="status"><strong>Chain intact\.<\/strong>/,
    )
    expect(lot.body).not.toContain('Audit entries are shown to auditors.')
    expect((await get('/ui/audit', cookie)).statusCode).toBe(200)
  })

  it('logout ends the session on the server, and clears the cookie', async () => {
    const cookie = await session('ada', PW.all)
    expect((await get('/ui/runs', cookie)).statusCode).toBe(200)
    const out = await hub.q.app.inject({
      method: 'POST',
      url: '/ui/logout',
      headers: { cookie, ...SAME_SITE },
    })
    expect(out.statusCode).toBe(303)
    expect(out.headers.location).toBe('/ui/login')
    expect(String(out.headers['set-cookie'])).toMatch(/^qualink_session=; Path=\/ui; .*Max-Age=0/)
    const after = await get('/ui/runs', cookie)
    expect(after.statusCode).toBe(303)
    expect(after.headers.location).toMatch(/^\/ui\/login/)
    expect((await auditOf('dashboard.logout')).map((a) => a.subject)).toContain('user:ada')
  })

  it('sets a 256-bit session id in an HttpOnly, SameSite=Strict cookie on Path=/ui', async () => {
    const r = await login('ada', PW.all, '127.0.0.1', '/ui/exceptions')
    expect(r.statusCode).toBe(303)
    expect(r.headers.location).toBe('/ui/exceptions')
    const set = String(r.headers['set-cookie'])
    expect(set).toMatch(/^qualink_session=[\w-]{43}; Path=\/ui; HttpOnly; SameSite=Strict$/)
    expect(set).not.toContain('Secure') // plain HTTP here
    // An off-site `next` is not followed (open redirect).
    const off = await login('ada', PW.all, '127.0.0.1', '//evil.example/ui')
    expect(off.headers.location).toBe('/ui')
    for (const climb of ['/ui/../v1/events', '/ui/%2E%2e/v1/events'])
      expect((await login('ada', PW.all, '127.0.0.1', climb)).headers.location).toBe('/ui')
    const forged = await hub.q.app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { 'content-type': FORM, 'sec-fetch-site': 'cross-site' },
      payload: new URLSearchParams({ user: 'ada', password: PW.all }).toString(),
    })
    expect(forged.statusCode).toBe(403)
  })
})

describe('dashboard sessions and users (no server)', () => {
  it('ends a session after the idle timeout, and after the absolute one however busy', async () => {
    let now = 0
    const [u] = await users()
    const login = new DashboardLogin([u!], { now: () => now, idleMs: 1000, absoluteMs: 5000 })
    const a = await login.attempt('vera', PW.viewer, '127.0.0.1')
    if (!a.ok) throw new Error('login failed')
    const cookie = `qualink_session=${a.sessionId}`
    now = 900
    expect((await login.principalOf(cookie, true))?.id).toBe('vera')
    now = 1800 // 900 ms after the last use: still alive
    expect((await login.principalOf(cookie, false))?.scope).toEqual({ plants: ['P100'] })
    now = 2901 // untouched polling does not extend it: idle since 900
    expect(await login.principalOf(cookie, true)).toBeUndefined()
    const b = await login.attempt('vera', PW.viewer, '127.0.0.1')
    if (!b.ok) throw new Error('login failed')
    for (let t = 3000; t <= 7800; t += 800) {
      now = t
      expect(await login.principalOf(`qualink_session=${b.sessionId}`, true)).toBeDefined()
    }
    now = 8001
    expect(await login.principalOf(`qualink_session=${b.sessionId}`, true)).toBeUndefined()
  })

  it('marks the cookie Secure behind TLS', () => {
    expect(sessionCookie('x'.repeat(43), true)).toMatch(/; Secure$/)
  })

  it('refuses a users file whose role is unknown, naming the user and the role', async () => {
    const [u] = await users()
    expect(() => checkUsers([{ ...u, roles: ['viewer', 'superuser'] }])).toThrowError(
      /user vera: role "superuser" is not one of viewer, operator, approver, admin, auditor/,
    )
    try {
      checkUsers([{ ...u, passwordHash: 'plain' }])
      expect.fail('a plain password must be refused')
    } catch (e) {
      expect(e).toMatchObject({ code: 'QLK_CONFIG_INVALID', errors: [{ path: '/users/0/passwordHash' }] })
    }
  })

  it('qualink users hash-password reads stdin and prints a scrypt hash that verifies', async () => {
    const run = (input: string) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        const child = execFile(process.execPath, qualinkArgs('users', 'hash-password'), (e, out, err) =>
          resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }),
        )
        child.stdin?.end(input)
      })
    const ok = await run('correct horse battery\n')
    expect(ok.code, ok.err).toBe(0)
    const hash = ok.out.trim()
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$/)
    expect(await verifyPassword('correct horse battery', hash)).toBe(true)
    const short = await run('short\n')
    expect(short.code).toBe(1)
    expect(short.err).toContain('QLK_VALIDATION: the password is shorter than 8 characters')
    // two CLI processes (tsx start-up each): the suite's 90 s test timeout, not a tighter one
  })

  it('without users, keys or OIDC there is no login form: the dashboard stays open on loopback', async () => {
    const hub = await startDemoHub('sqlite')
    try {
      expect((await hub.q.app.inject({ method: 'GET', url: '/ui/login' })).statusCode).toBe(404)
      expect((await hub.q.app.inject({ method: 'GET', url: '/ui/lots' })).statusCode).toBe(200)
    } finally {
      await hub.close()
    }
  })
})

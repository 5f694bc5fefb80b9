import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { DashboardUser } from '../../src/security/users.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import type { SignerConfig } from '../../src/signatures/service.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, bearerCall, type DemoHub, demoEvent, startDemoHub, until } from '../engine/harness.ts'

const INGEST_KEY = 'k-ingest-bulk-sign-7c2e9a4f1d'
const FORM = 'application/x-www-form-urlencoded'
const SAME_SITE = { 'sec-fetch-site': 'same-origin' }
const PW = { alice: 'alice signs 4 quality', bob: 'bob approves 2 also', olga: 'olga operates 9 lines' }
type Person = keyof typeof PW
const FILTER: Array<[string, string]> = [
  ['errorCode', 'QLK_DEMO_REJECTED'],
  ['workflow', ''],
  ['connector', ''],
]

let users: DashboardUser[]
let signers: SignerConfig[]
beforeAll(async () => {
  // N = 2^14, the weakest the configs accept: the rules under test are not the KDF's cost.
  const hash = (p: Person) => hashPassword(PW[p], { N: 2 ** 14, r: 8, p: 1 })
  const roles = { alice: ['approver'], bob: ['approver'], olga: ['operator'] } as const
  const names = { alice: 'Alice Approver', bob: 'Bob Reviewer', olga: 'Olga Operator' }
  users = []
  signers = []
  for (const p of Object.keys(PW) as Person[]) {
    const passwordHash = await hash(p)
    users.push({ id: p, name: names[p], passwordHash, roles: roles[p], plants: ['*'] })
    if (roles[p].includes('approver' as never))
      signers.push({ id: p, name: names[p], passwordHash, plants: ['*'] })
  }
})

/** The dashboard's two-person rule for bulk replay (src/ui/bulk-replay-actions.ts), per dialect. */
describe.each(DIALECTS)('bulk replay signed on the dashboard on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined
  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      users,
      apiKeys: [{ id: 'ingest', sha256: hashApiKey(INGEST_KEY), roles: ['operator'], plants: ['*'] }],
      signatures: { signers, bulkReplayTwoPersonOver: 2 },
    })
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  async function session(user: Person): Promise<string> {
    const r = await hub!.q.app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { 'content-type': FORM, ...SAME_SITE },
      payload: new URLSearchParams({ user, password: PW[user] }).toString(),
    })
    expect(r.statusCode, r.body).toBe(303)
    return String(r.headers['set-cookie']).split(';')[0]!
  }
  const post = (cookie: string, url: string, form: Array<[string, string]>) =>
    hub!.q.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': FORM, cookie, 'hx-request': 'true', ...SAME_SITE },
      payload: new URLSearchParams(form).toString(),
    })
  const sign = (cookie: string, version: string, signer: Person, password = PW[signer]) =>
    post(cookie, '/ui/exceptions/bulk/sign', [
      ...FILTER,
      ['version', version],
      ['signer', signer],
      ['password', password],
      ['meaning', 'approved'],
    ])
  const versionOf = (body: string) => /data-version="([0-9a-f]{64})"/.exec(body)?.[1] ?? ''
  const idsOf = (body: string) => [...body.matchAll(/name="id" value="(\d+)"/g)].map((m) => m[1]!)
  const signatures = async () =>
    Number((await hub!.store.sql.all('SELECT COUNT(*) AS n FROM signatures'))[0]!.n)
  const openDeadLetters = () => hub!.store.engine.listDeadLetters(ALL, { status: 'open', limit: 100 })
  const replayed = () => hub!.store.listAudit(ALL, { action: 'dead_letter.replayed', limit: 100 })

  async function deadLetters(n: number) {
    for (let i = 0; i < n; i++) {
      const e = demoEvent('order_received', { order: `BR-${i}`, lines: 1, failOnLine: 1 })
      expect((await bearerCall(hub!.q, INGEST_KEY, 'POST', '/v1/events', e)).statusCode).toBe(202)
    }
    await until(async () => (await openDeadLetters()).length === n)
  }

  it('collects two approvers’ signatures on the exact set, then lets an operator replay it', async () => {
    await deadLetters(3)
    const [alice, bob, olga] = await Promise.all([session('alice'), session('bob'), session('olga')])

    const preview = await post(olga, '/ui/exceptions/bulk/preview', FILTER)
    expect(preview.statusCode).toBe(200)
    expect(preview.body).toContain('data-status="awaiting-signatures"')
    expect(preview.body).toContain('Signed: nobody yet')
    expect(preview.body).not.toContain('Replay 3')
    const version = versionOf(preview.body)
    const ids = idsOf(preview.body)
    expect(ids).toEqual([]) // no replay form before the signatures
    const all = (await openDeadLetters()).map((d) => String(d.id))

    // the ids straight to the replay: refused by the rule, nothing replayed
    const early = await post(olga, '/ui/exceptions/bulk/replay', [
      ...FILTER,
      ...all.map((i): [string, string] => ['id', i]),
    ])
    expect(early.statusCode).toBe(403)
    expect(early.body).toContain('QLK_SIGNATURES_REQUIRED')
    // an operator cannot sign; a wrong password, or a set changed since the preview, signs nothing
    expect((await sign(olga, version, 'olga')).statusCode).toBe(403)
    const wrong = await sign(bob, version, 'bob', 'not bob’s password')
    expect(wrong.statusCode).toBe(401)
    expect(wrong.headers['hx-retarget']).toBe('#bulk-sign-msg')
    expect(wrong.body).toContain('QLK_REAUTH_FAILED')
    const stale = await sign(alice, 'f'.repeat(64), 'alice')
    expect(stale.statusCode).toBe(409)
    expect(stale.body).toContain('QLK_RECORD_CHANGED')
    const unticked = await post(alice, '/ui/exceptions/bulk/sign', [
      ...FILTER,
      ['version', version],
      ['signer', 'alice'],
      ['password', PW.alice],
    ])
    expect(unticked.statusCode).toBe(422)
    expect(unticked.body).toContain('meaning: tick the box')
    expect(await signatures()).toBe(0)

    const first = await sign(alice, version, 'alice')
    expect(first.statusCode, first.body).toBe(200)
    expect(first.body).toContain('data-status="awaiting-signatures"')
    expect(first.body).toMatch(/Signed: Alice Approver \(<code>alice<\/code>/)
    expect(first.body).toContain('Sign as the second approver')
    const twice = await sign(alice, version, 'alice')
    expect(twice.body).toContain('QLK_SIGNATURE_DUPLICATE')
    expect(await signatures()).toBe(1)

    const second = await sign(bob, version, 'bob')
    expect(second.statusCode, second.body).toBe(200)
    expect(second.body).toContain('data-status="signed"')
    expect(second.body).toContain('an operator replays it from this page')
    expect(await signatures()).toBe(2)
    expect(await replayed()).toEqual([])

    const signed = await post(olga, '/ui/exceptions/bulk/preview', FILTER)
    expect(signed.body).toContain('data-status="signed"')
    const toReplay = idsOf(signed.body)
    expect(toReplay.sort()).toEqual([...all].sort())
    const started = await post(olga, '/ui/exceptions/bulk/replay', [
      ...FILTER,
      ['version', version],
      ...toReplay.map((i): [string, string] => ['id', i]),
    ])
    expect(started.statusCode, started.body).toBe(202)
    await until(async () => (await replayed()).length === 3)
    const audit = await replayed()
    expect(audit.every((a) => a.actor === 'ui:olga')).toBe(true)
  })

  it('refuses the signed replay when the set changed after the signatures', async () => {
    await deadLetters(3)
    const [alice, bob, olga] = await Promise.all([session('alice'), session('bob'), session('olga')])
    const version = versionOf((await post(alice, '/ui/exceptions/bulk/preview', FILTER)).body)
    expect((await sign(alice, version, 'alice')).statusCode).toBe(200)
    expect((await sign(bob, version, 'bob')).statusCode).toBe(200)
    const ids = idsOf((await post(olga, '/ui/exceptions/bulk/preview', FILTER)).body)
    expect(ids).toHaveLength(3)
    // a fourth order fails meanwhile: the signed set is no longer what the filter matches
    const e = demoEvent('order_received', { order: 'BR-late', lines: 1, failOnLine: 1 })
    expect((await bearerCall(hub!.q, INGEST_KEY, 'POST', '/v1/events', e)).statusCode).toBe(202)
    await until(async () => (await openDeadLetters()).length === 4)
    const late = await post(olga, '/ui/exceptions/bulk/replay', [
      ...FILTER,
      ...ids.map((i): [string, string] => ['id', i]),
    ])
    expect(late.statusCode).toBe(409)
    expect(late.body).toContain('QLK_RECORD_CHANGED')
    expect(await replayed()).toEqual([])
    // the new set shows as unsigned
    expect((await post(olga, '/ui/exceptions/bulk/preview', FILTER)).body).toContain('Signed: nobody yet')
  })
})

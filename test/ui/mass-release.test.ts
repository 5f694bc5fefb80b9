import { describe, expect, it } from 'vitest'
import { DIALECTS, type Dialect, rawExec } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import {
  massReleaseHubOptions,
  massReleasePeople,
  massReleaseScenario,
  PW,
} from '../fixtures/mass-release.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'

const FORM = 'application/x-www-form-urlencoded'
const SAME_SITE = { 'sec-fetch-site': 'same-origin' }
const people = await massReleasePeople()

/** A real database failure at the execution's audit row: SQLite aborts it, PostgreSQL fails at COMMIT. */
const POISON: Record<Dialect, string> = {
  sqlite: `CREATE TRIGGER poison_release BEFORE INSERT ON audit_log WHEN NEW.action = 'lot.mass_release.executed'
           BEGIN SELECT RAISE(ABORT, 'poisoned release audit'); END;`,
  postgres: `CREATE FUNCTION fail_release() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.action = 'lot.mass_release.executed' THEN RAISE EXCEPTION 'poisoned at commit'; END IF; RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER poison_release AFTER INSERT ON audit_log DEFERRABLE INITIALLY DEFERRED
             FOR EACH ROW EXECUTE FUNCTION fail_release();`,
}
const UNPOISON: Record<Dialect, string> = {
  sqlite: 'DROP TRIGGER poison_release',
  postgres: 'DROP TRIGGER poison_release ON audit_log',
}

/** The dashboard's mass release forms (src/ui/mass-release-actions.ts) through HTTP, per dialect. */
describe.each(DIALECTS)('mass release on the dashboard on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => massReleaseHubOptions(people))

  async function session(user: keyof typeof PW): Promise<string> {
    const r = await hub.q.app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { 'content-type': FORM, ...SAME_SITE },
      payload: new URLSearchParams({ user, password: PW[user] }).toString(),
    })
    expect(r.statusCode, r.body).toBe(303)
    return String(r.headers['set-cookie']).split(';')[0]!
  }
  const post = (cookie: string, url: string, form: Array<[string, string]>, headers: object = SAME_SITE) =>
    hub.q.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': FORM, cookie, 'hx-request': 'true', ...headers },
      payload: new URLSearchParams(form).toString(),
    })
  const lotsForm = (lots: string[]) => lots.map((l): [string, string] => ['lot', l])
  const sign = (cookie: string, lots: string[], version: string, signer: keyof typeof PW, meaning: string) =>
    post(cookie, '/ui/mass-release/sign', [
      ...lotsForm(lots),
      ['version', version],
      ['signer', signer],
      ['password', PW[signer]],
      ['meaning', meaning],
    ])
  const versionOf = (body: string) => /data-version="([0-9a-f]{64})"/.exec(body)?.[1] ?? ''
  const signatures = async () =>
    Number((await hub.store.sql.all('SELECT COUNT(*) AS n FROM signatures'))[0]!.n)
  const released = () => hub.store.listEvents(ALL, { type: 'qualink.lot.release_signed.v1', limit: 10 })
  const executed = () => hub.store.listAudit(ALL, { action: 'lot.mass_release.executed', limit: 10 })
  const runs = () => hub.store.engine.listRuns(ALL, { workflow: 'lot-release', limit: 10 })

  it('lists candidates, previews, refuses the requester twice, and releases after a second approver signs', async () => {
    const s = massReleaseScenario(hub)
    await s.seed()
    const alice = await session('alice')
    const bob = await session('bob')
    const page = await hub.q.app.inject({
      method: 'GET',
      url: '/ui/mass-release',
      headers: { cookie: alice },
    })
    expect(page.statusCode).toBe(200)
    expect(page.body).not.toContain('workflow is not enabled here')
    const ticked = [...page.body.matchAll(/name="lot" value="([^"]+)" checked/g)].map((m) => m[1])
    expect(ticked.sort()).toEqual(['L1', 'L2']) // blocked and accepted, of her plant only

    const preview = await post(alice, '/ui/mass-release/preview', [
      ...lotsForm(['L1', 'L2']),
      ['lots', 'L3, X9\nNOPE'],
    ])
    expect(preview.statusCode).toBe(200)
    expect(preview.body).toMatch(/2 lots would be released, 1 refused, 2 not found in your plants/)
    expect(preview.body).toContain('QLK_RELEASE_WITHOUT_ACCEPTANCE')
    // another plant's lot is counted, never described (the form only echoes what was typed)
    expect(preview.body.replace(/<input type="hidden"[^>]*>/g, '')).not.toContain('X9')
    expect(preview.body).toContain('name="signer" value="alice"')
    const version = versionOf(preview.body)
    const selection = ['L1', 'L2', 'L3', 'NOPE', 'X9']

    const first = await sign(alice, selection, version, 'alice', 'approved')
    expect(first.statusCode, first.body).toBe(200)
    expect(first.body).toContain('data-status="awaiting-second-signature"')
    expect(first.body).toContain('Alice Approver')
    expect(first.body).toContain('Would release: <code>L1</code>, <code>L2</code> · refused: <code>L3</code>')
    // the requester again, from the second approver's session: refused, nothing stored
    const twice = await sign(bob, selection, version, 'alice', 'released')
    expect(twice.statusCode).toBe(403)
    expect(twice.headers['hx-retarget']).toBe('#mr-sign-msg')
    expect(twice.body).toContain('QLK_TWO_PERSON_SAME_SIGNER')
    expect(await signatures()).toBe(1)
    expect(await released()).toEqual([])

    const second = await sign(bob, selection, version, 'bob', 'released')
    expect(second.statusCode, second.body).toBe(200)
    expect(second.body).toContain('data-status="released"')
    expect(second.body).toMatch(/Released 2 lots/)
    await until(async () => {
      const r = await runs()
      return r.length === 2 && r.every((x) => x.status === 'completed')
    })
    for (const b of ['L1', 'L2']) expect(s.stock(b)).toMatchObject({ unrestricted: 100_000, blocked: 0 })
    expect(s.stock('L3')).toMatchObject({ blocked: 100_000 })
    const progress = await hub.q.app.inject({
      method: 'GET',
      url: `/ui/partials/mass-release/runs?version=${version}&lot=L1&lot=L2`,
      headers: { cookie: bob },
    })
    expect(progress.body).toContain('data-done="true"')
    expect(progress.body.match(/badge ok">completed/g)).toHaveLength(2)
    const [audit] = await executed()
    expect(audit).toMatchObject({ plant: '1000', actor: 'ui:bob', subject: `mass-release:${version}` })
  })

  it('refuses a cross-site post, a viewer, another plant’s approver and signer, and a form without its meaning', async () => {
    const s = massReleaseScenario(hub)
    await s.seed()
    const alice = await session('alice')
    const preview = await post(alice, '/ui/mass-release/preview', lotsForm(['L1', 'L2']))
    const version = versionOf(preview.body)
    // CSRF: a form posted from another site, by Fetch Metadata or by Origin
    for (const h of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'http://evil.example' }]) {
      const r = await post(
        alice,
        '/ui/mass-release/sign',
        [
          ...lotsForm(['L1', 'L2']),
          ['version', version],
          ['signer', 'alice'],
          ['password', PW.alice],
          ['meaning', 'approved'],
        ],
        h,
      )
      expect(r.statusCode).toBe(403)
      expect(r.body).toMatch(/Action refused: the request came from another (site|origin)/)
    }
    // a viewer may neither open the page nor preview
    const vera = await session('vera')
    expect(
      (await hub.q.app.inject({ method: 'GET', url: '/ui/mass-release', headers: { cookie: vera } }))
        .statusCode,
    ).toBe(403)
    expect((await post(vera, '/ui/mass-release/preview', lotsForm(['L1']))).statusCode).toBe(403)
    // plant 2000's approver: plant 1000's lots do not exist for her, to preview or to sign
    const carol = await session('carol')
    const other = await post(carol, '/ui/mass-release/preview', lotsForm(['L1', 'L2']))
    expect(other.statusCode).toBe(404)
    expect(other.body).toContain('none of the lots was found')
    expect((await sign(carol, ['L1', 'L2'], version, 'carol', 'approved')).statusCode).toBe(404)
    // and her signature cannot be put on plant 1000's selection from Alice's session
    const asCarol = await sign(alice, ['L1', 'L2'], version, 'carol', 'approved')
    expect(asCarol.statusCode).toBe(403)
    expect(asCarol.body).toContain('may not sign records of plant 1000')
    // the meaning must be confirmed; a wrong password signs nothing
    const noMeaning = await post(alice, '/ui/mass-release/sign', [
      ...lotsForm(['L1', 'L2']),
      ['version', version],
      ['signer', 'alice'],
      ['password', PW.alice],
    ])
    expect(noMeaning.statusCode).toBe(422)
    expect(noMeaning.body).toContain('meaning:')
    const wrong = await post(alice, '/ui/mass-release/sign', [
      ...lotsForm(['L1', 'L2']),
      ['version', version],
      ['signer', 'alice'],
      ['password', PW.bob],
      ['meaning', 'approved'],
    ])
    expect(wrong.statusCode).toBe(401)
    expect(wrong.body).toContain('QLK_REAUTH_FAILED')
    expect(await signatures()).toBe(0)
    expect(await released()).toEqual([])
  })

  it('stores neither the release events nor their audit when the commit fails, and executes on a retry', async () => {
    const s = massReleaseScenario(hub)
    await s.seed()
    const alice = await session('alice')
    const bob = await session('bob')
    const version = versionOf((await post(alice, '/ui/mass-release/preview', lotsForm(['L1', 'L2']))).body)
    expect((await sign(alice, ['L1', 'L2'], version, 'alice', 'approved')).statusCode).toBe(200)
    await rawExec(hub.db, hub.store, POISON[dialect])
    const failed = await sign(bob, ['L1', 'L2'], version, 'bob', 'released')
    expect(failed.statusCode).toBe(503)
    expect(failed.body).toContain('QLK_STORE_UNAVAILABLE')
    expect(await released()).toEqual([])
    expect(await executed()).toEqual([])
    expect(await runs()).toEqual([])
    // Bob's signature stands (it was committed before the execution); executing again completes it.
    expect(await signatures()).toBe(2)
    await rawExec(hub.db, hub.store, UNPOISON[dialect])
    const retry = await sign(bob, ['L1', 'L2'], version, 'bob', 'released')
    expect(retry.statusCode, retry.body).toBe(200)
    expect(await released()).toHaveLength(2)
    expect(await executed()).toHaveLength(1)
    await until(async () => (await runs()).filter((r) => r.status === 'completed').length === 2)
  })
})

import { spawn } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { hashApiKey } from '../../src/server/auth.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import type { SignerConfig } from '../../src/signatures/service.ts'
import { lotRelease } from '../../src/workflows/lot-release.ts'
import { qualinkArgs } from '../bundle.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, bearerCall, until } from '../engine/harness.ts'
import { massReleaseScenario } from '../fixtures/mass-release.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'

const KEYS = {
  operator: 'k-operator-all-6b1f0d3e9a',
  alice: 'k-approver-alice-7c2e9a4d1b',
  bob: 'k-approver-bob-3f8a1c6e2d',
  carol: 'k-approver-carol-9d4b2e7f0c',
  viewer: 'k-viewer-1000-2a7c5e9b3d',
} as const
const PASSWORDS = {
  alice: 'alice: correct horse battery',
  bob: 'bob: Tr0ub4dor&3 longer',
  carol: 'carol pw 42!',
}
const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }

let signers: SignerConfig[]
beforeAll(async () => {
  // N = 2^14, the weakest the signer config accepts: the rule under test is not the KDF's cost.
  const hash = (pw: string) => hashPassword(pw, { N: 2 ** 14, r: 8, p: 1 })
  signers = [
    { id: 'alice', name: 'Alice Approver', passwordHash: await hash(PASSWORDS.alice), plants: ['*'] },
    { id: 'bob', name: 'Bob Releaser', passwordHash: await hash(PASSWORDS.bob), plants: ['1000'] },
    { id: 'carol', name: 'Carol Other', passwordHash: await hash(PASSWORDS.carol), plants: ['2000'] },
  ]
})

describe.each(DIALECTS)('mass release with the two-person rule on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    // Not inspection-relevant: each receipt lands in unrestricted stock; the scenario blocks it (344).
    erp: { materials: { 'RAW-100': { inspectionRelevant: false, baseUnit: 'KG' } } },
    workflows: [lotRelease()],
    apiKeys: [
      { id: 'operator', sha256: hashApiKey(KEYS.operator), roles: ['operator'], plants: ['*'] },
      { id: 'alice-key', sha256: hashApiKey(KEYS.alice), roles: ['approver'], plants: ['1000'] },
      { id: 'bob-key', sha256: hashApiKey(KEYS.bob), roles: ['approver'], plants: ['1000'] },
      { id: 'carol-key', sha256: hashApiKey(KEYS.carol), roles: ['approver'], plants: ['2000'] },
      { id: 'viewer', sha256: hashApiKey(KEYS.viewer), roles: ['viewer'], plants: ['1000'] },
    ],
    signatures: { signers },
  }))

  const call = (key: string, url: string, body: object) => bearerCall(hub.q, key, 'POST', url, body)
  const { event, seed: scenario, docs, stock } = massReleaseScenario(hub, KEYS.operator)
  const signatures = async () =>
    Number((await hub.store.sql.all('SELECT COUNT(*) AS n FROM signatures'))[0]!.n)

  const LOTS = ['L1', 'L2', 'L3', 'X9', 'NOPE']

  it('previews, refuses the requester as second signer, releases each accepted lot once after a second approver signs', async () => {
    // L1, L2 blocked with an accepting decision; L3 blocked but rejected; X9 another plant's, accepted.
    await scenario()
    const preview = await call(KEYS.alice, '/v1/lots/mass-release/preview', { lots: LOTS })
    expect(preview.statusCode).toBe(200)
    const p = preview.json()
    expect(p.eligible.map((l: { lot: string }) => l.lot)).toEqual(['L1', 'L2'])
    expect(p.refused).toEqual([
      expect.objectContaining({
        lot: 'L3',
        code: 'QLK_RELEASE_WITHOUT_ACCEPTANCE',
        reason: expect.stringMatching(/R1 is rejected/),
      }),
    ])
    // another plant's lot and a lot that does not exist are counted alike, never named
    expect(p.unknown).toBe(2)
    expect(JSON.stringify([p.eligible, p.refused])).not.toContain('X9')
    expect(p).toMatchObject({ plant: '1000', signatures: [] })

    const first = await call(KEYS.alice, '/v1/lots/mass-release', {
      lots: LOTS,
      version: p.version,
      signer: 'alice',
      password: PASSWORDS.alice,
    })
    expect(first.statusCode).toBe(202)
    expect(first.json()).toMatchObject({
      status: 'awaiting-second-signature',
      version: p.version,
      signatures: [{ signer: 'alice', printedName: 'Alice Approver', meaning: 'approved' }],
    })
    // The requester cannot be the second signer, with whichever key she calls.
    for (const key of [KEYS.alice, KEYS.bob]) {
      const again = await call(key, '/v1/lots/mass-release', {
        lots: LOTS,
        signer: 'alice',
        password: PASSWORDS.alice,
      })
      expect(again.statusCode).toBe(403)
      expect(again.json()).toMatchObject({ code: 'QLK_TWO_PERSON_SAME_SIGNER' })
    }
    // a wrong password signs nothing either
    const wrong = await call(KEYS.bob, '/v1/lots/mass-release', {
      lots: LOTS,
      signer: 'bob',
      password: PASSWORDS.alice,
    })
    expect(wrong.json()).toMatchObject({ status: 401, code: 'QLK_REAUTH_FAILED' })
    expect(await signatures()).toBe(1)
    expect(await hub.store.engine.listRuns(ALL, { workflow: 'lot-release', limit: 10 })).toEqual([])
    const before = { L1: docs('L1'), L2: docs('L2'), L3: docs('L3') }
    expect(before.L1).toEqual({ unrestricted: 1, blocked: 1 })

    const second = await call(KEYS.bob, '/v1/lots/mass-release', {
      lots: LOTS,
      version: p.version,
      signer: 'bob',
      password: PASSWORDS.bob,
    })
    expect(second.statusCode).toBe(202)
    const s = second.json()
    expect(s).toMatchObject({
      status: 'released',
      signatures: [
        { signer: 'alice', meaning: 'approved' },
        { signer: 'bob', printedName: 'Bob Releaser', meaning: 'released' },
      ],
      released: [
        { lot: 'L1', duplicate: false },
        { lot: 'L2', duplicate: false },
      ],
      refused: [{ lot: 'L3' }],
      unknown: 2,
    })
    const runs = () => hub.store.engine.listRuns(ALL, { workflow: 'lot-release', limit: 10 })
    await until(async () => {
      const r = await runs()
      return r.length === 2 && r.every((x) => x.status === 'completed')
    })
    // Executed again (a retried request): nothing new is stored, no second run, no second posting.
    const third = await call(KEYS.alice, '/v1/lots/mass-release', {
      lots: LOTS,
      signer: 'alice',
      password: PASSWORDS.alice,
    })
    expect(third.json()).toMatchObject({
      status: 'released',
      released: [
        { lot: 'L1', duplicate: true },
        { lot: 'L2', duplicate: true },
      ],
    })
    expect(await runs()).toHaveLength(2)
    // each accepted lot: exactly one more document, into unrestricted (343); the rejected one untouched
    for (const b of ['L1', 'L2'] as const) {
      expect(docs(b)).toEqual({ unrestricted: 2, blocked: 1 })
      expect(stock(b)).toMatchObject({ unrestricted: 100_000, blocked: 0 })
    }
    expect(docs('L3')).toEqual(before.L3)
    expect(stock('L3')).toMatchObject({ unrestricted: 0, blocked: 100_000 })
    const [run] = await runs()
    expect(run!.result).toMatchObject({ released: { units: 100_000, uom: 'KG' }, signedBy: ['alice', 'bob'] })
    // audited: both signatures and the execution
    const executed = await hub.store.listAudit(ALL, { action: 'lot.mass_release.executed', limit: 10 })
    expect(executed[0]).toMatchObject({
      plant: '1000',
      actor: 'api:bob-key',
      subject: `mass-release:${p.version}`,
    })
    expect(await hub.store.listAudit(ALL, { action: 'signature.signed', limit: 10 })).toHaveLength(2)
  })

  it('another plant’s approver finds nothing (404); a viewer may not preview; a new decision voids the first signature', async () => {
    await scenario()
    const other = await call(KEYS.carol, '/v1/lots/mass-release/preview', { lots: ['L1', 'L2'] })
    expect(other.json()).toMatchObject({ status: 404, code: 'QLK_NOT_FOUND' })
    const signByCarol = await call(KEYS.carol, '/v1/lots/mass-release', {
      lots: ['L1', 'L2'],
      signer: 'carol',
      password: PASSWORDS.carol,
    })
    expect(signByCarol.statusCode).toBe(404)
    expect((await call(KEYS.viewer, '/v1/lots/mass-release/preview', { lots: ['L1'] })).statusCode).toBe(403)
    // a mass release is never signed through the generic signature route
    const generic = await call(KEYS.alice, '/v1/signatures', {
      record: { kind: 'mass-release', id: '{"lots":["L1"]}' },
      meaning: 'released',
      signer: 'alice',
      password: PASSWORDS.alice,
    })
    expect(generic.json()).toMatchObject({ status: 400, code: 'QLK_VALIDATION' })
    expect(await signatures()).toBe(0)

    const first = await call(KEYS.alice, '/v1/lots/mass-release', {
      lots: ['L1', 'L2'],
      signer: 'alice',
      password: PASSWORDS.alice,
    })
    const version = first.json().version
    // L2's decision is changed to a rejection after Alice signed: a new version, which
    // Bob's signature starts afresh (his is the first on it), and L2 is refused in it.
    await event('qms.usage_decision.changed.v1', 'L2', '1000', {
      inspectionLot: 'QL-L2',
      plant: '1000',
      previousCode: 'A1',
      code: 'R1',
      valuation: 'rejected',
      reason: 'late lab result out of specification',
      audit: { ...audit, approvalStatus: 'approved' },
    })
    const stale = await call(KEYS.bob, '/v1/lots/mass-release', {
      lots: ['L1', 'L2'],
      version,
      signer: 'bob',
      password: PASSWORDS.bob,
    })
    expect(stale.json()).toMatchObject({ status: 409, code: 'QLK_RECORD_CHANGED' })
    const bob = await call(KEYS.bob, '/v1/lots/mass-release', {
      lots: ['L1', 'L2'],
      signer: 'bob',
      password: PASSWORDS.bob,
    })
    expect(bob.json()).toMatchObject({
      status: 'awaiting-second-signature',
      eligible: [{ lot: 'L1' }],
      refused: [{ lot: 'L2', code: 'QLK_RELEASE_WITHOUT_ACCEPTANCE' }],
      signatures: [{ signer: 'bob' }],
    })
    expect(bob.json().version).not.toBe(version)
    expect(await hub.store.engine.listRuns(ALL, { workflow: 'lot-release', limit: 10 })).toEqual([])
    expect(docs('L1')).toEqual({ unrestricted: 1, blocked: 1 })
  })

  /** `qualink …` as a process against this hub's Qualink, with `key` and `stdin` (the password). */
  const cli = (key: string, args: string[], stdin = '') =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const p = spawn(process.execPath, qualinkArgs(...args, '--url', hub.q.url), {
        env: { ...process.env, QUALINK_API_KEY: key },
      })
      let stdout = ''
      let stderr = ''
      p.stdout.on('data', (c) => (stdout += c))
      p.stderr.on('data', (c) => (stderr += c))
      p.on('error', reject)
      p.on('close', (code) => resolve({ code, stdout, stderr }))
      p.stdin.end(stdin)
    })

  it('the CLI previews, requests and releases, reading each password from standard input', async (ctx) => {
    if (dialect !== 'sqlite') ctx.skip() // the CLI only talks HTTP: one dialect is enough
    await scenario()
    const preview = await cli(KEYS.alice, ['mass-release', 'L1', 'L2', 'L3', '--preview'])
    expect(preview.stdout).toMatch(/^lot +plant +decision *\n.*\nL1 +1000 +A1 *\nL2 +1000 +A1 *\n/)
    expect(preview.stdout).toMatch(/refused L3: QLK_RELEASE_WITHOUT_ACCEPTANCE/)
    const version = /version ([0-9a-f]{64})/.exec(preview.stdout)![1]!
    const first = await cli(
      KEYS.alice,
      ['mass-release', 'L1', 'L2', 'L3', '--signer', 'alice', '--version', version],
      `${PASSWORDS.alice}\n`,
    )
    expect(first.stdout, first.stderr).toMatch(/signed by: Alice Approver \(alice, approved\)/)
    const same = await cli(
      KEYS.bob,
      ['mass-release', 'L1', 'L2', 'L3', '--signer', 'alice'],
      `${PASSWORDS.alice}\n`,
    )
    expect(same.code).not.toBe(0)
    expect(same.stderr).toMatch(/QLK_TWO_PERSON_SAME_SIGNER/)
    const second = await cli(
      KEYS.bob,
      ['mass-release', 'L1', 'L2', 'L3', '--signer', 'bob'],
      `${PASSWORDS.bob}\n`,
    )
    expect(second.stdout, second.stderr).toMatch(/released: L1, L2/)
    await until(async () => {
      const r = await hub.store.engine.listRuns(ALL, { workflow: 'lot-release', limit: 10 })
      return r.length === 2 && r.every((x) => x.status === 'completed')
    })
    expect(docs('L1')).toEqual({ unrestricted: 2, blocked: 1 })
  })
})

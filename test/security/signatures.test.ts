import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hashCanonical } from '../../src/audit/canonical-json.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { hashPassword, parseScrypt } from '../../src/signatures/password.ts'
import { SIGNER_DECOY, type SignerConfig } from '../../src/signatures/service.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, bearerCall, type DemoHub, demoEvent, startDemoHub, until } from '../engine/harness.ts'

const KEYS = {
  operator: 'k-operator-all-5d2a8c7e1b',
  alice: 'k-approver-alice-0c4f9e2a7d',
  bob: 'k-approver-bob-8e1b6d3f5a',
  admin: 'k-admin-auditor-2f7c0a9e4b',
} as const
const PASSWORDS = { alice: 'correct horse battery staple', bob: 'Tr0ub4dor&3-but-longer' }

let signers: SignerConfig[]
beforeAll(async () => {
  // Default scrypt parameters (N = 2^17): the same cost production pays.
  signers = [
    { id: 'alice', name: 'Alice Approver', passwordHash: await hashPassword(PASSWORDS.alice), plants: ['*'] },
    { id: 'bob', name: 'Bob Reviewer', passwordHash: await hashPassword(PASSWORDS.bob), plants: ['P100'] },
  ]
})

describe.each(DIALECTS)('electronic signatures and the two-person rule on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      sealIntervalMs: 50,
      apiKeys: [
        { id: 'operator', sha256: hashApiKey(KEYS.operator), roles: ['operator'], plants: ['*'] },
        { id: 'alice-key', sha256: hashApiKey(KEYS.alice), roles: ['approver'], plants: ['*'] },
        { id: 'bob-key', sha256: hashApiKey(KEYS.bob), roles: ['approver'], plants: ['P100'] },
        { id: 'admin', sha256: hashApiKey(KEYS.admin), roles: ['admin', 'auditor'], plants: ['*'] },
      ],
      signatures: { signers, bulkReplayTwoPersonOver: 1 },
    })
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  const call = (key: string, method: 'GET' | 'POST', url: string, body?: object) =>
    bearerCall(hub!.q, key, method, url, body)
  const sign = (key: string, record: object, signer: string, password: string, meaning = 'approved') =>
    call(key, 'POST', '/v1/signatures', { record, meaning, signer, password })
  const openDeadLetters = async () =>
    (await call(KEYS.admin, 'GET', '/v1/dead-letters?status=open')).json().deadLetters as Array<{
      id: number
      status: string
    }>
  const stored = async () => Number((await hub!.store.sql.all('SELECT COUNT(*) AS n FROM signatures'))[0]!.n)
  const signedAudit = () => hub!.store.listAudit(ALL, { action: 'signature.signed', limit: 10 })

  /** `n` failing demo orders of plant P100, each parked as one open dead letter. */
  async function deadLetters(n: number) {
    for (let i = 0; i < n; i++) {
      const order = demoEvent('order_received', { order: `O-${i}`, lines: 1, failOnLine: 1 })
      const r = await call(KEYS.operator, 'POST', '/v1/events', order)
      expect(r.statusCode).toBe(202)
    }
    await until(async () => (await openDeadLetters()).length === n)
    return openDeadLetters()
  }

  it('records printed name, DB time, meaning and the record version’s SHA-256, in the audit chain', async () => {
    const [dl] = await deadLetters(1)
    const before = await hub!.store.now()
    const r = await sign(
      KEYS.alice,
      { kind: 'dead-letter', id: String(dl!.id) },
      'alice',
      PASSWORDS.alice,
      'reviewed',
    )
    expect(r.statusCode).toBe(201)
    const sig = r.json()
    expect(sig).toMatchObject({
      signerId: 'alice',
      printedName: 'Alice Approver',
      meaning: 'reviewed',
      recordKind: 'dead-letter',
      recordId: String(dl!.id),
      // The hash is of the dead letter exactly as the API shows it.
      recordHash: hashCanonical(dl),
      method: 'password',
      actor: 'api:alice-key',
    })
    expect(sig.signedAtMs).toBeGreaterThanOrEqual(before)
    expect(sig.signedAtMs).toBeLessThanOrEqual(await hub!.store.now())
    expect((await call(KEYS.admin, 'GET', `/v1/signatures/${sig.id}`)).json()).toMatchObject({
      id: sig.id,
      valid: true,
      currentHash: sig.recordHash,
    })
    const [audit] = await signedAudit()
    expect(audit).toMatchObject({ actor: 'api:alice-key', subject: `dead-letter:${dl!.id}` })
    // The sealer chains the signature's audit row like any other; the chain verifies.
    await until(async () => (await call(KEYS.admin, 'GET', '/v1/audit/verify')).json().unsealed === 0)
    const report = (await call(KEYS.admin, 'GET', '/v1/audit/verify')).json()
    expect(report).toMatchObject({ ok: true, unsealed: 0 })
    expect(report.checked).toBeGreaterThanOrEqual(audit!.seq)
    // Signatures are append-only in the database itself.
    await expect(hub!.store.sql.run('UPDATE signatures SET meaning = ?', ['released'])).rejects.toThrow(
      /QLK_AUDIT_IMMUTABLE/,
    )
  })

  it('refuses a wrong password, an unknown signer and a non-approver, storing nothing', async () => {
    // an unknown signer is checked against a decoy with the real parameters, so it costs the same
    // scrypt run as a known one (a malformed decoy would skip it and answer faster)
    expect(parseScrypt(SIGNER_DECOY)?.params).toEqual({ N: 2 ** 17, r: 8, p: 1 })
    const [dl] = await deadLetters(1)
    const record = { kind: 'dead-letter', id: String(dl!.id) }
    for (const [signer, password] of [
      ['alice', PASSWORDS.bob],
      ['mallory', PASSWORDS.alice],
    ] as const) {
      const r = await sign(KEYS.alice, record, signer, password)
      expect(r.statusCode).toBe(401)
      expect(r.json()).toMatchObject({ code: 'QLK_REAUTH_FAILED' })
      expect(r.json().detail).toMatch(/nothing was signed/)
    }
    expect((await sign(KEYS.operator, record, 'alice', PASSWORDS.alice)).json()).toMatchObject({
      status: 403,
      code: 'QLK_FORBIDDEN',
    })
    expect(await stored()).toBe(0)
    expect(await signedAudit()).toEqual([])
  })

  it('invalidates a signature when the record changes', async () => {
    const [dl] = await deadLetters(1)
    const sig = (
      await sign(KEYS.alice, { kind: 'dead-letter', id: String(dl!.id) }, 'alice', PASSWORDS.alice)
    ).json()
    expect((await call(KEYS.alice, 'GET', `/v1/signatures/${sig.id}`)).json().valid).toBe(true)
    expect((await call(KEYS.operator, 'POST', `/v1/dead-letters/${dl!.id}/replay`)).statusCode).toBe(202)
    const after = (await call(KEYS.alice, 'GET', `/v1/signatures/${sig.id}`)).json()
    expect(after.valid).toBe(false)
    expect(after.currentHash).not.toBe(sig.recordHash)
    expect(after.recordHash).toBe(sig.recordHash)
  })

  it('blocks a bulk replay above the threshold until a second, different person signs', async () => {
    const signedFor = (await deadLetters(2)).map((d) => d.id)
    const bulk = { kind: 'bulk-replay', filter: {} }
    const replay = () => call(KEYS.operator, 'POST', '/v1/dead-letters/replay?wait=true', {})
    const blocked = await replay()
    expect(blocked.json()).toMatchObject({ status: 403, code: 'QLK_SIGNATURES_REQUIRED' })
    expect(blocked.json().detail).toMatch(/signed so far: nobody/)

    expect((await sign(KEYS.alice, bulk, 'alice', PASSWORDS.alice)).statusCode).toBe(201)
    // The same person cannot be both signers, whichever key they use.
    const again = await sign(KEYS.bob, bulk, 'alice', PASSWORDS.alice)
    expect(again.json()).toMatchObject({ status: 409, code: 'QLK_SIGNATURE_DUPLICATE' })
    expect(await stored()).toBe(1)
    const stillBlocked = await replay()
    expect(stillBlocked.json()).toMatchObject({ code: 'QLK_SIGNATURES_REQUIRED' })
    expect(stillBlocked.json().detail).toMatch(/signed so far: alice/)
    expect(await openDeadLetters()).toHaveLength(2)

    expect((await sign(KEYS.bob, bulk, 'bob', PASSWORDS.bob)).statusCode).toBe(201)
    const done = await replay()
    expect(done.statusCode).toBe(202)
    expect(done.json().replayed).toHaveLength(2)
    // both replayed; a replayed run that fails again opens a new dead letter at once (the orders
    // still fail), so the originals, not the open list, say what the replay did
    expect(
      done
        .json()
        .replayed.map((d: { id: number }) => d.id)
        .sort(),
    ).toEqual(signedFor.sort())
    expect((await openDeadLetters()).filter((d) => signedFor.includes(d.id))).toEqual([])
    // The bulk-replay signatures bound the set that was replayed; it has changed since.
    const listed = (
      await call(
        KEYS.admin,
        'GET',
        `/v1/signatures?kind=bulk-replay&id=${encodeURIComponent('{"max":1000}')}`,
      )
    ).json().signatures
    expect(listed.map((s: { signerId: string; valid: boolean }) => [s.signerId, s.valid])).toEqual([
      ['alice', false],
      ['bob', false],
    ])
  })

  it('lets a small bulk replay through without signatures', async () => {
    await deadLetters(1)
    const r = await call(KEYS.operator, 'POST', '/v1/dead-letters/replay?wait=true', {})
    expect(r.statusCode).toBe(202)
    expect(r.json().replayed).toHaveLength(1)
  })
})

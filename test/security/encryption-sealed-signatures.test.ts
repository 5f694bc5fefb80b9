/**
 * A sealed bundle whose signed run journaled a marked value: the signature's record hash is over
 * the plaintext run, so without keys it is named as not checked (never counted as bound), and
 * with the keys it binds as in a plaintext bundle. Both dialects.
 */
import { randomBytes } from 'node:crypto'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { EvidenceBundle } from '../../src/audit/evidence.ts'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import { FieldCipher, type FieldEncryptionConfig } from '../../src/security/encryption.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, bearerCall, type DemoHub, demoEvent, startDemoHub, until } from '../engine/harness.ts'

const KEYS = { alice: 'k-approver-alice-sealed-51c0', admin: 'k-admin-auditor-sealed-7d2e' } as const
const PASSWORD = 'correct horse battery staple'
const cipher = new FieldCipher({
  keys: new Map([['k1', randomBytes(32)]]),
  activeKey: 'k1',
  // the demo run waits for the approval: its journal holds the event, approver encrypted
  fields: { 'qualink.demo.approval_given.v1': ['/data/approver'] },
} as FieldEncryptionConfig)
let passwordHash: string
beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD)
})

describe.each(DIALECTS)('a sealed bundle with a signed run on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined
  const tag = randomBytes(4).toString('hex')

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      sealIntervalMs: 50,
      encryption: cipher,
      apiKeys: [
        { id: 'alice-key', sha256: hashApiKey(KEYS.alice), roles: ['approver'], plants: ['*'] },
        { id: 'admin', sha256: hashApiKey(KEYS.admin), roles: ['admin', 'auditor'], plants: ['*'] },
      ],
      signatures: { signers: [{ id: 'alice', name: 'Alice Approver', passwordHash, plants: ['*'] }] },
    })
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  it('names the record hash as not checked without keys and binds the signature with them', async () => {
    const call = (method: 'GET' | 'POST', url: string, body?: object, key: string = KEYS.admin) =>
      bearerCall(hub!.q, key, method, url, body)
    const key = `LOT-${tag}`
    const approver = `APPROVER-${tag}`
    for (const e of [
      demoEvent('order_received', { order: key, lines: 1 }),
      demoEvent('approval_given', { order: key, approver }),
    ])
      expect((await call('POST', '/v1/events', e)).statusCode).toBe(202)
    await until(
      async () =>
        (await hub!.q.store.engine.listRuns(ALL, { key, status: 'completed', limit: 10 })).length === 1,
    )
    const [run] = await hub!.q.store.engine.listRuns(ALL, { key, limit: 10 })
    const signed = await call(
      'POST',
      '/v1/signatures',
      { record: { kind: 'run', id: run!.id }, meaning: 'released', signer: 'alice', password: PASSWORD },
      KEYS.alice,
    )
    expect(signed.statusCode).toBe(201)
    await until(async () => (await call('GET', '/v1/audit/verify')).json().unsealed === 0)

    const res = await call('GET', `/v1/lots/${key}/evidence?sealed=true`)
    expect(res.statusCode).toBe(200)
    expect(res.body).not.toContain(approver)
    const sealed = res.json() as EvidenceBundle
    expect(JSON.stringify(sealed.runs[0]!.journal)).toContain('"$enc":"v1"')
    // `current` is decided on the plaintext run, as in the plaintext bundle
    expect(sealed.signatures.map((s) => s.current)).toEqual([true])
    const bare = verifyBundle(sealed)
    expect(bare.problems).toEqual([])
    expect(bare.checked.signatures).toEqual({ bound: 0, earlier: 0 })
    expect(bare.notChecked).toContain(
      `signature ${sealed.signatures[0]!.id}: the record hash of run ${run!.id} not checked: encrypted (key k1); verify with --keys`,
    )
    const keyed = verifyBundle(sealed, { decrypt: (v) => cipher.decryptDeep(v) })
    expect(keyed.problems).toEqual([])
    expect(keyed.notChecked).toEqual([])
    expect(keyed.checked.signatures).toEqual({ bound: 1, earlier: 0 })
  })
})

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hashCanonical } from '../../src/audit/canonical-json.ts'
import type { EvidenceBundle } from '../../src/audit/evidence.ts'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, bearerCall, type DemoHub, demoEvent, startDemoHub, until } from '../engine/harness.ts'

const KEYS = { alice: 'k-approver-alice-6b1e0d9c3a', admin: 'k-admin-auditor-9a4c2e7f1b' } as const
const PASSWORD = 'correct horse battery staple'
let passwordHash: string
beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD)
})

/** The bundle with its digest recomputed: a forger's copy, so only the content checks can catch it. */
function redigest(b: EvidenceBundle): EvidenceBundle {
  const { digest: _d, ...body } = b
  return { ...body, digest: hashCanonical(body) }
}

describe.each(DIALECTS)('evidence bundles with e-signatures on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, {
      sealIntervalMs: 50,
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

  const call = (key: string, method: 'GET' | 'POST', url: string, body?: object) =>
    bearerCall(hub!.q, key, method, url, body)

  /** A finished run keyed by `key`, signed by Alice, every audit entry sealed: its bundle. */
  async function signedBundle(key: string): Promise<EvidenceBundle> {
    for (const e of [
      demoEvent('order_received', { order: key, lines: 1 }),
      demoEvent('approval_given', { order: key, approver: 'qa' }),
    ])
      expect((await call(KEYS.admin, 'POST', '/v1/events', e)).statusCode).toBe(202)
    await until(
      async () =>
        (await hub!.store.engine.listRuns(ALL, { key, status: 'completed', limit: 10 })).length === 1,
    )
    const [run] = await hub!.store.engine.listRuns(ALL, { key, limit: 10 })
    const signed = await call(KEYS.alice, 'POST', '/v1/signatures', {
      record: { kind: 'run', id: run!.id },
      meaning: 'released',
      signer: 'alice',
      password: PASSWORD,
    })
    expect(signed.statusCode).toBe(201)
    await until(async () => (await call(KEYS.admin, 'GET', '/v1/audit/verify')).json().unsealed === 0)
    const res = await call(KEYS.admin, 'GET', `/v1/lots/${key}/evidence`)
    expect(res.statusCode).toBe(200)
    return res.json() as EvidenceBundle
  }

  it('carries the signatures on its runs, bound to the run version it holds, and catches a tampered one', async () => {
    const b = await signedBundle('LOT-S1')
    expect(b.signatures).toHaveLength(1)
    const [sig] = b.signatures
    expect(sig).toMatchObject({
      signer: 'alice',
      printedName: 'Alice Approver',
      meaning: 'released',
      recordKind: 'run',
      recordId: b.runs[0]!.id,
      method: 'password',
      current: true,
    })
    expect(sig!.recordHash).toBe(
      hashCanonical({ run: b.runs[0]!.row, journal: b.runs[0]!.journal, waits: b.runs[0]!.waits }),
    )
    expect(new Date(sig!.signedAt).getTime()).toBe(sig!.signedAtMs)
    expect(b.audit.find((a) => a.row.seq === sig!.auditSeq)?.row.action).toBe('signature.signed')
    const clean = verifyBundle(b)
    expect(clean.problems).toEqual([])
    expect(clean.checked.signatures).toEqual({ bound: 1, earlier: 0 })

    // Each forgery keeps the digest consistent: the signature checks catch it, not the digest.
    const forged = (change: (c: EvidenceBundle) => void) => {
      const c = structuredClone(b)
      change(c)
      return verifyBundle(redigest(c)).problems
    }
    expect(forged((c) => Object.assign(c.signatures[0]!, { printedName: 'Mallory' }))).toEqual([
      `signature ${sig!.id}: printedName differs from its audit entry`,
    ])
    expect(forged((c) => Object.assign(c.signatures[0]!, { meaning: 'approved' }))).toEqual([
      `signature ${sig!.id}: meaning differs from its audit entry`,
    ])
    expect(forged((c) => Object.assign(c.signatures[0]!, { signedAtMs: sig!.signedAtMs + 1 }))).toContain(
      `signature ${sig!.id}: time differs from its audit entry`,
    )
    // the signed record changed after signing: its hash no longer matches the signature
    expect(forged((c) => c.runs[0]!.journal.pop())).toEqual([
      `signature ${sig!.id}: run ${sig!.recordId} does not match the record hash it signed`,
    ])
    expect(
      forged((c) =>
        c.audit.splice(
          c.audit.findIndex((a) => a.row.seq === sig!.auditSeq),
          1,
        ),
      ),
    ).toContain(`signature ${sig!.id}: its audit entry ${sig!.auditSeq} is not in the bundle`)
    // an unchanged copy that lost its digest check
    expect(verifyBundle({ ...b, lot: 'LOT-S2' }).problems).toEqual([
      'the bundle does not match its digest (a changed copy)',
    ])
  })

  it('never verifies a bundle with one byte changed (a sampled sweep)', async () => {
    const text = Buffer.from(JSON.stringify(await signedBundle('LOT-S3')))
    expect(verifyBundle(JSON.parse(text.toString('utf8'))).ok).toBe(true)
    let seed = 20261127
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    const N = 400
    let unparsable = 0
    for (let i = 0; i < N; i++) {
      const at = Math.floor(rnd() * text.length)
      const copy = Buffer.from(text)
      copy[at] = copy[at]! ^ (1 << Math.floor(rnd() * 7)) // one bit of one byte
      let parsed: unknown
      try {
        parsed = JSON.parse(copy.toString('utf8'))
      } catch {
        unparsable++
        continue
      }
      const r = verifyBundle(parsed as EvidenceBundle)
      expect(
        r.ok,
        `byte ${at} ('${String.fromCharCode(text[at]!)}' → '${String.fromCharCode(copy[at]!)}')`,
      ).toBe(false)
    }
    // most flips land in string values and still parse: the verifier, not the parser, refuses them
    expect(unparsable).toBeLessThan(N / 2)
  })
})

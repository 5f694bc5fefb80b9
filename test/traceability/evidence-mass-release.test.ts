import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { hashCanonical } from '../../src/audit/canonical-json.ts'
import type { EvidenceBundle } from '../../src/audit/evidence.ts'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import type { SignerConfig } from '../../src/signatures/service.ts'
import { qualinkArgs } from '../bundle.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, bearerCall, until } from '../engine/harness.ts'
import { massReleaseHubOptions, massReleaseScenario, OPERATOR_KEY, PW } from '../fixtures/mass-release.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'

const run = promisify(execFile)

const KEYS = {
  approver1000: 'k-approver-1000-ev-5c3a9e1d7b',
  approverAll: 'k-approver-all-ev-8d2f4b6a0c',
  auditor1000: 'k-auditor-1000-ev-1e7c3a9b5d',
  auditorAll: 'k-auditor-all-ev-4b9d1f3e7a',
} as const

let signers: SignerConfig[]
beforeAll(async () => {
  // N = 2^14, the weakest the signer config accepts: the rule under test is not the KDF's cost.
  const hash = (pw: string) => hashPassword(pw, { N: 2 ** 14, r: 8, p: 1 })
  // both may sign for every plant, so one test signs a release over plants 1000 and 2000
  signers = [
    { id: 'alice', name: 'Alice Approver', passwordHash: await hash(PW.alice), plants: ['*'] },
    { id: 'bob', name: 'Bob Releaser', passwordHash: await hash(PW.bob), plants: ['*'] },
  ]
})

/** The bundle with its digest recomputed: a forger's copy, so only the content checks can catch it. */
function redigest(b: EvidenceBundle): EvidenceBundle {
  const { digest: _d, ...body } = b
  return { ...body, digest: hashCanonical(body) }
}

/** One character of a string changed: one byte of the file (ASCII). */
const oneByte = (s: string) => `${s.slice(0, -1)}${s.endsWith('x') ? 'y' : 'x'}`

describe.each(DIALECTS)('evidence bundles with mass-release signatures on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => {
    const base = massReleaseHubOptions({ users: [], signers })
    return {
      ...base,
      sealIntervalMs: 50,
      apiKeys: [
        ...(base.apiKeys ?? []),
        { id: 'appr-1000', sha256: hashApiKey(KEYS.approver1000), roles: ['approver'], plants: ['1000'] },
        { id: 'appr-all', sha256: hashApiKey(KEYS.approverAll), roles: ['approver'], plants: ['*'] },
        { id: 'aud-1000', sha256: hashApiKey(KEYS.auditor1000), roles: ['auditor'], plants: ['1000'] },
        { id: 'aud-all', sha256: hashApiKey(KEYS.auditorAll), roles: ['auditor'], plants: ['*'] },
      ],
    }
  })
  const scenario = massReleaseScenario(hub, OPERATOR_KEY)
  const call = (key: string, method: 'GET' | 'POST', url: string, body?: object) =>
    bearerCall(hub.q, key, method, url, body)
  const offline = (...args: string[]) => run(process.execPath, qualinkArgs(...args), { cwd: process.cwd() })

  /** Alice requests, Bob releases `lots` with `key`; returns the version both signed. */
  async function release(key: string, lots: string[], released: number): Promise<string> {
    const preview = await call(key, 'POST', '/v1/lots/mass-release/preview', { lots })
    expect(preview.statusCode, preview.body).toBe(200)
    const version = preview.json().version as string
    for (const [signer, status] of [
      ['alice', 'awaiting-second-signature'],
      ['bob', 'released'],
    ] as const) {
      const r = await call(key, 'POST', '/v1/lots/mass-release', {
        lots,
        version,
        signer,
        password: PW[signer],
      })
      expect(r.statusCode, r.body).toBe(202)
      expect(r.json().status).toBe(status)
    }
    await until(
      async () =>
        (await hub.store.engine.listRuns(ALL, { workflow: 'lot-release', limit: 10 })).length === released,
    )
    return version
  }

  async function bundle(key: string, lot: string): Promise<EvidenceBundle> {
    await until(async () => (await call(KEYS.auditorAll, 'GET', '/v1/audit/verify')).json().unsealed === 0)
    const res = await call(key, 'GET', `/v1/lots/${lot}/evidence`)
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as EvidenceBundle
  }

  it('carries both signatures of a release of plant 1000 with the selection they bound, and verifies offline', async () => {
    await scenario.seed()
    // L1, L2 accepted; L3 rejected; X9 plant 2000's; NOPE does not exist: the requester typed them all
    const version = await release(KEYS.approver1000, ['L1', 'L2', 'L3', 'X9', 'NOPE'], 2)
    // A later decision on L2 moves the selection to a new version: the bundle still finds the one signed.
    const KG100 = { units: 100_000, scale: 3, uom: 'KG' }
    await scenario.event('qms.usage_decision.made.v1', 'L2', '1000', {
      inspectionLot: 'QL-L2-2',
      plant: '1000',
      lot: 'L2',
      code: 'R1',
      valuation: 'rejected',
      stockPostings: [{ code: 'SCRAP', quantity: KG100 }],
      audit: { timestamp: '2026-11-27T09:00:00Z', sourceSystem: 'test', approvalStatus: 'approved' },
    })
    const now = await call(KEYS.approver1000, 'POST', '/v1/lots/mass-release/preview', {
      lots: ['L1', 'L2', 'L3', 'X9', 'NOPE'],
    })
    expect(now.json().version).not.toBe(version)
    for (const lot of ['L1', 'L3']) {
      const b = await bundle(KEYS.auditor1000, lot)
      const mass = b.signatures.filter((s) => s.recordKind === 'mass-release')
      expect(mass.map((s) => [s.signer, s.printedName, s.meaning, s.recordHash, s.current])).toEqual([
        ['alice', 'Alice Approver', 'approved', version, true],
        ['bob', 'Bob Releaser', 'released', version, true],
      ])
      for (const s of mass) {
        expect(b.audit.find((a) => a.row.seq === s.auditSeq)?.row.action).toBe('signature.signed')
      }
      expect(b.massReleases).toHaveLength(1)
      const [m] = b.massReleases
      expect(m!.version).toBe(version)
      expect(m!.selection.lots).toEqual(['L1', 'L2', 'L3', 'NOPE', 'X9'])
      expect(m!.eligible.map((l) => l.lot)).toEqual(['L1', 'L2'])
      expect(m!.refused.map((l) => l.lot)).toEqual(['L3'])
      // the other plant's lot is only a name the requester typed: no verdict, plant or material of it
      expect(JSON.stringify([m!.eligible, m!.refused])).not.toContain('X9')
      expect(JSON.stringify(b)).not.toContain('"2000"')
      const executed = b.audit.filter((a) => a.row.action === 'lot.mass_release.executed')
      expect(executed.map((a) => [a.row.plant, (a.payload as { released: string[] }).released])).toEqual([
        ['1000', ['L1', 'L2']],
      ])
      const check = verifyBundle(b)
      expect(check.problems).toEqual([])
      expect(check.checked.massReleases).toBe(1)
      expect(check.checked.signatures.bound).toBeGreaterThanOrEqual(2)
    }

    // The stand-alone verifier, as a process, on the file the auditor receives.
    const b = await bundle(KEYS.auditor1000, 'L1')
    const file = (name: string, x: EvidenceBundle) => {
      const f = path.join(hub.db.dir, name)
      writeFileSync(f, JSON.stringify(x, null, 2))
      return f
    }
    expect((await offline('audit', 'verify-bundle', file('ok.json', b))).stdout).toMatch(
      /^evidence OK: .*1 mass release selections hashed to the version signed/,
    )
    const bob = b.signatures.findIndex((s) => s.signer === 'bob' && s.recordKind === 'mass-release')
    const changed = {
      'a signature field': (c: EvidenceBundle) => {
        Object.assign(c.signatures[bob]!, { printedName: oneByte(c.signatures[bob]!.printedName) })
      },
      'a lot of the selection': (c: EvidenceBundle) => {
        Object.assign(c.massReleases[0]!.selection, { lots: ['L1', 'L2', 'L3', 'NOPE', 'X8'] })
      },
      'a verdict': (c: EvidenceBundle) => {
        Object.assign(c.massReleases[0]!.eligible[1]!.decision, { code: 'A2' })
      },
    }
    const sig = b.signatures[bob]!
    // a record no signature in the bundle bound is refused, not shown as signed
    const unsigned = {
      ...structuredClone(b),
      signatures: b.signatures.filter((s) => s.recordKind !== 'mass-release'),
    }
    expect(verifyBundle(redigest(unsigned)).problems).toEqual([
      `mass release ${b.massReleases[0]!.version}: no signature in the bundle signed it`,
    ])
    const executedSeq = b.audit.find((a) => a.row.action === 'lot.mass_release.executed')!.row.seq
    const expected = {
      // both sealed entries that name the signer catch it: its signature entry and the execution's
      'a signature field': [
        `mass release ${sig.recordHash}: signature ${sig.id} differs from its execution entry ${executedSeq}`,
        `signature ${sig.id}: printedName differs from its audit entry`,
      ],
      'a lot of the selection': [
        `mass release ${sig.recordHash}: its selection and verdicts do not match the version signed`,
        `signature ${b.signatures[bob - 1]!.id}: the selection differs from the one it signed`,
        `signature ${sig.id}: the selection differs from the one it signed`,
      ],
      'a verdict': [
        `mass release ${sig.recordHash}: its selection and verdicts do not match the version signed`,
      ],
    }
    for (const [what, change] of Object.entries(changed) as Array<
      [keyof typeof changed, (typeof changed)['a verdict']]
    >) {
      const copy = structuredClone(b)
      change(copy)
      // a damaged copy: the process refuses it (the digest, and the content check)
      await expect(offline('audit', 'verify-bundle', file('changed.json', copy)), what).rejects.toMatchObject(
        {
          code: 1,
          stdout: expect.stringContaining(expected[what][0]!),
        },
      )
      // a forger's copy with its digest recomputed: the content checks alone catch it
      expect(verifyBundle(redigest(copy)).problems, what).toEqual(expected[what])
    }
  })

  it('shows a release over two plants to a plant-1000 auditor by its plant’s execution only, never naming plant 2000’s lot', async () => {
    await scenario.seed()
    const version = await release(KEYS.approverAll, ['L1', 'X9'], 2)
    const all = await bundle(KEYS.auditorAll, 'L1')
    expect(
      all.signatures.filter((s) => s.recordKind === 'mass-release').map((s) => [s.plant, s.meaning]),
    ).toEqual([
      ['*', 'approved'],
      ['*', 'released'],
    ])
    expect(all.massReleases.map((m) => [m.version, m.eligible.map((l) => l.lot)])).toEqual([
      [version, ['L1', 'X9']],
    ])
    expect(verifyBundle(all).problems).toEqual([])

    const mine = await bundle(KEYS.auditor1000, 'L1')
    expect(JSON.stringify(mine)).not.toContain('X9')
    expect(mine.signatures.filter((s) => s.recordKind === 'mass-release')).toEqual([])
    expect(mine.massReleases).toEqual([])
    // the plant's execution entry names both signers and the version, and only plant 1000's lots
    const executed = mine.audit.filter((a) => a.row.action === 'lot.mass_release.executed')
    expect(executed.map((a) => a.payload)).toEqual([
      expect.objectContaining({
        version,
        released: ['L1'],
        refused: [],
        signatures: [
          expect.objectContaining({ signer: 'alice', meaning: 'approved' }),
          expect.objectContaining({ signer: 'bob', meaning: 'released' }),
        ],
      }),
    ])
    expect(verifyBundle(mine).problems).toEqual([])
  })
})

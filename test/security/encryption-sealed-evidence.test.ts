/**
 * Sealed evidence exports (issue 10 item 4): `qualink audit export` writes a lot's bundle with the
 * marked fields as their stored envelopes, and `qualink audit verify-bundle` (both as processes)
 * verifies it without keys, naming what it could not check, and fully with `--keys`. Both dialects.
 */
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashCanonical } from '../../src/audit/canonical-json.ts'
import type { EvidenceBundle } from '../../src/audit/evidence.ts'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { FieldCipher, type FieldEncryptionConfig } from '../../src/security/encryption.ts'
import { qualinkArgs } from '../bundle.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, append, type DemoHub, injectEvent, startDemoHub, until } from '../engine/harness.ts'
import { complaintEvent } from './fixtures.ts'

const run = promisify(execFile)
const K1 = randomBytes(32)
const K2 = randomBytes(32)
const FIELDS = {
  'crm.complaint.opened.v1': ['/data/complaint/description', '/data/complaint/customer'],
  'lims.result.reported.v1': ['/data/tests/*/value'],
}
const YAML = `version: 1
plants: {}
security:
  encryption:
    keys:
      k1: { secretEnv: QLK_TEST_K1 }
      k2: { secretEnv: QLK_TEST_K2 }
    activeKey: k2
    fields:
      crm.complaint.opened.v1: [/data/complaint/description, /data/complaint/customer]
      lims.result.reported.v1: ['/data/tests/*/value']
`

interface Complaint {
  id: string
  customer: string
  description: string
  lots: string[]
}

/** Keyed by the lot, so the bundle carries its runs: step result, run result, dead-letter payload. */
const lotEcho = defineWorkflow<unknown, unknown>({
  name: 'complaint-lot-echo',
  version: 1,
  triggers: ['crm.complaint.opened.v1'],
  key: (e) => (e.data as { complaint: Complaint }).complaint.lots[0]!,
  poisonPolicy: 'skip',
  async run(ctx, trigger) {
    const c = (trigger.envelope.data as { complaint: Complaint }).complaint
    const nc = await ctx.step('open-nonconformance', async () => ({
      record: { id: `NC-${c.id}`, title: `Complaint ${c.id} (${c.customer})` },
    }))
    if (c.description.includes('REFUSE'))
      throw new PermanentError('QLK_DEMO_REJECTED', `QMS refused: ${c.description}`)
    return { nonconformance: nc.record.id, customer: c.customer }
  },
})

describe.each(DIALECTS)('sealed evidence export and offline verification on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined
  let dir = ''
  const tag = randomBytes(4).toString('hex')
  const lot = `L-${tag}`
  const customer = `CUSTOMER-${tag}`
  const secrets = [customer, 'Jane Roe', 'John Doe']

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    dir = mkdtempSync(path.join(tmpdir(), 'qlk-sealed-'))
    const cipher = new FieldCipher({
      keys: new Map([
        ['k1', K1],
        ['k2', K2],
      ]),
      activeKey: 'k2',
      fields: FIELDS,
    } as FieldEncryptionConfig)
    hub = await startDemoHub(dialect, { encryption: cipher, sealIntervalMs: 50, workflows: [lotEcho] })
    const ok = complaintEvent(1, { lot, customer, severity: 'major', description: `Seized, call Jane Roe` })
    const bad = complaintEvent(2, { lot, customer, severity: 'major', description: 'REFUSE, ask John Doe' })
    for (const c of [ok, bad]) expect((await injectEvent(hub.q, c)).statusCode).toBe(202)
    await until(async () => {
      const runs = await hub!.q.store.engine.listRuns(ALL, { key: lot, limit: 5 })
      return runs.length === 2 && runs.every((r) => r.status === 'completed' || r.status === 'dead')
    })
    await until(async () => (await hub!.store.countUnsealedAudit()) === 0)
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const cli = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
    try {
      const r = await run(process.execPath, qualinkArgs(...args), {
        env: { ...process.env, ...env },
      })
      return { code: 0, out: r.stdout, err: r.stderr }
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string }
      return { code: x.code, out: x.stdout, err: x.stderr }
    }
  }
  const keyEnv = { QLK_TEST_K1: K1.toString('base64'), QLK_TEST_K2: K2.toString('hex') }

  it('writes no plaintext of a marked value, verifies without keys (naming what it cannot check) and fully with them', async () => {
    const file = path.join(dir, `evidence-${tag}.json`)
    const config = path.join(dir, 'qualink.yaml')
    writeFileSync(config, YAML)
    const exported = await cli({}, 'audit', 'export', '--lot', lot, '--out', file, '--url', hub!.q.url)
    expect(exported.code, exported.err).toBe(0)

    const bytes = readFileSync(file, 'utf8')
    // the control: what is not marked is in the same bytes, and the envelopes name their key
    expect(bytes).toContain('NC-C-1')
    expect(bytes).toContain('QLK_DEMO_REJECTED')
    expect(bytes).toMatch(/"kid": "k2"/)
    for (const s of secrets) expect(bytes.includes(s), `the sealed file holds '${s}'`).toBe(false)
    const bundle = JSON.parse(bytes) as EvidenceBundle
    expect(bundle.runs).toHaveLength(2)

    // without keys: everything else checked, each encrypted part named, and how many
    const expected = verifyBundle(bundle)
    expect(expected.problems).toEqual([])
    // the runs carry their step results and run result sealed too (only the digest covers an
    // unsigned run); the parts with a plaintext hash: 2 events' data and the dead-letter entry
    expect(JSON.stringify(bundle.runs)).toMatch(/"\$enc":"v1"/)
    expect(JSON.stringify(bundle.runs)).toContain('"kid":"k2"')
    expect(expected.notChecked).toHaveLength(3)
    const plain = await cli({}, 'audit', 'verify-bundle', file)
    expect(plain.code, plain.out).toBe(0)
    expect(plain.out).toContain(
      `; ${expected.notChecked.length} parts NOT CHECKED (encrypted, no keys given)`,
    )
    expect(plain.out).toContain('data hash not checked: encrypted (key k2); verify with --keys')
    expect(plain.out).toMatch(/entry \d+ \(workflow\.dead_lettered\): payload hash not checked/)

    // with the keys qualink.yaml names: every hash checked, nothing left unchecked
    const keyed = await cli(keyEnv, 'audit', 'verify-bundle', file, '--keys', '--config', config)
    expect(keyed.code, keyed.out + keyed.err).toBe(0)
    expect(keyed.out).toContain('evidence OK')
    expect(keyed.out).not.toContain('NOT CHECKED')

    // one ciphertext byte changed, the digest recomputed as a forger would
    const forged = structuredClone(bundle) as EvidenceBundle & { digest: string }
    const victim = forged.events.find((e) => e.type === 'crm.complaint.opened.v1')!
    const value = (victim.envelope.data as { complaint: { customer: { ct: string } } }).complaint.customer
    value.ct = (value.ct[0] === 'A' ? 'B' : 'A') + value.ct.slice(1)
    const { digest: _old, ...body } = forged
    forged.digest = hashCanonical(body)
    const forgedFile = path.join(dir, `forged-${tag}.json`)
    writeFileSync(forgedFile, JSON.stringify(forged, null, 2))
    const unkeyed = await cli({}, 'audit', 'verify-bundle', forgedFile)
    expect(unkeyed.code).toBe(0) // not provable without keys, and reported as such
    expect(unkeyed.out).toContain(`event ${victim.id}: data hash not checked: encrypted (key k2)`)
    const caught = await cli(keyEnv, 'audit', 'verify-bundle', forgedFile, '--keys', '--config', config)
    expect(caught.code).toBe(1)
    expect(caught.out).toContain('evidence BROKEN')
    expect(caught.out).toMatch(
      new RegExp(`event ${victim.id}: a value encrypted under key 'k2' did not authenticate`),
    )
  })

  it('--plaintext writes the decrypted bundle and the server audits that export; sealed is not audited', async () => {
    const plaintextAudits = async () =>
      (await hub!.store.listAudit(ALL, { subject: lot, limit: 1000 })).filter(
        (a) => a.action === 'evidence.exported_plaintext',
      )
    const sealedFile = path.join(dir, `sealed-${tag}.json`)
    expect(
      (await cli({}, 'audit', 'export', '--lot', lot, '--out', sealedFile, '--url', hub!.q.url)).code,
    ).toBe(0)
    expect(await plaintextAudits()).toEqual([])

    const file = path.join(dir, `plain-${tag}.json`)
    const r = await cli(
      {},
      'audit',
      'export',
      '--lot',
      lot,
      '--out',
      file,
      '--url',
      hub!.q.url,
      '--plaintext',
    )
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain('PLAINTEXT')
    const bytes = readFileSync(file, 'utf8')
    for (const s of secrets) expect(bytes).toContain(s)
    const bundle = JSON.parse(bytes) as EvidenceBundle
    const check = verifyBundle(bundle)
    expect(check.problems).toEqual([])
    expect(check.notChecked).toEqual([])
    const audits = await plaintextAudits()
    expect(audits).toHaveLength(1)
    expect(audits[0]!.actor).toMatch(/\S/)
    const [payload] = await hub!.store.sql.all('SELECT payload FROM audit_payloads WHERE audit_seq = ?', [
      audits[0]!.seq,
    ])
    const p = typeof payload!.payload === 'string' ? JSON.parse(payload!.payload) : payload!.payload
    expect(p).toEqual({ lot, form: 'plaintext', digest: bundle.digest })
  })

  it('answers the ISA-95 export decrypted (B2MML has no place for a ciphertext) and audits each such export', async () => {
    const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }
    const ev = (type: string, data: Record<string, unknown>) =>
      ({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:test',
        type,
        subject: lot,
        plant: 'P100',
        data,
      }) as never
    await append(
      hub!.q.store,
      ev('erp.goods_receipt.posted.v1', {
        materialDocument: { id: '5000000001', year: 2026, item: '0001' },
        lot: { id: lot, material: 'M-900', plant: 'P100' },
        quantity: { units: 40_000, scale: 3, uom: 'KG' },
        bucket: 'unrestricted',
        audit,
      }),
      ev('lims.result.reported.v1', {
        sample: 'LS-1',
        lot,
        plant: 'P100',
        tests: [{ characteristic: 'HARDNESS', value: '58.27', unit: 'HRC', result: 'pass' }],
        audit,
      }),
    )
    await until(async () => (await hub!.store.genealogy.getLot(ALL, lot)) !== undefined)
    const [stored] = await hub!.store.listEvents(ALL, {
      subject: lot,
      type: 'lims.result.reported.v1',
      limit: 1,
    })
    expect(JSON.stringify(stored!.envelope)).not.toContain('58.27') // at rest: the value is sealed
    const isa95 = () =>
      hub!.store
        .listAudit(ALL, { subject: lot, limit: 1000 })
        .then((rows) => rows.filter((a) => a.action === 'isa95.exported_plaintext'))
    expect(await isa95()).toEqual([])
    const xml = await hub!.q.app.inject({ method: 'GET', url: `/v1/lots/${lot}/isa95` })
    expect(xml.statusCode).toBe(200)
    expect(xml.body).toContain('58.27')
    const rows = await isa95()
    expect(rows).toHaveLength(1)
    expect(rows[0]!.plant).toBe('P100')
    // The dashboard's download is the same export, on record the same way (actor ui:…).
    const ui = await hub!.q.app.inject({ method: 'GET', url: `/ui/lots/${lot}/isa95.xml` })
    expect(ui.statusCode).toBe(200)
    expect(ui.body).toContain('58.27')
    const after = await isa95()
    expect(after).toHaveLength(2)
    expect(after.map((a) => a.actor)).toContainEqual(expect.stringMatching(/^ui:/))
  })

  it("the dashboard's evidence download is sealed: no plaintext of a marked value, and no plaintext export on record", async () => {
    const plaintext = async () =>
      (await hub!.store.listAudit(ALL, { subject: lot, limit: 1000 })).filter(
        (a) => a.action === 'evidence.exported_plaintext',
      ).length
    const before = await plaintext()
    const r = await hub!.q.app.inject({ method: 'GET', url: `/ui/lots/${lot}/evidence` })
    expect(r.statusCode).toBe(200)
    for (const s of secrets) expect(r.body).not.toContain(s)
    expect(r.body).toContain('"$enc":')
    expect(await plaintext()).toBe(before)
  })
})

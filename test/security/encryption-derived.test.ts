/**
 * Encryption beyond the event's own fields: a step result, a run's result and the audit payloads
 * a run writes, when they copy a value from a marked field (src/security/encryption-derived.ts).
 * Both dialects; the raw rows are read as text and must not hold the plaintext.
 */
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashCanonical } from '../../src/audit/canonical-json.ts'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import { EVENT_EXAMPLES } from '../../src/contracts/events/examples.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import { defineWorkflow } from '../../src/engine/workflow.ts'
import { supplierScorecard } from '../../src/projections/supplier-scorecard.ts'
import { FieldCipher, type FieldEncryptionConfig } from '../../src/security/encryption.ts'
import { rotateKeys } from '../../src/security/encryption-rotate.ts'
import { withFieldEncryption } from '../../src/security/encryption-store.ts'
import type { Store } from '../../src/store/types.ts'
import { kernelDemo } from '../../src/workflows/kernel-demo.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, type DemoHub, injectEvent, startDemoHub, until } from '../engine/harness.ts'
import { complaintEvent } from './fixtures.ts'

const K1 = randomBytes(32)
const K2 = randomBytes(32)
const FIELDS = {
  'crm.complaint.opened.v1': ['/data/complaint/description', '/data/complaint/customer'],
  // the two free-text fields the supplier scorecard projection copies
  'qms.usage_decision.made.v1': ['/data/audit/operator'],
  'qms.capa.opened.v1': ['/data/correctiveAction/title'],
}
const cipher = (keys: Record<string, Buffer>, activeKey: string) =>
  new FieldCipher({ keys: new Map(Object.entries(keys)), activeKey, fields: FIELDS } as FieldEncryptionConfig)

interface Complaint {
  id: string
  customer: string
  description: string
}

/** A QMS call that answers the customer's name inside its record, as a nonconformance title does. */
const complaintEcho = defineWorkflow<unknown, unknown>({
  name: 'complaint-echo',
  version: 1,
  triggers: ['crm.complaint.opened.v1'],
  key: (e) => (e.data as { complaint: Complaint }).complaint.id,
  poisonPolicy: 'skip',
  async run(ctx, trigger) {
    const c = (trigger.envelope.data as { complaint: Complaint }).complaint
    const nc = await ctx.step('open-nonconformance', async () => ({
      record: { id: `NC-${c.id}`, title: `Complaint ${c.id} (${c.customer})`, text: c.description },
    }))
    // an upstream refusal that echoes the text: its message lands in the dead-letter audit payload
    if (c.description.includes('REFUSE'))
      throw new PermanentError('QLK_DEMO_REJECTED', `QMS refused: ${c.description}`)
    return { nonconformance: nc.record.id, customer: c.customer }
  },
})

/** Rows of the tables that hold copies, each as the database's own text of the row. */
async function rowsText(store: Store): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [t, cols] of [
    ['run_journal', ['run_id', 'kind', 'result']],
    ['workflow_runs', ['id', 'result', 'last_error']],
    ['dead_letters', ['id', 'error']],
    ['audit_payloads', ['audit_seq', 'payload']],
  ] as const) {
    const sql =
      store.dialect === 'postgres'
        ? `SELECT CAST(t AS text) AS row FROM ${t} t`
        : `SELECT ${cols.map((c) => `COALESCE(${c}, '')`).join(` || '|' || `)} AS row FROM ${t}`
    const rows = await store.sql.all(sql)
    out[t] = rows.map((r) => String(r.row)).join('\n')
  }
  return out
}

describe.each(DIALECTS)(
  'encryption of step results, run results and audit payloads on %s',
  (dialect: Dialect) => {
    let hub: DemoHub | undefined
    const tag = randomBytes(4).toString('hex')
    const customer = `CUSTOMER-${tag}`
    const ok = `Bearing seized, call Jane Roe +49 711 ${tag}`
    const refused = `REFUSE shaft cracked, ask John Doe ${tag}`

    beforeEach(async (ctx) => {
      if (!AVAILABLE[dialect]) ctx.skip()
      hub = await startDemoHub(dialect, {
        encryption: cipher({ k1: K1 }, 'k1'),
        sealIntervalMs: 50,
        workflows: [kernelDemo, complaintEcho],
      })
    })
    afterEach(async () => {
      await hub?.close()
      hub = undefined
    })

    async function seed() {
      const a = complaintEvent(1, { customer, severity: 'major', description: ok })
      const b = complaintEvent(2, { customer: `${customer}-B`, severity: 'major', description: refused })
      for (const c of [a, b]) expect((await injectEvent(hub!.q, c)).statusCode).toBe(202)
      await until(async () => {
        const runs = await hub!.q.store.engine.listRuns(ALL, { workflow: 'complaint-echo', limit: 5 })
        return runs.length === 2 && runs.every((r) => r.status === 'completed' || r.status === 'dead')
      })
      // every audit row sealed, so verification covers the run's entries
      await until(async () => {
        const [n] = await hub!.store.sql.all(
          'SELECT COUNT(*) AS n FROM audit_log a WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.audit_seq = a.seq)',
        )
        return Number(n!.n) === 0
      })
    }

    it('holds no plaintext of a marked value in the rows, and answers it decrypted', async () => {
      await seed()
      const text = await rowsText(hub!.store)
      // the control: the unmarked parts of the same rows are there in plaintext
      expect(text.run_journal).toContain('NC-C-1')
      expect(text.workflow_runs).toContain('NC-C-1')
      expect(text.audit_payloads).toContain('QLK_DEMO_REJECTED')
      for (const [table, t] of Object.entries(text)) {
        for (const secret of [customer, 'Jane Roe', 'John Doe'])
          expect(t.includes(secret), `${table} holds '${secret}'`).toBe(false)
      }
      expect(text.run_journal).toMatch(/\$enc"+: ?"+v1/)
      expect(text.audit_payloads).toMatch(/\$enc"+: ?"+v1/)

      // authorized caller: the API answers the step result, run result and error decrypted
      const [done] = await hub!.q.store.engine.listRuns(ALL, { key: 'C-1', limit: 1 })
      expect(done!.result).toEqual({ nonconformance: 'NC-C-1', customer })
      const detail = (await hub!.q.app.inject({ method: 'GET', url: `/v1/runs/${done!.id}` })).json()
      expect(detail.journal.find((j: { kind: string }) => j.kind === 'step').result).toEqual({
        record: { id: 'NC-C-1', title: `Complaint C-1 (${customer})`, text: ok },
      })
      expect(detail.result).toEqual({ nonconformance: 'NC-C-1', customer })

      // the chain covers the plaintext payload: its hash is the plaintext's, the chain verifies
      const [dead] = await hub!.q.store.engine.listRuns(ALL, { key: 'C-2', limit: 1 })
      const [row] = await hub!.store.sql.all(
        `SELECT a.payload_hash, p.payload FROM audit_log a JOIN audit_payloads p ON p.audit_seq = a.seq
        WHERE a.action = 'workflow.dead_lettered' AND a.subject = 'C-2'`,
      )
      const stored = typeof row!.payload === 'string' ? JSON.parse(row!.payload) : row!.payload
      const plain = hub!.q.store.decryptAtRest!(stored) as { error: string; runId: string }
      expect(plain.error).toBe(`QMS refused: ${refused}`)
      expect(plain.runId).toBe(dead!.id)
      expect(row!.payload_hash).toBe(hashCanonical(plain))
      // the text columns keep the error readable without the value it echoed
      expect(dead!.lastError).toBe('QMS refused: [encrypted]')
      expect((await hub!.q.app.inject({ method: 'GET', url: '/v1/audit/verify' })).json().ok).toBe(true)
      // the lot's bundle (its complaints' ingest entries) still verifies offline
      const evidence = (await hub!.q.app.inject({ method: 'GET', url: '/v1/lots/F-9001/evidence' })).json()
      expect(verifyBundle(evidence).problems).toEqual([])
    })

    it('rotation leaves no value under the old key in the new places, and the audit chain still verifies', async () => {
      await seed()
      const journalOf = async (s: Store, key: string) => {
        const [r] = await s.engine.listRuns(ALL, { key, limit: 1 })
        const loaded = (await s.engine.loadRun(ALL, r!.id))!
        return { result: loaded.run.result, journal: loaded.journal.map((j) => j.result) }
      }
      const before = [await journalOf(hub!.q.store, 'C-1'), await journalOf(hub!.q.store, 'C-2')]
      const payloadsBefore = await hub!.store.sql.all(
        'SELECT audit_seq, payload FROM audit_payloads ORDER BY audit_seq',
      )

      const both = cipher({ k1: K1, k2: K2 }, 'k2')
      let batches = 0
      await expect(
        rotateKeys(hub!.store, both, {
          to: 'k2',
          batch: 2,
          onBatch: () => {
            if (++batches === 3) throw new Error('interrupted')
          },
        }),
      ).rejects.toThrow('interrupted')
      const done = await rotateKeys(hub!.store, both, { to: 'k2', batch: 2 })
      expect(done.remaining).toEqual({})
      expect(Object.keys(done.byKey)).toEqual(['k2'])
      const text = await rowsText(hub!.store)
      for (const t of Object.values(text)) expect(t).not.toMatch(/kid"+: ?"+k1/)
      expect(text.audit_payloads).toMatch(/kid"+: ?"+k2/)

      // with k1 gone, every copy reads back as it did
      const onlyK2 = withFieldEncryption(hub!.store, cipher({ k2: K2 }, 'k2'))
      expect([await journalOf(onlyK2, 'C-1'), await journalOf(onlyK2, 'C-2')]).toEqual(before)
      const payloadsAfter = await hub!.store.sql.all(
        'SELECT audit_seq, payload FROM audit_payloads ORDER BY audit_seq',
      )
      const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)
      expect(payloadsAfter.map((p) => onlyK2.decryptAtRest!(parse(p.payload)))).toEqual(
        payloadsBefore.map((p) => hub!.q.store.decryptAtRest!(parse(p.payload))),
      )
      // the chain hashed plaintext: re-encryption under k2 changed no link, and each payload,
      // decrypted with k2 alone, still matches the hash its chain link covers (what an evidence
      // bundle's verification checks offline)
      expect((await hub!.q.app.inject({ method: 'GET', url: '/v1/audit/verify' })).json().ok).toBe(true)
      const hashed = await hub!.store.sql.all(
        'SELECT a.payload_hash, p.payload FROM audit_log a JOIN audit_payloads p ON p.audit_seq = a.seq',
      )
      expect(hashed.length).toBeGreaterThan(4)
      for (const h of hashed)
        expect(hashCanonical(onlyK2.decryptAtRest!(parse(h.payload)))).toBe(h.payload_hash)
    })

    it('the supplier scorecard stores a marked decider and CAPA title encrypted and answers them decrypted', async () => {
      const lot = `B-${tag}`
      const operator = `OPERATOR-${tag}`
      const title = `Diameter drift, reported by Jane Roe ${tag}`
      const ev = (type: string, data: object) => ({
        specversion: '1.0',
        id: randomBytes(8).toString('hex'),
        source: 'urn:test:qms',
        type,
        subject: lot,
        plant: 'P100',
        data,
      })
      const gr = EVENT_EXAMPLES['erp.goods_receipt.posted.v1'] as { lot: object }
      const ud = EVENT_EXAMPLES['qms.usage_decision.made.v1'] as { audit: object }
      const capa = EVENT_EXAMPLES['qms.capa.opened.v1'] as { correctiveAction: object }
      for (const e of [
        ev('erp.goods_receipt.posted.v1', { ...gr, lot: { ...gr.lot, id: lot }, supplier: `V-${tag}` }),
        ev('qms.usage_decision.made.v1', { ...ud, lot, audit: { ...ud.audit, operator } }),
        ev('qms.capa.opened.v1', {
          correctiveAction: { ...capa.correctiveAction, id: `CAPA-${tag}`, supplier: `V-${tag}`, title },
        }),
      ])
        expect((await injectEvent(hub!.q, e)).statusCode).toBe(202)
      const card = async () =>
        (await hub!.q.app.inject({ method: 'GET', url: `/v1/suppliers/V-${tag}/scorecard` })).json()
      await until(async () => {
        const c = await card()
        return c.plants?.[0]?.openCapas?.length === 1 && c.plants[0].materials[0]?.lastDecision != null
      })
      // an authorized caller reads both in plaintext
      const c = await card()
      expect(c.plants[0].openCapas[0].title).toBe(title)
      expect(c.plants[0].materials[0].lastDecision.by).toBe(operator)

      const rows = async () => {
        const out: string[] = []
        for (const t of ['scorecard_lots', 'supplier_scorecard', 'supplier_capas']) {
          const sql =
            hub!.store.dialect === 'postgres'
              ? `SELECT CAST(t AS text) AS row FROM ${t} t`
              : `SELECT * FROM ${t}`
          for (const r of await hub!.store.sql.all(sql)) out.push(JSON.stringify(r))
        }
        return out.join('\n')
      }
      const raw = await rows()
      expect(raw).toContain(`V-${tag}`) // the control: identifiers stay plaintext
      expect(raw).not.toContain(operator)
      expect(raw).not.toContain('Jane Roe')
      expect(raw).toMatch(/kid[\\"]+: ?[\\"]+k1/)

      const both = cipher({ k1: K1, k2: K2 }, 'k2')
      const done = await rotateKeys(hub!.store, both, { to: 'k2', batch: 1 })
      expect(done.remaining).toEqual({})
      expect(await rows()).not.toMatch(/kid[\\"]+: ?[\\"]+k1/)
      const onlyK2 = withFieldEncryption(hub!.store, cipher({ k2: K2 }, 'k2'))
      const after = await supplierScorecard(onlyK2, ALL, `V-${tag}`, () => 'none')
      expect(after!.plants[0]!.openCapas[0]!.title).toBe(title)
      expect(after!.plants[0]!.materials[0]!.lastDecision!.by).toBe(operator)
    })
  },
)

import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashCanonical } from '../../src/audit/canonical-json.ts'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import { FieldCipher, type FieldEncryptionConfig } from '../../src/security/encryption.ts'
import { rotateKeys } from '../../src/security/encryption-rotate.ts'
import { withFieldEncryption } from '../../src/security/encryption-store.ts'
import type { PostgresStore } from '../../src/store/postgres/store.ts'
import type { SqliteStore } from '../../src/store/sqlite/store.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, type DemoHub, demoEvent, injectEvent, startDemoHub, until } from '../engine/harness.ts'
import { complaintEvent, sqliteFileText } from './fixtures.ts'

const K1 = randomBytes(32)
const K2 = randomBytes(32)
const FIELDS = {
  'crm.complaint.opened.v1': ['/data/complaint/description', '/data/complaint/customer'],
  // a wait result the demo workflow journals: its copy in run_journal must be encrypted too
  'qualink.demo.approval_given.v1': ['/data/approver'],
}
const cipher = (keys: Record<string, Buffer>, activeKey: string) =>
  new FieldCipher({ keys: new Map(Object.entries(keys)), activeKey, fields: FIELDS } as FieldEncryptionConfig)

const complaint = (n: number, tag: string) =>
  complaintEvent(n, {
    customer: `CUSTOMER-${tag}-${n}`,
    severity: 'major',
    description: `Shaft fractured, contact Jane Roe +49 711 ${tag} case ${n}`,
  })

/** Everything the database holds, as text: the SQLite file and its WAL, or every PostgreSQL row. */
async function rawDatabaseText(store: Store): Promise<string> {
  if (store.dialect === 'sqlite') return sqliteFileText(store as SqliteStore)
  const pool = (store as PostgresStore).rawPool()
  const tables = await pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
  const parts: string[] = []
  for (const t of tables.rows as Array<{ tablename: string }>) {
    const rows = await pool.query(`SELECT t::text AS row FROM "${t.tablename}" t`)
    for (const r of rows.rows as Array<{ row: string }>) parts.push(r.row)
  }
  return parts.join('\n')
}

describe.each(DIALECTS)('field-level encryption at rest on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined
  const tag = randomBytes(4).toString('hex')

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    hub = await startDemoHub(dialect, { encryption: cipher({ k1: K1 }, 'k1'), sealIntervalMs: 50 })
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  const post = (body: object) => injectEvent(hub!.q, body)

  /** Complaints plus a demo order approved by a named person (its wait result is journaled). */
  async function seed(n: number) {
    const sent = Array.from({ length: n }, (_, i) => complaint(i, tag))
    for (const c of sent) expect((await post(c)).statusCode).toBe(202)
    const order = demoEvent('order_received', { order: `O-${tag}`, lines: 1 })
    expect((await post(order)).statusCode).toBe(202)
    const approval = demoEvent('approval_given', { order: `O-${tag}`, approver: `APPROVER-${tag}` })
    expect((await post(approval)).statusCode).toBe(202)
    await until(async () => {
      const runs = await hub!.q.store.engine.listRuns(ALL, { key: `O-${tag}`, limit: 5 })
      return runs[0]?.status === 'completed'
    })
    return { sent, approval }
  }

  it('stores sensitive fields as ciphertext with their key id and answers them decrypted through the API', async () => {
    const { sent } = await seed(3)
    const raw = await rawDatabaseText(hub!.store)
    // the control: what is not sensitive is found in the same bytes
    expect(raw).toContain(sent[0]!.id)
    for (const c of sent) {
      expect(raw).not.toContain(c.data.complaint.description)
      expect(raw).not.toContain(c.data.complaint.customer)
    }
    expect(raw).not.toContain(`APPROVER-${tag}`)
    // what is stored: the envelope with the key id, next to the plaintext fields that are not sensitive
    const [row] = await hub!.store.sql.all('SELECT envelope FROM events WHERE id = ?', [sent[0]!.id])
    const env = (typeof row!.envelope === 'string' ? JSON.parse(row!.envelope) : row!.envelope) as {
      data: { complaint: { description: unknown; id: string } }
    }
    expect(env.data.complaint.description).toMatchObject({ $enc: 'v1', kid: 'k1' })
    expect(env.data.complaint.id).toBe('C-0')

    const res = await hub!.q.app.inject({ method: 'GET', url: `/v1/events/${sent[0]!.id}` })
    expect(res.statusCode).toBe(200)
    expect(res.json().data).toEqual(sent[0]!.data)

    // the workflow got the approver in plaintext and the run's journal answers it decrypted
    const [run] = await hub!.q.store.engine.listRuns(ALL, { key: `O-${tag}`, limit: 1 })
    const detail = (await hub!.q.app.inject({ method: 'GET', url: `/v1/runs/${run!.id}` })).json()
    expect(JSON.stringify(detail.journal)).toContain(`APPROVER-${tag}`)

    // the data hash is over the plaintext: what was audited at ingest, verifiable from the API answer
    const stored = await hub!.store.listEvents(ALL, { type: 'crm.complaint.opened.v1', limit: 10 })
    for (const e of stored) {
      const plain = sent.find((s) => s.id === e.id)!
      expect(e.dataHash).toBe(hashCanonical(plain.data))
    }
    const verify = await hub!.q.app.inject({ method: 'GET', url: '/v1/audit/verify' })
    expect(verify.json().ok).toBe(true)
    const evidence = (await hub!.q.app.inject({ method: 'GET', url: '/v1/lots/F-9001/evidence' })).json()
    expect(evidence.events.map((e: { envelope: { data: unknown } }) => e.envelope.data)).toContainEqual(
      sent[1]!.data,
    )
    expect(verifyBundle(evidence).problems).toEqual([])
  })

  it('rotation re-encrypts every value under the new key, loses none, and resumes after an interruption', async () => {
    await seed(12)
    const decryptedBefore = async (s: Store) =>
      Object.fromEntries(
        (await s.listEvents(ALL, { limit: 1000 })).map((e) => [e.id, (e.envelope as { data: unknown }).data]),
      )
    const before = await decryptedBefore(hub!.q.store)
    const [run] = await hub!.q.store.engine.listRuns(ALL, { key: `O-${tag}`, limit: 1 })
    const journalBefore = (await hub!.q.store.engine.loadRun(ALL, run!.id))!.journal
    const both = cipher({ k1: K1, k2: K2 }, 'k2')
    const counted = await rotateKeys(hub!.store, both, { to: 'k2', dryRun: true })
    // 12 complaints × 2 fields, the approval event's approver, and its journaled copy
    expect(counted.byKey).toEqual({ k1: 12 * 2 + 1 + 1 })

    let batches = 0
    await expect(
      rotateKeys(hub!.store, both, {
        to: 'k2',
        batch: 4,
        onBatch: () => {
          if (++batches === 2) throw new Error('interrupted')
        },
      }),
    ).rejects.toThrow('interrupted')
    const midway = await rotateKeys(hub!.store, both, { to: 'k2', dryRun: true })
    expect(midway.byKey.k1).toBeGreaterThan(0)
    expect(midway.byKey.k2).toBeGreaterThan(0)
    expect(midway.byKey.k1! + midway.byKey.k2!).toBe(26)

    const done = await rotateKeys(hub!.store, both, { to: 'k2', batch: 4 })
    expect(done.remaining).toEqual({})
    expect(done.byKey).toEqual({ k2: 26 })
    expect(done.valuesReencrypted).toBe(midway.byKey.k1)
    const again = await rotateKeys(hub!.store, both, { to: 'k2', batch: 4 })
    expect(again.valuesReencrypted).toBe(0)

    // with k1 gone from the configuration, everything still reads, and reads the same
    const onlyK2 = withFieldEncryption(hub!.store, cipher({ k2: K2 }, 'k2'))
    expect(await decryptedBefore(onlyK2)).toEqual(before)
    expect((await onlyK2.engine.loadRun(ALL, run!.id))!.journal).toEqual(journalBefore)
    const verify = await hub!.q.app.inject({ method: 'GET', url: '/v1/audit/verify' })
    expect(verify.json().ok).toBe(true)
  })

  it('a missing key or a wrong secret is a QLK_ error naming the key id, never a wrong answer', async () => {
    const { sent } = await seed(1)
    const missing = withFieldEncryption(hub!.store, cipher({ k2: K2 }, 'k2'))
    await expect(missing.getEvent(ALL, sent[0]!.id)).rejects.toMatchObject({
      code: 'QLK_KEY_UNAVAILABLE',
      message: expect.stringContaining("'k1'"),
    })
    const wrong = withFieldEncryption(hub!.store, cipher({ k1: K2 }, 'k1'))
    await expect(wrong.getEvent(ALL, sent[0]!.id)).rejects.toMatchObject({
      code: 'QLK_DECRYPT_FAILED',
      message: expect.stringContaining("'k1'"),
    })
    await expect(rotateKeys(hub!.store, cipher({ k2: K2 }, 'k2'), { to: 'k2' })).rejects.toMatchObject({
      code: 'QLK_KEY_UNAVAILABLE',
      message: expect.stringContaining("'k1'"),
    })
    // nothing was rewritten by the failed rotation
    const counts = await rotateKeys(hub!.store, cipher({ k1: K1 }, 'k1'), { to: 'k1', dryRun: true })
    expect(counts.byKey).toEqual({ k1: 4 })
  })
})

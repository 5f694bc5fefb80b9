import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileAnchorSink } from '../../src/audit/anchors.ts'
import { buildEvidence } from '../../src/audit/evidence.ts'
import { verifyBundle } from '../../src/audit/evidence-verify.ts'
import { verifyAudit } from '../../src/audit/verify.ts'
import { RetentionPurger, retentionDocProblems, retentionProblems } from '../../src/security/retention.ts'
import type { Store } from '../../src/store/types.ts'
import { AVAILABLE, DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, type DemoHub, demoEvent, injectEvent, startDemoHub, until } from '../engine/harness.ts'
import { complaintEvent } from './fixtures.ts'

const DAY = 86_400_000
const LOT = 'F-RET-1'

const complaint = (n: number, tag: string) =>
  complaintEvent(n, {
    lot: LOT,
    customer: 'CUST-88',
    severity: 'major',
    description: `retained text ${tag} ${n}`,
  })

const envelopeOf = async (store: Store, id: string) => {
  const [row] = await store.sql.all(
    'SELECT envelope, data_hash, payload_purged_at_ms FROM events WHERE id = ?',
    [id],
  )
  const env = (typeof row!.envelope === 'string' ? JSON.parse(row!.envelope) : row!.envelope) as Record<
    string,
    unknown
  >
  return { env, dataHash: String(row!.data_hash), purgedAt: row!.payload_purged_at_ms }
}

describe.each(DIALECTS)('payload retention on %s', (dialect: Dialect) => {
  let hub: DemoHub | undefined
  let anchorFile = ''
  const tag = randomBytes(4).toString('hex')

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    anchorFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'qualink-retention-')), 'anchors.jsonl')
    hub = await startDemoHub(dialect, {
      anchorFile,
      sealIntervalMs: 50,
      // complaints and demo orders expire at once; approvals are kept a year
      retention: {
        events: {
          'crm.complaint.opened.v1': 0,
          'qualink.demo.order_received.v1': 0,
          'qualink.demo.approval_given.v1': 365 * DAY,
        },
        everyMs: 100,
      },
    })
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
    if (anchorFile) rmSync(path.dirname(anchorFile), { recursive: true, force: true })
  })

  const post = (body: object) => injectEvent(hub!.q, body)
  const sink = () => new FileAnchorSink(anchorFile)
  const sealed = () => until(async () => (await hub!.store.countUnsealedAudit()) === 0)

  it('the periodic purge removes expired payloads, keeps ids, hashes and live runs’ events, and audits itself', async () => {
    const sent = [complaint(1, tag), complaint(2, tag)]
    for (const c of sent) expect((await post(c)).statusCode).toBe(202)
    // a run still waiting for its approval keeps its trigger, though the type has expired
    const waiting = demoEvent('order_received', { order: `W-${tag}`, lines: 0 })
    expect((await post(waiting)).statusCode).toBe(202)
    // a finished run's trigger and the approval it waited for
    const done = demoEvent('order_received', { order: `D-${tag}`, lines: 0 })
    const approval = demoEvent('approval_given', { order: `D-${tag}`, approver: `approver-${tag}` })
    expect((await post(done)).statusCode).toBe(202)
    expect((await post(approval)).statusCode).toBe(202)
    await until(
      async () =>
        (await hub!.q.store.engine.listRuns(ALL, { key: `D-${tag}`, limit: 1 }))[0]?.status === 'completed',
    )

    await until(async () => (await envelopeOf(hub!.store, done.id)).purgedAt !== null)
    await until(async () => (await envelopeOf(hub!.store, sent[1]!.id)).purgedAt !== null)
    for (const c of sent) {
      const e = await envelopeOf(hub!.store, c.id)
      expect(e.env.data).toBeUndefined()
      expect(e.env.id).toBe(c.id)
      expect(e.env.qualinkpurged).toEqual(expect.any(String))
      expect(e.dataHash).toMatch(/^[0-9a-f]{64}$/)
    }
    expect(
      JSON.stringify((await hub!.store.sql.all('SELECT envelope FROM events')).map((r) => r.envelope)),
    ).not.toContain(`retained text ${tag}`)
    expect((await envelopeOf(hub!.store, waiting.id)).env.data).toEqual(waiting.data)
    expect((await envelopeOf(hub!.store, approval.id)).env.data).toEqual(approval.data)

    const audits = await hub!.store.listAudit(ALL, { action: 'retention.purged', limit: 100 })
    expect(audits.length).toBeGreaterThan(0)
    expect(audits.every((a) => a.actor === 'system:retention')).toBe(true)
    const subjects = new Set(audits.map((a) => a.subject))
    expect(subjects).toContain('retention:events:crm.complaint.opened.v1')
    expect(subjects).toContain('retention:events:qualink.demo.order_received.v1')

    // the API still answers the event: its attributes, no data
    const res = await hub!.q.app.inject({ method: 'GET', url: `/v1/events/${sent[0]!.id}` })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: sent[0]!.id, qualinkpurged: expect.any(String) })
    expect(res.json().data).toBeUndefined()

    await sealed()
    const report = await verifyAudit(hub!.store, sink())
    expect(report.firstBroken).toBeNull()
    expect(report.ok).toBe(true)
    const bundle = await buildEvidence(hub!.store, sink(), ALL, LOT)
    expect(bundle!.events.map((e) => e.id).sort()).toEqual(sent.map((c) => c.id).sort())
    expect(verifyBundle(bundle!).problems).toEqual([])
  })

  it('purges sealed audit payloads, audits that too, and the chain and evidence still verify', async () => {
    for (const c of [complaint(3, tag), complaint(4, tag)]) expect((await post(c)).statusCode).toBe(202)
    await sealed()
    const head = (await hub!.store.chainHead())!
    const sealedSeqs = (
      await hub!.store.sql.all('SELECT audit_seq FROM audit_payloads WHERE audit_seq <= ?', [head.auditSeq])
    ).map((r) => Number(r.audit_seq))
    expect(sealedSeqs.length).toBeGreaterThan(0)
    const lease = (await hub!.store.acquireLease('retention-audit-test', 'test', 60_000))!
    const purger = new RetentionPurger(hub!.store, {
      events: {},
      auditPayloadsMs: 0,
      everyMs: 1000,
      batch: 3,
    })
    const r = await purger.runOnce(lease)
    expect(r.auditPayloads).toBeGreaterThan(0)
    expect(r.auditPayloads).toBeGreaterThanOrEqual(sealedSeqs.length)
    // every payload sealed before the pass is gone; the rows and their payload hashes stay
    const left = await hub!.store.sql.all(
      `SELECT audit_seq FROM audit_payloads WHERE audit_seq IN (${sealedSeqs.map(() => '?').join(', ')})`,
      sealedSeqs,
    )
    expect(left).toEqual([])
    const rows = await hub!.store.sql.all(
      `SELECT seq FROM audit_log WHERE seq IN (${sealedSeqs.map(() => '?').join(', ')})`,
      sealedSeqs,
    )
    expect(rows).toHaveLength(sealedSeqs.length)
    // and the purge audited itself
    const purgeEntries = await hub!.store.listAudit(ALL, { subject: 'retention:audit-payloads', limit: 100 })
    expect(purgeEntries.length).toBeGreaterThan(0)
    await sealed()
    expect((await verifyAudit(hub!.store, sink())).ok).toBe(true)
    const bundle = await buildEvidence(hub!.store, sink(), ALL, LOT)
    expect(bundle!.audit.some((a) => a.payload === null)).toBe(true)
    expect(verifyBundle(bundle!).problems).toEqual([])
  })

  it('a purge whose lease was taken over stops with QLK_LEASE_LOST and changes nothing', async () => {
    // approvals are kept a year by the hub's own purge; this purger would expire them at once
    const order = demoEvent('order_received', { order: `F-${tag}`, lines: 0 })
    const approval = demoEvent('approval_given', { order: `F-${tag}`, approver: `approver-${tag}` })
    expect((await post(order)).statusCode).toBe(202)
    expect((await post(approval)).statusCode).toBe(202)
    const finished = async () =>
      (await hub!.q.store.engine.listRuns(ALL, { key: `F-${tag}`, limit: 1 }))[0]?.status === 'completed'
    await until(finished)
    const journalText = async () => JSON.stringify(await hub!.store.sql.all('SELECT result FROM run_journal'))
    expect(await journalText()).toContain(`approver-${tag}`)
    const stale = (await hub!.store.acquireLease('retention-fence-test', 'old-owner', 60_000))!
    await hub!.store.releaseLease(stale)
    const current = (await hub!.store.acquireLease('retention-fence-test', 'new-owner', 60_000))!
    expect(current.token).toBeGreaterThan(stale.token)
    const purger = new RetentionPurger(hub!.store, {
      events: { 'qualink.demo.approval_given.v1': 0 },
      everyMs: 1000,
    })
    // the hub's own purge audits under other subjects (it expires demo orders); this one's subject:
    const approvalsPurged = () =>
      hub!.store.listAudit(ALL, { subject: 'retention:events:qualink.demo.approval_given.v1', limit: 1000 })
    expect(await approvalsPurged()).toEqual([])
    await expect(purger.runOnce(stale)).rejects.toMatchObject({ code: 'QLK_LEASE_LOST' })
    expect((await envelopeOf(hub!.store, approval.id)).env.data).toEqual(approval.data)
    expect(await approvalsPurged()).toEqual([])
    // the holder of the lease purges it, and the copy the run journaled as its wait result
    expect(await purger.runOnce(current)).toMatchObject({ events: 1, journalCopies: 1 })
    expect((await envelopeOf(hub!.store, approval.id)).env.data).toBeUndefined()
    expect(await journalText()).not.toContain(`approver-${tag}`)
    expect(await approvalsPurged()).toHaveLength(1)
  })
})

describe('retention configuration', () => {
  it('names an unregistered event type and a too-short audit period as qualink.yaml spells them', () => {
    expect(
      retentionDocProblems({
        events: { 'crm.complaint.opened.v1': '365d', 'no.such.thing.v1': '1d' },
        auditPayloads: '30d',
      })
        .map((p) => p.path)
        .sort(),
    ).toEqual(['/retention/auditPayloads', '/retention/events/no.such.thing.v1'])
    expect(
      retentionDocProblems({ events: { 'crm.complaint.opened.v1': '365d' }, auditPayloads: '3650d' }),
    ).toEqual([])
  })

  it('refuses audit payloads kept shorter than the records they describe', () => {
    expect(
      retentionProblems({ events: { 'crm.complaint.opened.v1': 365 * DAY }, auditPayloadsMs: 30 * DAY }),
    ).toEqual([expect.objectContaining({ path: '/retention/auditPayloads' })])
    expect(
      retentionProblems({ events: { 'crm.complaint.opened.v1': 365 * DAY }, auditPayloadsMs: 3650 * DAY }),
    ).toEqual([])
  })
})

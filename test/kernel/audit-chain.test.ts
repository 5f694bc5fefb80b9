import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileAnchorSink } from '../../src/audit/anchors.ts'
import { AuditSealer } from '../../src/audit/sealer.ts'
import { verifyAudit, verifyAuditAround } from '../../src/audit/verify.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { toAppendEvent } from '../../src/store/append-event.ts'
import type { Store } from '../../src/store/types.ts'
import {
  AVAILABLE,
  createTestDatabase,
  DIALECTS,
  type Dialect,
  rawExec,
  type TestDatabase,
} from '../dialects.ts'
import { ping } from '../event-fixtures.ts'
import { disableAuditGuards, ingestSealed, tamper } from './audit-tamper.ts'

describe.each(DIALECTS)('audit chain on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let anchors: FileAnchorSink
  let sealer: AuditSealer

  const disableGuards = () => disableAuditGuards(db, store)

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    anchors = new FileAnchorSink(path.join(db.dir, 'anchors.jsonl'))
    sealer = new AuditSealer(store, anchors, { owner: 'test-sealer' })
    await ingestSealed(store, sealer, 4) // one anchor per batch of 4
  })
  afterEach(async () => {
    await store?.close()
    await db?.cleanup()
  })

  it('chains every committed row and verifies clean against the anchors', async () => {
    const report = await verifyAudit(store, anchors)
    expect(report).toMatchObject({ ok: true, checked: 12, unsealed: 0, anchorsChecked: 3, firstBroken: null })
    expect(report.head?.pos).toBe(12)
  })

  it('chains a pass in batches and anchors its head once', async () => {
    const small = new AuditSealer(store, anchors, { owner: 'test-sealer', batch: 2 })
    const at = new Date().toISOString()
    await store.appendEvents([
      { actor: 'test', events: Array.from({ length: 5 }, () => toAppendEvent(ping() as CloudEvent, at)) },
    ])
    // PostgreSQL: a concurrent test's open transaction can hold the watermark back for a moment
    let sealed = 0
    for (let i = 0; i < 50 && sealed < 5; i++) sealed += await small.sealOnce()
    expect(sealed).toBe(5)
    const all = await anchors.readAll()
    // after the three of ingestSealed: one anchor, not one per batch of 2 (the five rows are one
    // commit, so they become visible to the sealer together and one pass chains them all)
    expect(all.slice(3)).toEqual([expect.objectContaining({ pos: 17 })])
    expect(await verifyAudit(store, anchors)).toMatchObject({ ok: true, checked: 17, firstBroken: null })
  })

  it('refuses UPDATE and DELETE of audit rows through triggers', async () => {
    await expect(rawExec(db, store, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 1`)).rejects.toThrow(
      /QLK_AUDIT_IMMUTABLE/,
    )
    await expect(rawExec(db, store, 'DELETE FROM audit_log WHERE seq = 1')).rejects.toThrow(
      /QLK_AUDIT_IMMUTABLE/,
    )
    await expect(rawExec(db, store, 'DELETE FROM audit_chain WHERE pos = 1')).rejects.toThrow(
      /QLK_AUDIT_IMMUTABLE/,
    )
  })

  it('names the edited row', async () => {
    await disableGuards()
    const auditSeq = await tamper.edit(db, store, 5)
    const r = await verifyAudit(store, anchors)
    expect(r.ok).toBe(false)
    expect(r.firstBroken).toMatchObject({ pos: 5, auditSeq })
    expect(r.firstBroken?.reason).toMatch(/changed after it was sealed/)
  })

  it('names a deleted row', async () => {
    await disableGuards()
    const auditSeq = await tamper.deleteRow(db, store, 7)
    const r = await verifyAudit(store, anchors)
    expect(r.firstBroken).toMatchObject({ pos: 7, auditSeq })
    expect(r.firstBroken?.reason).toMatch(/deleted/)
  })

  it('names the gap when a row and its link are both deleted', async () => {
    await disableGuards()
    await tamper.deleteLink(db, store, 6)
    const r = await verifyAudit(store, anchors)
    expect(r.firstBroken).toMatchObject({ pos: 6 })
    expect(r.firstBroken?.reason).toMatch(/missing/)
  })

  it('detects a truncated tail through the anchors', async () => {
    await disableGuards()
    await tamper.truncateFrom(db, store, 9)
    const r = await verifyAudit(store, anchors)
    expect(r.ok).toBe(false)
    expect(r.firstBroken?.pos).toBe(9)
    expect(r.firstBroken?.reason).toMatch(/truncated/)
  })

  it('detects a wholesale rewrite that keeps the chain self-consistent', async () => {
    await disableGuards()
    // Rewrite every row's actor and recompute every hash: internally the chain still verifies.
    await tamper.rewriteAll(db, store)
    const r = await verifyAudit(store, anchors)
    expect(r.ok).toBe(false)
    expect(r.firstBroken?.reason).toMatch(/rewritten/)
    expect(r.firstBroken?.pos).toBe(4) // the first anchored head
  })

  it('refuses chain writes from a sealer whose lease was taken over (fenced)', async () => {
    const at = new Date().toISOString()
    await store.appendEvents([{ actor: 't', events: [toAppendEvent(ping() as CloudEvent, at)] }])
    const stale = await store.acquireLease('audit-sealer', 'test-sealer', 60_000)
    const head = await store.chainHead()
    await store.releaseLease(stale!)
    const other = await store.acquireLease('audit-sealer', 'other', 60_000)
    expect(other!.token).toBeGreaterThan(stale!.token)
    const ok = await store.appendChain(
      [{ pos: head!.pos + 1, auditSeq: 999_999, auditTxid: '0', prevHash: head!.hash, hash: 'f'.repeat(64) }],
      stale!,
    )
    expect(ok).toBe(false)
    expect((await store.chainHead())?.pos).toBe(head!.pos)
  })

  describe('around some entries (a lot page): their links up to the next anchor', () => {
    const seqsAt = async (...pos: number[]) =>
      Promise.all(pos.map(async (p) => (await store.readChain(p, 1))[0]!.auditSeq))

    it("checks the entries' stretch only, and ends at the anchor after them", async () => {
      const r = await verifyAuditAround(store, anchors, await seqsAt(5, 6))
      expect(r).toMatchObject({ ok: true, entries: 2, unsealedEntries: 0, checked: 4, anchorsChecked: 1 })
      expect(r.anchor?.pos).toBe(8)
      expect(r.head?.pos).toBe(8)
      const none = await verifyAuditAround(store, anchors, [])
      expect(none).toMatchObject({ ok: true, entries: 0, checked: 0 })
    })

    it('names an edit inside the stretch, and leaves one outside it to the whole-chain check', async () => {
      await disableGuards()
      const inside = await tamper.edit(db, store, 7)
      const r = await verifyAuditAround(store, anchors, await seqsAt(5, 6))
      expect(r.firstBroken).toMatchObject({ pos: 7, auditSeq: inside })
      await tamper.edit(db, store, 2)
      const other = await verifyAuditAround(store, anchors, await seqsAt(10))
      expect(other.ok).toBe(true)
      expect((await verifyAudit(store, anchors)).firstBroken?.pos).toBe(2)
    })

    it('catches a rewrite and a truncation through the anchor it ends at', async () => {
      const seqs = await seqsAt(5, 6)
      await disableGuards()
      await tamper.rewriteAll(db, store)
      const rewritten = await verifyAuditAround(store, anchors, seqs)
      expect(rewritten.firstBroken?.reason).toMatch(/rewritten/)
      await tamper.truncateFrom(db, store, 7)
      const truncated = await verifyAuditAround(store, anchors, seqs)
      expect(truncated.firstBroken?.reason).toMatch(/truncated/)
    })
  })
})

/**
 * Issue 8's fault matrix for customer complaint traceability, over the S/4, QMS and CRM simulators
 * on both dialects: the ERP answering 5xx and 429 (and losing an answer) on each ERP effect of the
 * workflow (the stock read and the transfer that blocks a suspect lot), CRM webhooks duplicated and
 * out of order, and a finished run's complaint delivered again. Whatever the fault, the ERP ends
 * with both suspect lots' unrestricted stock blocked by exactly one material document each
 * (counted in the simulator, which never deduplicates), the QMS holds one NC and one CAPA per
 * complaint, and the audit trail names each step. The workflow has no deadline: nothing waits on
 * another system once the complaint arrived. A process killed between two effects is
 * complaint-traceability-kill.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { RunRow } from '../../src/store/engine-types.ts'
import { complaintTraceability } from '../../src/workflows/complaint-traceability.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import {
  blockedStock,
  buildComplaintScene,
  COMPLAINT,
  COMPLAINT_STEPS,
  caughtUpTracePort,
  erpLotKey,
  SCENE_ERP_MATERIALS,
  SUSPECT,
} from './complaint-scene.ts'
import { auditedSteps, auditStory, postEvent } from './helpers.ts'
import { type PlantHub, usePlantHub } from './plant-hub.ts'

const TRANSFER = { method: 'POST', path: 'A_MaterialDocumentHeader' }
const STOCK_READ = { method: 'GET', path: 'A_MatlStkInAcctMod' }

interface Row {
  readonly name: string
  /** set before the complaints are filed (the scene's goods receipts are through by then) */
  readonly inject: (hub: PlantHub) => void
  /** complaints filed about FG-1 (each its own CRM case and run) */
  readonly complaints?: number
  /** what the fault did, checked after the runs completed */
  readonly injected: (hub: PlantHub) => void
}

const ROWS: Row[] = [
  {
    name: 'ERP 503 on the block postings',
    inject: (h) => h.erp.faults.set({ errorRate: 1, errorStatus: 503, times: 2, match: TRANSFER, seed: 1 }),
    injected: (h) => expect(h.erp.faults.counts.error).toBe(2),
  },
  {
    name: 'ERP 429 with Retry-After on the block postings',
    inject: (h) =>
      h.erp.faults.set({ rateLimitRate: 1, retryAfterSeconds: 1, times: 2, match: TRANSFER, seed: 1 }),
    injected: (h) => expect(h.erp.faults.counts.rateLimit).toBe(2),
  },
  {
    name: 'ERP 503 on the stock reads inside the block step',
    inject: (h) => h.erp.faults.set({ errorRate: 1, errorStatus: 502, times: 2, match: STOCK_READ, seed: 1 }),
    injected: (h) => expect(h.erp.faults.counts.error).toBe(2),
  },
  {
    name: 'ERP 429 on the stock reads inside the block step',
    inject: (h) =>
      h.erp.faults.set({ rateLimitRate: 1, retryAfterSeconds: 1, times: 2, match: STOCK_READ, seed: 1 }),
    injected: (h) => expect(h.erp.faults.counts.rateLimit).toBe(2),
  },
  {
    name: 'ERP books a block posting and its answer is lost',
    inject: (h) => h.erp.faults.set({ dropResponseRate: 1, times: 1, match: TRANSFER, seed: 1 }),
    injected: (h) => expect(h.erp.faults.counts.dropResponse).toBe(1),
  },
  {
    name: 'every CRM webhook delivered twice',
    inject: (h) => h.crm.faults.set({ duplicateRate: 1, seed: 3 }),
    injected: (h) => expect(h.crm.faults.counts.duplicate).toBeGreaterThan(0),
  },
  {
    name: 'two complaints on the lot, their CRM webhooks out of order',
    complaints: 2,
    inject: (h) => h.crm.faults.set({ outOfOrderRate: 1, times: 1, seed: 3 }),
    injected: (h) => expect(h.crm.faults.counts.outOfOrder).toBe(1),
  },
]

describe.each(DIALECTS)('complaint traceability fault matrix on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: SCENE_ERP_MATERIALS, webhook: true },
    qms: {},
    crm: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [complaintTraceability()],
    ports: ({ store }) => ({ trace: caughtUpTracePort(store) }),
  }))

  const runs = () => hub.store.engine.listRuns(ALL, { workflow: 'complaint-traceability', limit: 10 })
  const completed = async (n: number) => {
    await until(async () => {
      const all = await runs()
      return all.length === n && all.every((r) => r.status === 'completed')
    }, 45_000)
    return runs()
  }
  const scene = () =>
    buildComplaintScene(
      hub.erp,
      (type, subject, data) => postEvent(hub.q, type, subject, data),
      async () =>
        (await hub.store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 10 })).length,
      'P100',
    )
  const complaintEvents = async () =>
    (await hub.store.listEvents(ALL, { type: 'crm.complaint.opened.v1', limit: 10 })).length

  /** The ERP holds each suspect lot blocked, by one document; the QMS one NC and CAPA per complaint. */
  const expectEffectsOnce = (complaints: number) => {
    for (const batch of SUSPECT) {
      expect(hub.erp.state.stock.find((s) => s.lot === erpLotKey(batch))!.buckets).toMatchObject(
        blockedStock(batch),
      )
      // the goods receipt's document and the complaint's transfer, nothing else
      expect(hub.erp.state.counts.documentsByLotAndBucket[erpLotKey(batch)]).toEqual({
        unrestricted: 1,
        blocked: 1,
      })
    }
    expect(hub.qms.state.nonconformances).toBe(complaints)
    expect(hub.qms.state.capas).toBe(complaints)
  }
  const blockedBy = (all: RunRow[]) =>
    all.flatMap((r) => (r.result as { blocked: Array<{ lot: string; documents: string[] }> }).blocked)

  it.each(ROWS)('$name: each effect once, the story audited', async (row) => {
    await scene()
    row.inject(hub)
    const complaints = row.complaints ?? 1
    const cases = Array.from({ length: complaints }, () => hub.crm.fileComplaint(COMPLAINT))
    const all = await completed(complaints)
    await hub.crm.webhooks.idle()
    row.injected(hub)
    expect(await complaintEvents()).toBe(complaints) // a duplicate delivery is absorbed at ingress

    expectEffectsOnce(complaints)
    // The runs together name each suspect lot once, with its one document; a later complaint
    // finds the stock already blocked and posts nothing.
    const blocked = blockedBy(all)
    expect(blocked.map((b) => b.lot).sort()).toEqual([...SUSPECT])
    expect(blocked.every((b) => b.documents.length === 1)).toBe(true)
    for (const run of all) expect(run.result).toMatchObject({ supplierLots: expect.any(Array) })
    expect(
      (all[0]!.result as { supplierLots: Array<{ lot: string }> }).supplierLots.map((s) => s.lot).sort(),
    ).toEqual([...SUSPECT])

    // The audit trail per complaint: its arrival, each step in order, the run's completion.
    for (const c of cases) {
      const story = await auditStory(hub.store, c.caseId)
      expect(story[0]).toMatchObject({ action: 'event.ingested' })
      expect(auditedSteps(story)).toEqual([...COMPLAINT_STEPS])
      expect(story.at(-1)).toMatchObject({ action: 'workflow.completed' })
      expect(story.filter((a) => a.action === 'event.ingested')).toHaveLength(1)
    }
  })

  it('a finished run replayed (same event again, and the complaint sent as a new event) repeats no effect', async () => {
    await scene()
    const c = hub.crm.fileComplaint(COMPLAINT)
    const [first] = await completed(1)
    const before = JSON.stringify(hub.erp.state.counts.documentsByLotAndBucket)

    // The stored event posted again: answered as a duplicate, no run.
    const [opened] = await hub.store.listEvents(ALL, { type: 'crm.complaint.opened.v1', limit: 1 })
    const again = await hub.q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(opened!.envelope),
    })
    expect(again.json()).toMatchObject({ duplicate: true, seq: opened!.seq })

    // The CRM sends the case again as a new event: a second run traces again, finds the NC and
    // CAPA the first opened, and the stock blocked by the transfers its keys name.
    hub.crm.webhooks.send('complaint.created', {
      id: randomUUID(),
      type: 'complaint.created',
      occurredAt: new Date().toISOString(),
      data: c,
    })
    const [replayed, original] = await completed(2)
    expect(original!.id).toBe(first!.id)
    expect(replayed!.result).toMatchObject({
      nonconformance: (first!.result as { nonconformance: string }).nonconformance,
      correctiveAction: (first!.result as { correctiveAction: string }).correctiveAction,
      // the same two transfers, found by the complaint's keys: no new document
      blocked: (first!.result as { blocked: unknown[] }).blocked,
    })
    expect(JSON.stringify(hub.erp.state.counts.documentsByLotAndBucket)).toBe(before)
    expectEffectsOnce(1)
    const story = await auditStory(hub.store, c.caseId)
    expect(story.filter((a) => a.action === 'event.ingested')).toHaveLength(2)
    expect(story.filter((a) => a.action === 'workflow.completed')).toHaveLength(2)
  })
})

import { describe, expect, it } from 'vitest'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf, REJECT_50_AS_IS, receiveGoods } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const BATCH_KEY = (batch: string) => `RAW-100|1000|${batch}`

describe.each(DIALECTS)('supplier receipt inspection end to end on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: { materials: { 'RAW-100': { baseUnit: 'KG' } }, webhook: true },
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection()],
  }))

  const runOf = async (lot: string) => (await hub.store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]
  const receive = (batch: string, qty: string) => receiveGoods(hub.erp, batch, qty)
  const qmsLotFor = (batch: string) => inspectionLotOf(hub.qms, batch)

  it('posts a split decision exactly once per bucket through ERP faults and duplicate webhooks', async () => {
    // Every webhook is delivered twice, and the ERP commits the first UD stock posting but drops
    // its response (the ambiguous case: only a read-back can tell it happened). 503s and 429s on
    // these calls are covered by the connector's own tests.
    hub.qms.faults.set({ duplicateRate: 1, seed: 7 })
    await receive('B1', '100')
    const lot = await qmsLotFor('B1')
    expect(lot.sampleSize).toBe(13) // Z1.4: lot of 100 → code F, level II, AQL 1.0 normal → n = 13
    hub.erp.faults.set({
      dropResponseRate: 1,
      times: 1,
      match: { method: 'POST', path: 'A_InspLotMatlDocItem' },
      seed: 1,
    })
    hub.qms.makeUsageDecision(lot.id, ACCEPT_SPLIT_60_30_10)
    await until(async () => (await runOf('B1'))?.status === 'completed', 45_000)

    const docs = hub.erp.state.counts.documentsByLotAndBucket[BATCH_KEY('B1')]!
    expect(Object.values(docs).every((n) => n === 1)).toBe(true)
    expect(hub.erp.faults.counts.dropResponse).toBe(1)
    expect(hub.qms.faults.counts.duplicate).toBeGreaterThan(0)
    const stock = hub.erp.state.stock.find((s) => s.lot === BATCH_KEY('B1'))!
    expect(stock.buckets).toMatchObject({ qi: 0, unrestricted: 60_000, blocked: 30_000, scrap: 10_000 })
    const run = (await runOf('B1'))!
    expect(run.result).toMatchObject({
      valuation: 'accepted',
      decision: 'A2',
      score: { supplier: 'SUP-7', accepted: true, inspected: 13 },
    })
    const audit = await hub.store.listAudit(ALL, { subject: 'B1', limit: 100 })
    const journal = (await hub.store.engine.loadRun(ALL, run.id))!.journal
    expect(journal.map((j) => `${j.kind}:${j.name}`)).toEqual([
      'step:sampling-plan',
      'step:create-inspection-lot',
      'receive:inbox',
      'wait:qms.usage_decision.made@B1',
      'step:record-usage-decision',
      'step:post-stock',
      'step:confirm-posting',
      'step:supplier-scorecard',
    ])
    expect(audit.filter((a) => a.action === 'workflow.step.completed')).toHaveLength(6)
    expect(audit.some((a) => a.action === 'workflow.completed')).toBe(true)
    const uds = await hub.store.listEvents(ALL, { type: 'qms.usage_decision.made.v1', limit: 10 })
    expect(uds).toHaveLength(1) // the duplicate webhook was absorbed at ingress

    // The ERP redelivers the finished lot's goods receipt (same document): absorbed, no new run,
    // no new document. A re-posted usage decision is absorbed the same way.
    const before = JSON.stringify(hub.erp.state.counts.documentsByLotAndBucket)
    const [gr] = await hub.store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 1 })
    const again = await hub.q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(gr!.envelope),
    })
    expect(again.json()).toMatchObject({ duplicate: true, seq: gr!.seq })
    expect(await hub.store.engine.listRuns(ALL, { key: 'B1', limit: 5 })).toHaveLength(1)
    expect(JSON.stringify(hub.erp.state.counts.documentsByLotAndBucket)).toBe(before)
  })

  it('never releases on a rejecting decision: the run dead-letters and the ERP is untouched', async () => {
    await receive('B2', '50')
    const lot = await qmsLotFor('B2')
    hub.qms.makeUsageDecision(lot.id, REJECT_50_AS_IS)
    await until(async () => (await hub.store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1, 45_000)
    const [dl] = await hub.store.engine.listDeadLetters(ALL, { limit: 5 })
    expect(dl).toMatchObject({ key: 'B2', errorCode: 'QLK_RELEASE_WITHOUT_ACCEPTANCE' })
    expect(hub.erp.state.counts.documentsByLotAndBucket[BATCH_KEY('B2')]).toMatchObject({ qi: 1 })
    expect(Object.keys(hub.erp.state.counts.documentsByLotAndBucket[BATCH_KEY('B2')]!)).toEqual(['qi'])
  })
})

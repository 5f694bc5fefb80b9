/**
 * Issue 8: the two-plant, two-ERP configuration runs end to end. A Qualink is started from
 * examples/two-plants/qualink.yaml the way `qualink start --config` starts one, with the S/4
 * simulator (P100), the ERPNext simulator (P200), the shared QMS simulator and a notify receiver
 * around it (two-plants-fixture.ts). A goods receipt in each plant's own ERP arrives through that plant's ERP
 * webhook (S/4's signed GoodsReceiptPosted, ERPNext's Frappe-signed Purchase Receipt), each runs
 * supplier receipt inspection to the end (QMS inspection lot, usage decision through the QMS
 * webhook of that plant, stock posting), and each plant's posting is counted in its own ERP only.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { frappe, RECEIPT_ROW, submitReceiptWithInspection } from './erpnext-receipts.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf } from './helpers.ts'
import { startTwoPlants } from './two-plants-fixture.ts'

describe.each(DIALECTS)('examples/two-plants run end to end on %s', (dialect: Dialect) => {
  const closers: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  it("runs each plant's receipt through its own ERP: P100's posting only in S/4, P200's only in ERPNext", async () => {
    const { s4, erpnext, qms, notify, sites, store } = await startTwoPlants(dialect, closers)

    // P100: a goods receipt into quality inspection in S/4 (its GoodsReceiptPosted webhook)
    const gr = goodsReceipt('B100', '100') as { to_MaterialDocumentItem: Array<{ Plant: string }> }
    gr.to_MaterialDocumentItem[0]!.Plant = 'P100'
    expect((await s4Client(s4.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, gr)).status).toBe(201)

    // P200: a Purchase Receipt in ERPNext into its QI warehouse, its row naming the incoming
    // Quality Inspection, submitted (ERPNext's on_submit webhook)
    const { qi } = await submitReceiptWithInspection(erpnext, 'Quality Inspection - P200')

    // both inspection lots open in the one QMS, each with its plant
    const lot100 = await inspectionLotOf(qms, 'B100')
    const lot200 = await inspectionLotOf(qms, 'B200')
    expect([lot100.plant, lot200.plant]).toEqual(['P100', 'P200'])

    const runOf = async (lot: string) => (await store.engine.listRuns(ALL, { key: lot, limit: 5 }))[0]
    // the QMS decides both lots; each decision reaches Qualink through its plant's webhook
    qms.makeUsageDecision(lot200.id, ACCEPT_SPLIT_60_30_10)
    qms.makeUsageDecision(lot100.id, ACCEPT_SPLIT_60_30_10)
    await until(async () => (await runOf('B100'))?.status === 'completed', 60_000)
    await until(async () => (await runOf('B200'))?.status === 'completed', 60_000)
    expect(sites.routed.filter((r) => r.startsWith('usage_decision.made'))).toEqual([
      'usage_decision.made→P200',
      'usage_decision.made→P100',
    ])
    expect(qms.state.webhooks.deliveries.map((d) => d.status)).not.toContain('network-error')

    // P100's usage decision and stock posting: in S/4, once per bucket, and nothing of P200 there
    const s4Docs = s4.state.counts.documentsByLotAndBucket
    expect(Object.keys(s4Docs)).toEqual(['RAW-100|P100|B100'])
    expect(s4Docs['RAW-100|P100|B100']).toEqual({ qi: 1, unrestricted: 1, blocked: 1, scrap: 1 })
    expect(s4.state.stock.find((s) => s.lot === 'RAW-100|P100|B100')!.buckets).toMatchObject({
      qi: 0,
      unrestricted: 60_000,
      blocked: 30_000,
      scrap: 10_000,
    })

    // P200's: one Stock Entry of three rows in ERPNext, its Quality Inspection decided; no B100 there
    const state = erpnext.state
    expect(state.docs['Stock Entry']!.filter((d) => d.docstatus === 1)).toHaveLength(1)
    expect(state.counts.submittedStockEntriesByBatch).toEqual({ B200: 3 })
    expect(state.docs['Quality Inspection']!.find((d) => d.name === qi.name)).toMatchObject({
      status: 'Accepted',
      docstatus: 1,
      remarks: `A2 ${lot200.id}`,
    })
    expect(state.bins.filter((b) => b.batch === 'B100')).toEqual([])
    expect(
      Object.fromEntries(state.bins.filter((b) => b.batch === 'B200').map((b) => [b.warehouse, b.qty])),
    ).toEqual({
      'Quality Inspection - P200': 0,
      'Stores - P200': 60_000,
      'Quarantine - P200': 30_000,
      'Scrap - P200': 10_000,
    })
    expect(state.counts.conservationViolations).toEqual([])

    // each run belongs to its plant and ended with its supplier's score
    const [run100, run200] = [(await runOf('B100'))!, (await runOf('B200'))!]
    expect([run100.plant, run200.plant]).toEqual(['P100', 'P200'])
    expect(run100.result).toMatchObject({ valuation: 'accepted', score: { supplier: 'SUP-7' } })
    expect(run200.result).toMatchObject({ valuation: 'accepted', score: { supplier: 'SUP-9' } })
    // each plant's ERP webhook was delivered once and accepted; nothing raised an alarm
    expect(s4.webhooks.deliveries.map((d) => d.status)).toEqual([202])
    expect(erpnext.webhooks.sent.map((s) => s.status)).toEqual([202])
    expect(notify.bodies).toEqual([])

    // a receipt of another company reaching P200's webhook is refused; its raw delivery stays
    await frappe(erpnext, 'POST', 'Purchase%20Receipt', {
      company: 'Plant A AG',
      supplier: 'SUP-9',
      posting_date: '2025-03-02',
      docstatus: 1,
      items: [{ ...RECEIPT_ROW, batch_no: 'B999', warehouse: 'Quality Inspection - P200' }],
    })
    const dead = async () =>
      (await store.ingress.listRawDeliveries(ALL, { status: 'dead', source: 'erp-p200', limit: 5 }))[0]
    await until(async () => (await dead()) !== undefined)
    expect((await dead())!.lastErrorCode).toBe('QLK_PLANT_MISMATCH')
    expect((await dead())!.lastError).toMatch(/^\/company: plant 'Plant A AG' is not plant P200/)
    expect(await runOf('B999')).toBeUndefined()
    expect(qms.state.inspectionLots.map((l) => l.batch).sort()).toEqual(['B100', 'B200'])
  })
})

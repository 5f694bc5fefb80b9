/**
 * The receipt workflow's documented exception paths (docs/workflows.md), end to end over the S/4
 * and QMS simulators with every webhook delivered twice: partial receipts, a receipt reversed
 * before and after the posting, an inspection lot cancelled in the QMS, and usage decisions
 * changed after the posting. ERP effects are counted as documents per lot and bucket in the
 * simulator's state, which (like SAP) does not deduplicate.
 */
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { goodsReceipt, MATDOC, s4Client } from '../../simulators/erp-s4/test-client.ts'
import { type ErpS4Sim, type QmsSim, startErpS4, startQms } from '../../simulators/index.ts'
import { sapS4Connector } from '../../src/connectors/erp/sap-s4/connector.ts'
import { sapS4GoodsReceiptTranslator } from '../../src/connectors/erp/sap-s4/gr-translator.ts'
import { notifyWebhookConnector } from '../../src/connectors/notify/webhook/connector.ts'
import { qmsRestConnector } from '../../src/connectors/qms/rest/connector.ts'
import { qmsWebhookTranslator } from '../../src/connectors/qms/rest/webhook-translator.ts'
import type { WorkflowDefinition } from '../../src/engine/workflow.ts'
import { samplingPlan } from '../../src/rules/index.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { RunRow } from '../../src/store/engine-types.ts'
import type { Store } from '../../src/store/types.ts'
import {
  DEFAULT_RECEIPT_SETTINGS,
  supplierReceiptInspection,
} from '../../src/workflows/supplier-receipt-inspection.ts'
import { type HttpStub, startStub } from '../connectors/http-stub.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort, postEvent, webhookSource } from './helpers.ts'

const KEY = (batch: string) => `RAW-100|1000|${batch}`

describe.each(DIALECTS)('supplier receipt exception paths on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let erp: ErpS4Sim
  let qms: QmsSim
  let chat: HttpStub
  let q: Qualink
  let port: number

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    db = await createTestDatabase(dialect)
    store = await db.open()
    port = await freePort()
    const base = `http://127.0.0.1:${port}`
    erp = await startErpS4({
      materials: { 'RAW-100': { baseUnit: 'KG' } },
      webhook: { url: `${base}/v1/ingress/erp-s4`, secret: 'erp-secret' },
    })
    qms = await startQms({ webhook: { url: `${base}/v1/ingress/qms`, secret: 'qms-secret' } })
    // Every webhook of both systems arrives twice.
    erp.faults.set({ duplicateRate: 1, seed: 3 })
    qms.faults.set({ duplicateRate: 1, seed: 5 })
    // A Slack-compatible incoming webhook that records what people would be told.
    chat = await startStub(() => ({ status: 200, body: 'ok' }))
    process.env.QLK_PATHS_CHAT = `${chat.url}/services/T/B/X`
    await boot(supplierReceiptInspection())
  })
  /** Starts Qualink on the test's store and port with one definition of the workflow. */
  // biome-ignore lint/suspicious/noExplicitAny: a v1 stand-in and v2 have the same shape
  const boot = async (workflow: WorkflowDefinition<any, any>) => {
    const runtime = (name: string, url: string) => ({ name, allowlist: [url], leaseMs: 30_000 })
    q = await startQualink({
      store,
      port,
      logger: pino({ level: 'silent' }),
      anchorFile: `${db.dir}/anchors.jsonl`,
      leaseTtlMs: 30_000,
      webhooks: [webhookSource.erp('erp-secret'), webhookSource.qms('qms-secret')],
      translators: [sapS4GoodsReceiptTranslator('erp-s4'), qmsWebhookTranslator('qms')],
      workflows: [workflow],
      ports: {
        erp: sapS4Connector.instantiate(
          { baseUrl: erp.url, egress: { timeoutMs: 2000 } },
          runtime('erp', erp.url),
        ),
        qms: qmsRestConnector.instantiate(
          { baseUrl: qms.url, egress: { timeoutMs: 2000 } },
          runtime('qms', qms.url),
        ),
        notify: notifyWebhookConnector.instantiate(
          { urlEnv: 'QLK_PATHS_CHAT', format: 'slack' },
          runtime('notify', chat.url),
        ),
      },
    })
  }
  afterEach(async () => {
    await q?.close()
    await erp?.close()
    await qms?.close()
    await chat?.close()
    await store?.close()
    await db?.cleanup()
  })

  const s4 = () => s4Client(erp.url)
  /** Posts a goods receipt in the ERP; returns its material document. */
  const receive = async (batch: string, qty: string) => {
    const res = await s4().send('POST', `${MATDOC}/A_MaterialDocumentHeader`, goodsReceipt(batch, qty))
    expect(res.status).toBe(201)
    const d = (await res.json()) as { d: { MaterialDocument: string; MaterialDocumentYear: string } }
    return { id: d.d.MaterialDocument, year: d.d.MaterialDocumentYear }
  }
  const cancelInErp = (doc: { id: string; year: string }) =>
    s4().send('POST', `${MATDOC}/Cancel?MaterialDocumentYear='${doc.year}'&MaterialDocument='${doc.id}'`, {})
  const qmsLotFor = async (batch: string) => {
    const find = () => [...qms.model.lots.values()].find((l) => l.batch === batch)
    await until(() => find() !== undefined)
    return find()!
  }
  const runs = (lot: string) => store.engine.listRuns(ALL, { key: lot, limit: 20 })
  const runWith = async (lot: string, outcome: (r: RunRow) => boolean) => {
    await until(async () => (await runs(lot)).some(outcome), 45_000)
    return (await runs(lot)).find(outcome)!
  }
  const outcome = (o: string) => (r: RunRow) =>
    r.status === 'completed' && (r.result as { outcome?: string } | null)?.outcome === o
  const docs = (batch: string) => erp.state.counts.documentsByLotAndBucket[KEY(batch)]
  const stock = (batch: string) => erp.state.stock.find((s) => s.lot === KEY(batch))?.buckets
  const told = (text: string) => chat.requests.some((r) => r.body.includes(text))
  const erpLotsOf = (batch: string) => [...erp.model.lots.values()].filter((l) => l.Batch === batch)

  it('partial receipts: a second receipt joins the open inspection and both are posted as decided', async () => {
    await receive('P1', '60')
    const lot = await qmsLotFor('P1')
    await receive('P1', '40')
    await until(() => lot.quantity === 100_000)
    // ISO 2859-1 sample size for the new total, from the same rule the workflow uses.
    const plan = samplingPlan({ lotSize: 100, ...DEFAULT_RECEIPT_SETTINGS.sampling })
    expect(lot.sampleSize).toBe(plan.unitsToInspect)
    qms.makeUsageDecision(lot.id, {
      decision: 'ACCEPT',
      code: 'A1',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '70' },
        { disposition: 'SCRAP', quantity: '30' },
      ],
    })
    const run = await runWith(
      'P1',
      (r) => r.status === 'completed' && (r.result as { valuation?: string })?.valuation !== undefined,
    )
    // Receipt 1 (60) is released whole; receipt 2 (40) gives 10 to release and 30 to scrap.
    expect(docs('P1')).toEqual({ qi: 2, unrestricted: 2, scrap: 1 })
    expect(stock('P1')).toMatchObject({ qi: 0, unrestricted: 70_000, scrap: 30_000 })
    const erpLots = erpLotsOf('P1')
    expect(erpLots).toHaveLength(2)
    expect(erpLots.every((l) => l.usageDecision?.InspectionLotUsageDecisionCode === 'A1')).toBe(true)
    expect(run.result).toMatchObject({ received: { units: 100_000 }, valuation: 'accepted' })
    const journal = (await store.engine.loadRun(ALL, run.id))!.journal.map((j) => `${j.kind}:${j.name}`)
    expect(journal.filter((j) => j === 'step:post-stock')).toHaveLength(2)
    expect(journal).toContain('step:resize-inspection-lot')
    expect(qms.model.lots.size).toBe(1)
    // Both receipts and the decision were each delivered twice and absorbed at ingress.
    expect(erp.faults.counts.duplicate).toBeGreaterThanOrEqual(2)
    expect(qms.faults.counts.duplicate).toBeGreaterThanOrEqual(1)
    expect(await store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 10 })).toHaveLength(2)
  })

  it('a receipt after the decision gets its own inspection; the first posting is confirmed per inspection lot', async () => {
    await receive('L1', '50')
    const lot = await qmsLotFor('L1')
    // The ERP answers the UD stock posting with 503 until the second receipt is in, so that
    // receipt lands in QI while the first run is between its decision and its confirmation.
    const failPosting = {
      errorRate: 1,
      errorStatus: 503,
      match: { method: 'POST', path: 'A_InspLotMatlDocItem' },
    }
    erp.faults.set({ ...failPosting, seed: 3 })
    qms.makeUsageDecision(lot.id, { decision: 'ACCEPT', code: 'A1' })
    await until(() => erp.faults.counts.error > 0, 45_000)
    await receive('L1', '20')
    await until(
      async () =>
        (await store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 10 })).length === 2,
    )
    erp.faults.set({ duplicateRate: 1, seed: 3 })
    const first = await runWith(
      'L1',
      (r) => r.status === 'completed' && (r.result as { valuation?: string })?.valuation === 'accepted',
    )
    expect(first.result).toMatchObject({
      received: { units: 50_000 },
      erpInspectionLots: [erpLotsOf('L1')[0]!.InspectionLot],
    })
    // The second receipt waited in the inbox and started the lot's next run and inspection.
    const lots = () => [...qms.model.lots.values()].filter((l) => l.batch === 'L1')
    await until(() => lots().length === 2, 45_000)
    expect(lots()[1]!.quantity).toBe(20_000)
    expect(stock('L1')).toMatchObject({ qi: 20_000, unrestricted: 50_000 })
    expect(docs('L1')).toEqual({ qi: 2, unrestricted: 1 })
  })

  it('a receipt the QMS can no longer take (already decided) gets a second round in the same run', async () => {
    await receive('D1', '50')
    const first = await qmsLotFor('D1')
    // The decision's webhook is held back, so the second receipt reaches the run first while the
    // QMS lot is already decided.
    qms.faults.set({ outOfOrderRate: 1, times: 1, seed: 5 })
    qms.makeUsageDecision(first.id, { decision: 'ACCEPT', code: 'A1' })
    await receive('D1', '20')
    const runId = async () => (await runs('D1'))[0]!.id
    const journal = async () =>
      (await store.engine.loadRun(ALL, await runId()))!.journal.map((j) => `${j.kind}:${j.name}`)
    await until(async () => (await journal()).includes('step:resize-inspection-lot'), 45_000)
    await qms.webhooks.idle() // releases the held-back decision
    const lots = () => [...qms.model.lots.values()].filter((l) => l.batch === 'D1')
    await until(() => lots().length === 2, 45_000)
    expect(lots().map((l) => l.quantity)).toEqual([50_000, 20_000])
    qms.makeUsageDecision(lots()[1]!.id, {
      decision: 'REJECT',
      code: 'R1',
      dispositions: [{ disposition: 'RETURN_TO_VENDOR', quantity: '20' }],
    })
    const run = await runWith(
      'D1',
      (r) => r.status === 'completed' && (r.result as { rounds?: unknown[] })?.rounds !== undefined,
    )
    expect((run.result as { rounds: unknown[] }).rounds).toMatchObject([
      { decision: 'A1', valuation: 'accepted', received: { units: 50_000 } },
      { decision: 'R1', valuation: 'rejected', received: { units: 20_000 } },
    ])
    expect(stock('D1')).toMatchObject({ qi: 0, unrestricted: 50_000, returned: 20_000 })
    expect(docs('D1')).toEqual({ qi: 2, unrestricted: 1, returned: 1 })
    expect(erpLotsOf('D1').map((l) => l.usageDecision?.InspectionLotUsageDecisionCode)).toEqual(['A1', 'R1'])
  })

  it("a change to an earlier inspection's decision that reaches a later run is applied after that run's posting", async () => {
    await receive('E1', '50')
    const first = await qmsLotFor('E1')
    qms.makeUsageDecision(first.id, { decision: 'ACCEPT', code: 'A1' })
    await runWith(
      'E1',
      (r) => r.status === 'completed' && (r.result as { valuation?: string })?.valuation === 'accepted',
    )
    await receive('E1', '20')
    const lots = () => [...qms.model.lots.values()].filter((l) => l.batch === 'E1')
    await until(() => lots().length === 2, 45_000)
    const second = async () => (await runs('E1')).find((r) => r.status === 'waiting')!
    qms.changeUsageDecision(first.id, {
      decision: 'ACCEPT',
      code: 'A3',
      reason: 'partly reworkable',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '30' },
        { disposition: 'REWORK', quantity: '20' },
      ],
    })
    // The change is taken from the second run's inbox and kept for after its own posting.
    await until(async () => {
      const r = await second()
      const j = r ? (await store.engine.loadRun(ALL, r.id))!.journal : []
      return j.some((x) => x.kind === 'receive')
    }, 45_000)
    qms.makeUsageDecision(lots()[1]!.id, { decision: 'ACCEPT', code: 'A1' })
    const run = await runWith(
      'E1',
      (r) =>
        r.status === 'completed' &&
        (r.result as { earlierInspections?: unknown[] })?.earlierInspections !== undefined,
    )
    expect(run.result).toMatchObject({
      received: { units: 20_000 },
      earlierInspections: [{ outcome: 'decision-changed', previousCode: 'A1', code: 'A3' }],
    })
    expect(stock('E1')).toMatchObject({ qi: 0, unrestricted: 50_000, blocked: 20_000 })
    expect(docs('E1')).toEqual({ qi: 2, unrestricted: 2, blocked: 1 })
    // Only the first inspection's SAP lot carries the changed code; the second keeps its own.
    expect(
      erpLotsOf('E1').map((l) => [l.InspectionLotText, l.usageDecision?.InspectionLotUsageDecisionCode]),
    ).toEqual([
      [first.id, 'A3'],
      [lots()[1]!.id, 'A1'],
    ])
  })

  it('a receipt reversed before the decision cancels the QMS inspection and posts nothing', async () => {
    const doc = await receive('R1', '50')
    const lot = await qmsLotFor('R1')
    const res = await cancelInErp(doc)
    expect(res.status).toBe(200)
    await runWith('R1', outcome('receipt-reversed'))
    expect(lot.status).toBe('CANCELLED')
    // The receipt and its reversal cancel out; no usage decision, no stock posting.
    expect(docs('R1')).toBeUndefined()
    expect(stock('R1')).toMatchObject({ qi: 0, unrestricted: 0, blocked: 0 })
    expect(erpLotsOf('R1')[0]!.usageDecision).toBeUndefined()
    expect(told('reversed before the usage decision')).toBe(true)
    expect(await store.engine.listDeadLetters(ALL, { limit: 5 })).toHaveLength(0)
  })

  it('a receipt reversed after the posting dead-letters for a person instead of guessing', async () => {
    const doc = await receive('R2', '50')
    const lot = await qmsLotFor('R2')
    qms.makeUsageDecision(lot.id, { decision: 'ACCEPT', code: 'A1' })
    await runWith(
      'R2',
      (r) => r.status === 'completed' && (r.result as { valuation?: string })?.valuation === 'accepted',
    )
    const before = JSON.stringify(docs('R2'))
    // The S/4 simulator, like SAP, refuses to cancel a receipt whose inspection lot has UD postings.
    const refused = await cancelInErp(doc)
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain('QA/421')
    // An ERP that allows it (or a person reversing another way) reports the reversal.
    await postEvent(q, 'erp.goods_receipt.reversed.v1', 'R2', {
      materialDocument: { id: '4999999999', year: Number(doc.year), item: '1' },
      reversedDocument: { id: doc.id, year: Number(doc.year), item: '1' },
      lot: { id: 'R2', material: 'RAW-100', plant: '1000' },
      quantity: { units: 50_000, scale: 3, uom: 'KG' },
      audit: { timestamp: new Date().toISOString(), sourceSystem: 'erp-s4', approvalStatus: 'not_required' },
    })
    await until(async () => (await store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1, 45_000)
    const [dl] = await store.engine.listDeadLetters(ALL, { limit: 5 })
    expect(dl).toMatchObject({ key: 'R2', errorCode: 'QLK_REVERSAL_AFTER_POSTING' })
    expect(JSON.stringify(docs('R2'))).toBe(before)
    expect(told('reversed after its stock was posted')).toBe(true)
  })

  it('an inspection lot cancelled in the QMS ends the run with the stock left in quality inspection', async () => {
    await receive('C1', '40')
    const lot = await qmsLotFor('C1')
    qms.cancelInspectionLot(lot.id, 'supplier certificate withdrawn')
    const run = await runWith('C1', outcome('inspection-cancelled'))
    expect(run.result).toMatchObject({ reason: 'supplier certificate withdrawn', stock: 'qualityInspection' })
    expect(docs('C1')).toEqual({ qi: 1 })
    expect(stock('C1')).toMatchObject({ qi: 40_000, unrestricted: 0, blocked: 0 })
    expect(erpLotsOf('C1')[0]!.usageDecision).toBeUndefined()
    expect(told('cancelled in the QMS')).toBe(true)
  })

  it('a changed usage decision posts only the difference, as transfer postings, and never releases on a rejection', async () => {
    await receive('U1', '100')
    const lot = await qmsLotFor('U1')
    qms.makeUsageDecision(lot.id, { decision: 'ACCEPT', code: 'A1' })
    await runWith(
      'U1',
      (r) => r.status === 'completed' && (r.result as { valuation?: string })?.valuation === 'accepted',
    )
    expect(docs('U1')).toEqual({ qi: 1, unrestricted: 1 })

    qms.changeUsageDecision(lot.id, {
      decision: 'ACCEPT',
      code: 'A3',
      reason: 'rework found on re-inspection',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '60' },
        { disposition: 'REWORK', quantity: '30' },
        { disposition: 'SCRAP', quantity: '10' },
      ],
    })
    await runWith('U1', (r) => outcome('decision-changed')(r) && (r.result as { code: string }).code === 'A3')
    expect(stock('U1')).toMatchObject({ qi: 0, unrestricted: 60_000, blocked: 30_000, scrap: 10_000 })
    expect(docs('U1')).toEqual({ qi: 1, unrestricted: 1, blocked: 1, scrap: 1 })
    const erpDecision = () => erpLotsOf('U1')[0]!.usageDecision!
    expect(erpDecision()).toMatchObject({
      InspectionLotUsageDecisionCode: 'A3',
      InspLotUsageDecisionValuation: 'A',
    })

    qms.changeUsageDecision(lot.id, {
      decision: 'REJECT',
      code: 'R2',
      reason: 'supplier 8D: whole lot suspect',
      dispositions: [
        { disposition: 'REWORK', quantity: '90' },
        { disposition: 'SCRAP', quantity: '10' },
      ],
    })
    await runWith('U1', (r) => outcome('decision-changed')(r) && (r.result as { code: string }).code === 'R2')
    expect(stock('U1')).toMatchObject({ qi: 0, unrestricted: 0, blocked: 90_000, scrap: 10_000 })
    expect(docs('U1')).toEqual({ qi: 1, unrestricted: 1, blocked: 2, scrap: 1 })
    expect(told('changed: A3 → R2')).toBe(true)
    expect(erpDecision()).toMatchObject({
      InspectionLotUsageDecisionCode: 'R2',
      InspLotUsageDecisionValuation: 'R',
    })

    // A rejecting decision with a release line never releases: dead letter, ERP untouched.
    const before = JSON.stringify(docs('U1'))
    qms.changeUsageDecision(lot.id, {
      decision: 'REJECT',
      code: 'R3',
      reason: 'typo',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '90' },
        { disposition: 'SCRAP', quantity: '10' },
      ],
    })
    await until(async () => (await store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1, 45_000)
    const [dl] = await store.engine.listDeadLetters(ALL, { limit: 5 })
    expect(dl).toMatchObject({ key: 'U1', errorCode: 'QLK_RELEASE_WITHOUT_ACCEPTANCE' })
    expect(JSON.stringify(docs('U1'))).toBe(before)
    expect(erpDecision().InspectionLotUsageDecisionCode).toBe('R2')

    // The trail: each compensation is a journaled step of its run, each step an audit row, and
    // each journaled document exists in the ERP as exactly one document.
    const all = await runs('U1')
    const journals = await Promise.all(all.map(async (r) => (await store.engine.loadRun(ALL, r.id))!.journal))
    const transfers = journals.flat().filter((j) => j.name === 'compensate-transfer')
    expect(transfers).toHaveLength(3)
    const numbers = transfers.flatMap((t) => (t.result as { documents: string[] }).documents)
    expect(new Set(numbers).size).toBe(3)
    for (const n of numbers)
      expect(erp.model.documents.filter((d) => d.MaterialDocument === n)).toHaveLength(1)
    const steps = journals.flat().filter((j) => j.kind === 'step').length
    const audit = await store.listAudit(ALL, { subject: 'U1', limit: 500 })
    expect(audit.filter((a) => a.action === 'workflow.step.completed')).toHaveLength(steps)
    expect(audit.some((a) => a.action === 'workflow.dead_lettered')).toBe(true)
    // The lot's evidence bundle (sealed, hash-chained audit rows with their payloads) names each
    // compensating transfer with its idempotency key.
    const compensations = async () => {
      const r = await q.app.inject({ method: 'GET', url: '/v1/lots/U1/evidence' })
      const b = r.json() as { audit: Array<{ payload: { step?: string; idempotencyKey?: string } | null }> }
      return (b.audit ?? []).filter((a) => a.payload?.step === 'compensate-transfer')
    }
    await until(async () => (await compensations()).length === 3, 45_000)
    expect((await compensations()).map((a) => a.payload!.idempotencyKey).sort()).toEqual(
      transfers.map((t) => t.idempotencyKey).sort(),
    )
  })

  it('a run started on v1 (waiting with waitFor) finishes on v2 code with the v1 journal', async () => {
    // v1 as it was deployed: version 1, the receipt as only trigger, no decisionFrom in its snapshot.
    await q.close()
    const v2 = supplierReceiptInspection()
    await boot({
      ...v2,
      version: 1,
      compatibleWith: undefined,
      triggers: ['erp.goods_receipt.posted.v1'],
      config: () => DEFAULT_RECEIPT_SETTINGS,
    })
    await receive('V1', '50')
    const lot = await qmsLotFor('V1')
    await until(async () => (await runs('V1'))[0]?.status === 'waiting')
    // Upgrade: the process restarts with v2 only; the v1 run is still waiting for its decision.
    await q.close()
    await boot(v2)
    qms.makeUsageDecision(lot.id, { decision: 'ACCEPT', code: 'A1' })
    const run = await runWith('V1', (r) => r.version === 1 && r.status === 'completed')
    expect(run.result).toMatchObject({ valuation: 'accepted', decision: 'A1' })
    const journal = (await store.engine.loadRun(ALL, run.id))!.journal.map((j) => `${j.kind}:${j.name}`)
    expect(journal.slice(0, 4)).toEqual([
      'step:sampling-plan',
      'step:create-inspection-lot',
      'wait:qms.usage_decision.made@V1',
      'step:record-usage-decision',
    ])
    expect(docs('V1')).toEqual({ qi: 1, unrestricted: 1 })
  })
})

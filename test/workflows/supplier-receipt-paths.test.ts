/**
 * The receipt workflow's documented exception paths (docs/workflows.md), end to end over the S/4
 * and QMS simulators with every webhook delivered twice: partial receipts, a receipt reversed
 * before and after the posting, an inspection lot cancelled in the QMS, and usage decisions
 * changed after the posting. ERP effects are counted as documents per lot and bucket in the
 * simulator's state, which (like SAP) does not deduplicate. Receipt timing cases (rounds, late
 * events, v1 runs): supplier-receipt-rounds.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { samplingPlan } from '../../src/rules/index.ts'
import { DEFAULT_RECEIPT_SETTINGS } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ACCEPT_SPLIT_60_30_10, postEvent } from './helpers.ts'
import {
  cancelInErp,
  docs,
  erp,
  erpLotsOf,
  outcome,
  q,
  qms,
  qmsLotFor,
  receive,
  runs,
  runWith,
  stock,
  store,
  told,
  useReceiptHarness,
} from './supplier-receipt-harness.ts'

describe.each(DIALECTS)('supplier receipt exception paths on %s', (dialect: Dialect) => {
  useReceiptHarness(dialect)

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
      lot: { id: 'R2', material: 'RAW-100', plant: 'P100' },
      quantity: { units: 50_000, scale: 3, uom: 'KG' },
      audit: { timestamp: new Date().toISOString(), sourceSystem: 'erp-s4', approvalStatus: 'not_required' },
    })
    await until(async () => (await store.engine.listDeadLetters(ALL, { limit: 5 })).length === 1, 45_000)
    const [dl] = await store.engine.listDeadLetters(ALL, { limit: 5 })
    expect(dl).toMatchObject({ key: 'R2', errorCode: 'QLK_REVERSAL_AFTER_POSTING' })
    expect(JSON.stringify(docs('R2'))).toBe(before)
    expect(told('reversed after its stock was posted')).toBe(true)
    // a run a reversal started creates no QMS lot: it is not an inspection awaiting creation
    const scrape = (await q.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(scrape).toMatch(/^# TYPE qualink_inspections_awaiting_creation gauge$/m)
    expect(scrape).not.toMatch(/^qualink_inspections_awaiting_creation\{plant="P100"\} [1-9]/m)
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
      ...ACCEPT_SPLIT_60_30_10,
      code: 'A3',
      reason: 'rework found on re-inspection',
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
})

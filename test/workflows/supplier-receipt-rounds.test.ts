/**
 * When receipts and decisions of one batch cross each other, end to end over the S/4 and QMS
 * simulators (webhooks delivered twice): a receipt after the decision, a receipt the QMS can no
 * longer take (a second round), a change to an earlier inspection reaching a later run, and a run
 * started on v1 finishing on v2 code. Documents are counted in the simulator's state.
 */
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RECEIPT_SETTINGS,
  supplierReceiptInspection,
} from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import {
  boot,
  docs,
  erp,
  erpLotsOf,
  q,
  qms,
  qmsLotFor,
  receive,
  runs,
  runWith,
  stock,
  store,
  useReceiptHarness,
} from './supplier-receipt-harness.ts'

describe.each(DIALECTS)('supplier receipt rounds and late events on %s', (dialect: Dialect) => {
  useReceiptHarness(dialect)

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

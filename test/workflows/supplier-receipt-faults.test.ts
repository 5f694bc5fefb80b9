/**
 * Gaps of issue 8's supplier receipt matrix that the other files leave: the ERP answering 429 (and
 * 503) on the usage decision record and on its stock posting, end to end through the workflow
 * (test/faults/erp-unavailable.test.ts covers the connector's budget with a one-step workflow), and
 * the usage decision after the deadline: the plant's
 * decision deadline passes with no decision, the run asks the QMS (nothing yet) and escalates to the
 * chat webhook; the QMS decides after that, and its webhook (delivered twice, as every webhook in
 * this harness) still posts the split exactly once per bucket. The audit trail names the poll and
 * the escalation before the posting.
 */
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RECEIPT_SETTINGS,
  supplierReceiptInspection,
} from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { ACCEPT_SPLIT_60_30_10, auditedSteps, auditStory } from './helpers.ts'
import {
  boot,
  docs,
  erp,
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

describe.each(DIALECTS)('supplier receipt, usage decision after the deadline, on %s', (dialect: Dialect) => {
  useReceiptHarness(dialect)

  const ERP_FAULTS = [
    {
      name: '429 on the stock posting',
      fault: { rateLimitRate: 1, retryAfterSeconds: 1 },
      path: 'A_InspLotMatlDocItem',
      count: 'rateLimit',
    },
    {
      name: '503 on the stock posting',
      fault: { errorRate: 1, errorStatus: 503 },
      path: 'A_InspLotMatlDocItem',
      count: 'error',
    },
    {
      name: '429 on the usage decision record',
      fault: { rateLimitRate: 1, retryAfterSeconds: 1 },
      path: 'A_InspLotUsageDecision',
      count: 'rateLimit',
    },
  ] as const

  it.each(ERP_FAULTS)('ERP $name (twice): the split posted once per bucket', async (row) => {
    await receive('E1', '100')
    const lot = await qmsLotFor('E1')
    erp.faults.set({ ...row.fault, times: 2, match: { path: row.path }, seed: 2 })
    qms.makeUsageDecision(lot.id, ACCEPT_SPLIT_60_30_10)
    const run = await runWith('E1', (r) => r.status === 'completed')
    expect(erp.faults.counts[row.count]).toBe(2)
    expect(run.result).toMatchObject({ valuation: 'accepted', decision: 'A2' })
    expect(docs('E1')).toEqual({ qi: 1, unrestricted: 1, blocked: 1, scrap: 1 })
    expect(stock('E1')).toMatchObject({ qi: 0, unrestricted: 60_000, blocked: 30_000, scrap: 10_000 })
    expect(erp.state.counts.usageDecisions).toBe(1)
    expect(auditedSteps(await auditStory(store, 'E1')).filter((s) => s === 'post-stock')).toHaveLength(1)
  })

  it('escalates at the deadline, then posts the late decision once per bucket', async () => {
    await q.close()
    await boot(
      supplierReceiptInspection(() => ({
        ...DEFAULT_RECEIPT_SETTINGS,
        decisionDeadline: '2s',
        maxEscalations: 50,
      })),
    )
    await receive('T1', '100')
    const lot = await qmsLotFor('T1')
    await until(() => told('Usage decision overdue for lot T1'), 45_000)
    expect((await runs('T1'))[0]!.status).not.toBe('completed')

    qms.makeUsageDecision(lot.id, ACCEPT_SPLIT_60_30_10)
    const run = await runWith('T1', (r) => r.status === 'completed')
    expect(run.result).toMatchObject({ valuation: 'accepted', decision: 'A2' })
    expect(docs('T1')).toEqual({ qi: 1, unrestricted: 1, blocked: 1, scrap: 1 })
    expect(stock('T1')).toMatchObject({ qi: 0, unrestricted: 60_000, blocked: 30_000, scrap: 10_000 })

    const steps = auditedSteps(await auditStory(store, 'T1'))
    const first = (name: string) => steps.indexOf(name)
    expect(first('poll-usage-decision')).toBeGreaterThan(-1)
    expect(first('escalate')).toBeGreaterThan(first('poll-usage-decision'))
    expect(first('post-stock')).toBeGreaterThan(first('escalate'))
    expect(steps.filter((s) => s === 'post-stock')).toHaveLength(1)
    expect(await store.listEvents(ALL, { type: 'qms.usage_decision.made.v1', limit: 5 })).toHaveLength(1)
  })
})

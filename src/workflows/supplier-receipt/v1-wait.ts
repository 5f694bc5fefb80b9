/**
 * How v1 of the receipt workflow waited for the decision: `waitFor` on the decision event alone,
 * blind to the lot's other events. Kept, step for step, so runs started on v1 (their config
 * snapshot has no `decisionFrom`) replay on v2 code with the same journal (DESIGN §6, versions).
 */
import { PermanentError } from '../../engine/errors.ts'
import type { WorkflowContext } from '../../engine/workflow.ts'
import type { UsageDecisionView } from '../ports/qms.ts'
import type { ReceiptInspectionSettings, SupplierReceiptPorts } from '../supplier-receipt-inspection.ts'
import type { DecisionLine } from './split.ts'

export interface Decision {
  inspectionLot: string
  valuation: 'accepted' | 'rejected'
  code: string
  lines: DecisionLine[]
  decidedBy?: string
}

export function fromPolled(ud: UsageDecisionView): Decision {
  return {
    inspectionLot: ud.inspectionLot,
    valuation: ud.valuation,
    code: ud.code,
    lines: [...ud.lines],
    decidedBy: ud.decidedBy,
  }
}

export async function waitForDecisionV1(
  ctx: WorkflowContext<SupplierReceiptPorts, ReceiptInspectionSettings>,
  lot: string,
  qmsLot: string,
): Promise<Decision> {
  for (let round = 1; ; round++) {
    const w = await ctx.waitFor('qms.usage_decision.made.v1', {
      subject: lot,
      timeout: ctx.config.decisionDeadline,
    })
    if (!w.timedOut) {
      const d = w.event.envelope.data as {
        inspectionLot: string
        valuation: Decision['valuation']
        code: string
        stockPostings: DecisionLine[]
      }
      return { inspectionLot: d.inspectionLot, valuation: d.valuation, code: d.code, lines: d.stockPostings }
    }
    const polled = await ctx.step('poll-usage-decision', () => ctx.ports.qms.getUsageDecision(qmsLot))
    if (polled) return fromPolled(polled)
    await ctx.step('escalate', async ({ idempotencyKey }) => {
      await ctx.ports.notify?.send({
        idempotencyKey,
        title: `Usage decision overdue for lot ${lot}`,
        text: `Inspection lot ${qmsLot} has no usage decision after ${ctx.config.decisionDeadline} (round ${round}).`,
        severity: 'warning',
      })
      return { round }
    })
    if (round >= ctx.config.maxEscalations)
      throw new PermanentError(
        'QLK_DECISION_OVERDUE',
        `no usage decision for lot ${lot} after ${round} escalations`,
      )
  }
}

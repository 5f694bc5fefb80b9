/**
 * One inspection round of a receipt run: read the run's inbox until the QMS decides, handling the
 * lot's other events on the way (docs/workflows.md, "Exception paths"):
 * - a further receipt joins the inspection (the QMS lot is resized); one that comes after the QMS
 *   has already decided is deferred to the run's next round, with an inspection of its own;
 * - a receipt reversed leaves it; the last one reversed cancels the QMS lot (nothing posted);
 * - the QMS cancelling the lot ends the round (nothing posted, stock stays in QI);
 * - a changed decision or a reversal about an earlier inspection of the batch waits for the end
 *   of the run (`later`), which then handles it as that event's own run would have;
 * - nothing for `decisionDeadline` → ask the QMS, then escalate, then dead-letter.
 */
import { PermanentError } from '../../engine/errors.ts'
import type { WorkflowContext } from '../../engine/workflow.ts'
import { samplingPlan } from '../../rules/index.ts'
import type { SamplingPlan } from '../../rules/sampling/plans.ts'
import type { StoredEvent } from '../../store/types.ts'
import type { LotRef } from '../ports/erp.ts'
import type { ReceiptInspectionSettings, SupplierReceiptPorts } from '../supplier-receipt-inspection.ts'
import type { ReceiptReversed } from './after-run.ts'
import { samplingFor } from './sampling.ts'
import { type DecisionLine, type Receipt, sameDocument, total } from './split.ts'
import { type Decision, fromPolled } from './v1-wait.ts'

type Ctx = WorkflowContext<SupplierReceiptPorts, ReceiptInspectionSettings>

export const GR_POSTED = 'erp.goods_receipt.posted.v1'
export const GR_REVERSED = 'erp.goods_receipt.reversed.v1'
export const UD_MADE = 'qms.usage_decision.made.v1'
export const UD_CHANGED = 'qms.usage_decision.changed.v1'
export const LOT_CANCELLED = 'qms.inspection_lot.cancelled.v1'

export interface GoodsReceipt {
  materialDocument: Receipt['document']
  lot: { id: string; material: string; plant: string }
  supplier?: string
  quantity: Receipt['quantity']
  bucket: string
  inspectionLot?: string
  /** set by `qualink adopt`: the QMS inspection lot that already existed at go-live */
  adoption?: { qmsInspectionLot?: string }
}

export interface Round {
  readonly lot: LotRef
  readonly qmsLot: string
  /** the receipts this inspection covers, in receipt order */
  readonly receipts: Receipt[]
  /** receipts that came after the QMS had decided: the next round inspects them */
  readonly deferred: Receipt[]
  /**
   * Events about an earlier inspection of the batch (its decision changed, its receipt reversed)
   * that reached this run's inbox: handled after this run's own posting, as their own runs would.
   */
  readonly later: StoredEvent[]
  plan: SamplingPlan
  /** the inspection-plan revision the QMS lot names (absent when the QMS holds none for the scope) */
  readonly specification?: { readonly id: string; readonly version: number }
}

export type RoundEnd = { readonly decision: Decision } | { readonly ended: Record<string, unknown> }

/** Whole units for the sampling tables (ISO 2859-1 counts items; at least 1). */
export const wholeUnits = (q: Receipt['quantity']) => Math.max(1, Math.floor(q.units / 10 ** q.scale))

export function notify(ctx: Ctx, name: string, title: string, text: string) {
  return ctx.step(name, async ({ idempotencyKey }) => {
    await ctx.ports.notify?.send({ idempotencyKey, title, text, severity: 'warning' })
    return { notified: ctx.ports.notify !== undefined }
  })
}

/** The QMS cancelled the inspection: no ERP posting; the stock stays in quality inspection. */
async function cancelled(ctx: Ctx, r: Round, reason: string) {
  await notify(
    ctx,
    'notify-inspection-cancelled',
    `Inspection of lot ${r.lot.lot} cancelled in the QMS`,
    `QMS inspection lot ${r.qmsLot} was cancelled (${reason || 'no reason given'}). Nothing was posted in the ERP; the stock stays in quality inspection until someone decides.`,
  )
  return { outcome: 'inspection-cancelled', inspectionLot: r.qmsLot, reason, stock: 'qualityInspection' }
}

/** The QMS lot follows the receipts (sample size for the new total, quantity set, not added); false when the QMS has decided or cancelled it already. */
async function resize(ctx: Ctx, r: Round): Promise<boolean> {
  const quantity = total(
    r.receipts.map((x) => x.quantity),
    `receipts of lot ${r.lot.lot}`,
  )
  const { group: _, ...sampling } = samplingFor(ctx.config, r.lot.material)
  const plan = await ctx.step('resize-sampling-plan', async () =>
    samplingPlan({ lotSize: wholeUnits(quantity), ...sampling }),
  )
  const done = await ctx.step('resize-inspection-lot', async () => {
    const now = await ctx.ports.qms.getInspectionLot(r.qmsLot)
    if (now?.status === 'usage_decision' || now?.status === 'cancelled') return { closed: now.status }
    const v = await ctx.ports.qms.setInspectionLotQuantity({
      id: r.qmsLot,
      quantity,
      sampleSize: plan.unitsToInspect,
    })
    return { quantity: v.quantity, sampleSize: v.sampleSize }
  })
  if ('closed' in done) return false
  r.plan = plan
  return true
}

export async function awaitDecision(ctx: Ctx, r: Round): Promise<RoundEnd> {
  for (let escalation = 1; ; ) {
    const w = await ctx.receive({ timeout: ctx.config.decisionDeadline })
    if (w.timedOut) {
      // Past the deadline: the webhook may have been lost, so ask the QMS; then escalate.
      const polled = await ctx.step('poll-usage-decision', async () => {
        const l = await ctx.ports.qms.getInspectionLot(r.qmsLot)
        if (l?.status === 'cancelled') return { cancelled: true as const }
        // null when undecided: dashboards and metrics read a non-null poll as "a decision came"
        return ctx.ports.qms.getUsageDecision(r.qmsLot)
      })
      if (polled && 'cancelled' in polled)
        return { ended: await cancelled(ctx, r, 'found cancelled at the deadline') }
      if (polled) return { decision: fromPolled(polled) }
      await ctx.step('escalate', async ({ idempotencyKey }) => {
        await ctx.ports.notify?.send({
          idempotencyKey,
          title: `Usage decision overdue for lot ${r.lot.lot}`,
          text: `Inspection lot ${r.qmsLot} has no usage decision after ${ctx.config.decisionDeadline} (round ${escalation}).`,
          severity: 'warning',
        })
        return { round: escalation }
      })
      if (escalation >= ctx.config.maxEscalations)
        throw new PermanentError(
          'QLK_DECISION_OVERDUE',
          `no usage decision for lot ${r.lot.lot} after ${escalation} escalations`,
        )
      escalation++
      continue
    }
    const e: StoredEvent = w.event
    const d = e.envelope.data as Record<string, unknown>
    if (e.type === GR_POSTED) {
      const more = d as unknown as GoodsReceipt
      if (more.bucket !== 'qualityInspection' || !more.inspectionLot) continue
      const known = [...r.receipts, ...r.deferred]
      if (known.some((x) => sameDocument(x.document, more.materialDocument))) continue
      const receipt = {
        document: more.materialDocument,
        erpInspectionLot: more.inspectionLot,
        quantity: more.quantity,
      }
      r.receipts.push(receipt)
      if (!(await resize(ctx, r))) r.deferred.push(r.receipts.pop()!)
    } else if (e.type === GR_REVERSED) {
      const rev = d as unknown as ReceiptReversed
      const j = r.deferred.findIndex((x) => sameDocument(x.document, rev.reversedDocument))
      if (j >= 0) {
        r.deferred.splice(j, 1)
        continue
      }
      const i = r.receipts.findIndex((x) => sameDocument(x.document, rev.reversedDocument))
      if (i < 0) {
        r.later.push(e)
        continue
      }
      r.receipts.splice(i, 1)
      // With receipts left the inspection goes on for less; a decision already made for the old
      // quantity then no longer adds up and the run dead-letters QLK_DECISION_QUANTITY_MISMATCH.
      if (r.receipts.length > 0) {
        await resize(ctx, r)
        continue
      }
      // Nothing left to inspect: the ERP's reversal already took the stock out of QI.
      await ctx.step('cancel-inspection-lot', () =>
        ctx.ports.qms.cancelInspectionLot({
          id: r.qmsLot,
          reason: `goods receipt ${rev.reversedDocument.id} reversed by ${rev.materialDocument.id}`,
        }),
      )
      await notify(
        ctx,
        'notify-receipt-reversed',
        `Goods receipt of lot ${r.lot.lot} reversed before the usage decision`,
        `Receipt ${rev.reversedDocument.id} was reversed by ${rev.materialDocument.id}; QMS inspection lot ${r.qmsLot} was cancelled and nothing was posted.`,
      )
      return {
        ended: {
          outcome: 'receipt-reversed',
          inspectionLot: r.qmsLot,
          reversedDocument: rev.reversedDocument.id,
        },
      }
    } else if (e.type === LOT_CANCELLED) {
      if (d.inspectionLot === r.qmsLot) return { ended: await cancelled(ctx, r, String(d.reason ?? '')) }
    } else if (e.type === UD_CHANGED && d.inspectionLot !== r.qmsLot) {
      r.later.push(e)
    } else if ((e.type === UD_MADE || e.type === UD_CHANGED) && d.inspectionLot === r.qmsLot) {
      if (e.type === UD_MADE) {
        // Journal the decision under the wait v1 used (the stored event is found at once), so
        // reconciliation and the failed-disposition metric read this run as they read v1 runs.
        await ctx.waitFor(UD_MADE, { subject: r.lot.lot, afterSeq: e.seq - 1 })
      }
      // A change before the run posted anything simply is the decision to post.
      const lines = d.stockPostings as DecisionLine[] | undefined
      if (!lines) continue
      return {
        decision: {
          inspectionLot: r.qmsLot,
          valuation: d.valuation as Decision['valuation'],
          code: String(d.code),
          lines,
          decidedBy: (d.audit as { operator?: string } | undefined)?.operator,
        },
      }
    }
  }
}

import { PermanentError, RetryableError } from '../engine/errors.ts'
import type { WorkflowContext } from '../engine/workflow.ts'
import { defineWorkflow } from '../engine/workflow.ts'
import type { Quantity } from '../model/quantity.ts'
import { type InspectionLevel, samplingPlan } from '../rules/index.ts'
import type { StoredEvent } from '../store/types.ts'
import type { ErpPort, LotRef } from './ports/erp.ts'
import type { NotifyPort } from './ports/notify.ts'
import type { QmsPort } from './ports/qms.ts'
import {
  applyDecisionChange,
  type DecisionChanged,
  type ReceiptReversed,
  reversalAfterRun,
} from './supplier-receipt/after-run.ts'
import {
  allocate,
  type DecisionLine,
  type Receipt,
  sameDocument,
  splitLines,
  total,
} from './supplier-receipt/split.ts'
import { type Decision, fromPolled, waitForDecisionV1 } from './supplier-receipt/v1-wait.ts'

export interface SupplierReceiptPorts {
  readonly erp: ErpPort
  readonly qms: QmsPort
  readonly notify?: NotifyPort
}

/** Per-plant settings, snapshotted into each run when it starts (a replay sees the same values). */
export interface ReceiptInspectionSettings {
  readonly sampling: {
    readonly level: InspectionLevel
    readonly aql: number | string
    readonly severity: 'normal' | 'tightened' | 'reduced'
  }
  /** how long to wait for the QMS's usage decision before asking it and escalating */
  readonly decisionDeadline: string
  /** escalations before the run gives up and dead-letters (visible, replayable) */
  readonly maxEscalations: number
  /** set by v2 in each new run's snapshot; absent in runs started on v1 (v1-wait.ts) */
  readonly decisionFrom?: 'inbox'
}

export const DEFAULT_RECEIPT_SETTINGS: ReceiptInspectionSettings = {
  sampling: { level: 'II', aql: '1.0', severity: 'normal' },
  decisionDeadline: '72h',
  maxEscalations: 3,
}

interface GoodsReceipt {
  materialDocument: Receipt['document']
  lot: { id: string; material: string; plant: string }
  supplier?: string
  quantity: Quantity
  bucket: string
  inspectionLot?: string
}

type Ctx = WorkflowContext<SupplierReceiptPorts, ReceiptInspectionSettings>

const GR_POSTED = 'erp.goods_receipt.posted.v1'
const GR_REVERSED = 'erp.goods_receipt.reversed.v1'
const UD_MADE = 'qms.usage_decision.made.v1'
const UD_CHANGED = 'qms.usage_decision.changed.v1'
const LOT_CANCELLED = 'qms.inspection_lot.cancelled.v1'

const units = (q: Quantity) => Math.max(1, Math.floor(q.units / 10 ** q.scale))

/** The lot (batch) an event is about: every trigger of one batch lands on the same run key. */
function lotKey(e: { subject: string | null; data: unknown }): string {
  const d = e.data as { lot?: string | { id: string } }
  if (typeof d.lot === 'object' && d.lot !== null) return d.lot.id
  return d.lot ?? e.subject ?? ''
}

/**
 * Supplier receipt inspection (DESIGN §1): a goods receipt lands in quality-inspection stock →
 * the sampling plan is computed (ISO 2859-1 / Z1.4) → the QMS gets an inspection lot → the run
 * waits on its inbox for the lot's next event → the ERP records the decision and posts the stock
 * exactly as decided, split lines included → the posting is confirmed by reading the ERP's stock.
 * A lot is never released without an accepting decision.
 *
 * Every event about the batch is a trigger, so while the run is active they arrive in order in
 * its inbox (DESIGN §6) and take their documented path (docs/workflows.md): a further receipt
 * joins the inspection, a reversal or a QMS cancellation ends it without posting, a changed
 * decision after the run posts only the difference. v1 waited for the decision with waitFor and
 * could not see the other events; its runs still replay here, through that same wait (v1-wait.ts).
 */
export function supplierReceiptInspection(
  settings: (plant: string) => ReceiptInspectionSettings = () => DEFAULT_RECEIPT_SETTINGS,
) {
  return defineWorkflow<SupplierReceiptPorts, ReceiptInspectionSettings>({
    name: 'supplier-receipt-inspection',
    version: 2,
    // v1 runs replay on this code through the v1 wait (their snapshot has no decisionFrom).
    compatibleWith: [1],
    triggers: [GR_POSTED, GR_REVERSED, UD_MADE, UD_CHANGED, LOT_CANCELLED],
    key: lotKey,
    config: (plant) => ({ ...settings(plant), decisionFrom: 'inbox' }),
    async run(ctx, trigger) {
      const data = trigger.envelope.data
      switch (trigger.type) {
        case GR_POSTED:
          return inspectReceipt(ctx, data as GoodsReceipt)
        case GR_REVERSED:
          return reversalAfterRun(ctx, data as ReceiptReversed)
        case UD_CHANGED:
          return applyDecisionChange(ctx, data as DecisionChanged, trigger.id)
        default:
          // A decision or cancellation no receipt run is waiting for: already applied (e.g. a
          // late webhook after the deadline poll found the decision) or a lot Qualink never received.
          return { skipped: `${trigger.type} of lot ${ctx.key}: no receipt run is waiting for it` }
      }
    },
  })
}

async function inspectReceipt(ctx: Ctx, gr: GoodsReceipt) {
  if (gr.bucket !== 'qualityInspection')
    return { skipped: `receipt posted to ${gr.bucket}, not to quality inspection` }
  if (!gr.inspectionLot) {
    throw new PermanentError(
      'QLK_VALIDATION',
      `receipt of lot ${gr.lot.id} carries no ERP inspection lot; QM must be active for the material`,
    )
  }
  const lot: LotRef = { plant: gr.lot.plant, material: gr.lot.material, lot: gr.lot.id }
  const receipts: Receipt[] = [
    { document: gr.materialDocument, erpInspectionLot: gr.inspectionLot, quantity: gr.quantity },
  ]
  let plan = await ctx.step('sampling-plan', async () =>
    samplingPlan({ lotSize: units(gr.quantity), ...ctx.config.sampling }),
  )
  const inspection = await ctx.step('create-inspection-lot', async ({ idempotencyKey }) =>
    ctx.ports.qms.createInspectionLot({
      idempotencyKey,
      plant: lot.plant,
      material: lot.material,
      lot: lot.lot,
      quantity: gr.quantity,
      sampleSize: plan.unitsToInspect,
      supplier: gr.supplier,
      origin: '01',
    }),
  )
  const qmsLot = inspection.record.id

  /** The QMS lot follows the receipts: sample size for the new total, quantity set (not added). */
  const resize = async () => {
    const quantity = total(
      receipts.map((r) => r.quantity),
      `receipts of lot ${lot.lot}`,
    )
    plan = await ctx.step('resize-sampling-plan', async () =>
      samplingPlan({ lotSize: units(quantity), ...ctx.config.sampling }),
    )
    await ctx.step('resize-inspection-lot', async () => {
      const now = await ctx.ports.qms.getInspectionLot(qmsLot)
      if (now?.status === 'usage_decision' || now?.status === 'cancelled')
        throw new PermanentError(
          'QLK_RECEIPT_AFTER_DECISION',
          `lot ${lot.lot}: a receipt changed the quantity after QMS inspection lot ${qmsLot} was ${now.status === 'cancelled' ? 'cancelled' : 'decided'}; inspect it separately`,
        )
      const r = await ctx.ports.qms.setInspectionLotQuantity({
        id: qmsLot,
        quantity,
        sampleSize: plan.unitsToInspect,
      })
      return { quantity: r.quantity, sampleSize: r.sampleSize }
    })
  }
  const notify = (name: string, title: string, text: string) =>
    ctx.step(name, async ({ idempotencyKey }) => {
      await ctx.ports.notify?.send({ idempotencyKey, title, text, severity: 'warning' })
      return { notified: ctx.ports.notify !== undefined }
    })

  let decision: Decision | undefined =
    ctx.config.decisionFrom === 'inbox' ? undefined : await waitForDecisionV1(ctx, lot.lot, qmsLot)
  for (let round = 1; !decision; ) {
    const w = await ctx.receive({ timeout: ctx.config.decisionDeadline })
    if (w.timedOut) {
      // Past the deadline: the webhook may have been lost, so ask the QMS; then escalate.
      const polled = await ctx.step('poll-usage-decision', async () => {
        const l = await ctx.ports.qms.getInspectionLot(qmsLot)
        if (l?.status === 'cancelled') return { cancelled: true as const }
        // null when undecided: dashboards and metrics read a non-null poll as "a decision came"
        return ctx.ports.qms.getUsageDecision(qmsLot)
      })
      if (polled && 'cancelled' in polled)
        return cancelled(ctx, lot, qmsLot, 'found cancelled at the deadline')
      if (polled) {
        decision = fromPolled(polled)
        break
      }
      await ctx.step('escalate', async ({ idempotencyKey }) => {
        await ctx.ports.notify?.send({
          idempotencyKey,
          title: `Usage decision overdue for lot ${lot.lot}`,
          text: `Inspection lot ${qmsLot} has no usage decision after ${ctx.config.decisionDeadline} (round ${round}).`,
          severity: 'warning',
        })
        return { round }
      })
      if (round >= ctx.config.maxEscalations) {
        throw new PermanentError(
          'QLK_DECISION_OVERDUE',
          `no usage decision for lot ${lot.lot} after ${round} escalations`,
        )
      }
      round++
      continue
    }
    const e: StoredEvent = w.event
    const d = e.envelope.data as Record<string, unknown>
    if (e.type === GR_POSTED) {
      // Partial receipt: a further receipt of the batch before the decision joins this inspection.
      const more = d as unknown as GoodsReceipt
      if (more.bucket !== 'qualityInspection' || !more.inspectionLot) continue
      if (receipts.some((r) => sameDocument(r.document, more.materialDocument))) continue
      receipts.push({
        document: more.materialDocument,
        erpInspectionLot: more.inspectionLot,
        quantity: more.quantity,
      })
      await resize()
    } else if (e.type === GR_REVERSED) {
      const rev = d as unknown as ReceiptReversed
      const i = receipts.findIndex((r) => sameDocument(r.document, rev.reversedDocument))
      if (i < 0) continue
      receipts.splice(i, 1)
      if (receipts.length > 0) {
        await resize()
        continue
      }
      // Nothing left to inspect: the ERP's reversal already took the stock out of QI.
      await ctx.step('cancel-inspection-lot', () =>
        ctx.ports.qms.cancelInspectionLot({
          id: qmsLot,
          reason: `goods receipt ${rev.reversedDocument.id} reversed by ${rev.materialDocument.id}`,
        }),
      )
      await notify(
        'notify-receipt-reversed',
        `Goods receipt of lot ${lot.lot} reversed before the usage decision`,
        `Receipt ${rev.reversedDocument.id} was reversed by ${rev.materialDocument.id}; QMS inspection lot ${qmsLot} was cancelled and nothing was posted.`,
      )
      return { outcome: 'receipt-reversed', inspectionLot: qmsLot, reversedDocument: rev.reversedDocument.id }
    } else if (e.type === LOT_CANCELLED) {
      if (d.inspectionLot !== qmsLot) continue
      return cancelled(ctx, lot, qmsLot, String(d.reason ?? ''))
    } else if (e.type === UD_MADE || e.type === UD_CHANGED) {
      if (d.inspectionLot !== qmsLot) continue
      if (e.type === UD_MADE) {
        // Journal the decision under the wait v1 used (the stored event is found at once), so
        // reconciliation and the failed-disposition metric read this run as they read v1 runs.
        await ctx.waitFor(UD_MADE, { subject: lot.lot, afterSeq: e.seq - 1 })
      }
      // A change before the run posted anything simply is the decision to post.
      const lines = d.stockPostings as DecisionLine[] | undefined
      if (!lines) continue
      decision = {
        inspectionLot: qmsLot,
        valuation: d.valuation as Decision['valuation'],
        code: String(d.code),
        lines,
        decidedBy: (d.audit as { operator?: string } | undefined)?.operator,
      }
    }
  }

  const lines = splitLines(decision.lines, lot.lot)
  if (decision.valuation !== 'accepted' && lines.some((l) => l.bucket === 'release')) {
    throw new PermanentError(
      'QLK_RELEASE_WITHOUT_ACCEPTANCE',
      `lot ${lot.lot}: a rejecting decision cannot release stock`,
    )
  }
  const perReceipt = allocate(lines, receipts)
  const documents: string[] = []
  for (const [i, r] of receipts.entries()) {
    const own = perReceipt[i]!
    if (own.length === 0) continue
    await ctx.step('record-usage-decision', ({ idempotencyKey }) =>
      ctx.ports.erp.recordUsageDecision({
        idempotencyKey,
        plant: lot.plant,
        inspectionLot: r.erpInspectionLot,
        valuation: decision.valuation,
        code: decision.code,
        decidedBy: decision.decidedBy,
      }),
    )
    const posting = await ctx.step('post-stock', ({ idempotencyKey }) =>
      ctx.ports.erp.postStockDisposition({
        idempotencyKey,
        inspectionLot: r.erpInspectionLot,
        lot,
        lines: own,
      }),
    )
    documents.push(...posting.documents)
  }
  // Confirmed by the ERP itself: each of the run's inspection lots has nothing left to post out of
  // QI (a later receipt of the batch has its own lot). An ERP that cannot tell is read by stock:
  // nothing may be left in quality inspection.
  await ctx.step('confirm-posting', async () => {
    const erp = ctx.ports.erp
    const left = erp.readInspectionLotRemainder
      ? await Promise.all(
          receipts.map((r) => erp.readInspectionLotRemainder!(r.erpInspectionLot, { plant: lot.plant })),
        )
      : []
    const byLot = left.length > 0 && left.every((q) => q !== null)
    const stock = await erp.readLotStock(lot)
    const open = byLot
      ? receipts.filter((_, i) => (left[i]?.units ?? 0) > 0).map((r) => r.erpInspectionLot)
      : (stock.quantities.qualityInspection?.units ?? 0) > 0
        ? ['quality-inspection stock']
        : []
    if (open.length > 0)
      throw new RetryableError(
        'QLK_POSTING_UNCONFIRMED',
        `lot ${lot.lot}: not fully posted (${open.join(', ')})`,
      )
    return stock.quantities
  })
  const score = await ctx.step('supplier-scorecard', async () => ({
    supplier: gr.supplier ?? null,
    material: lot.material,
    accepted: decision.valuation === 'accepted',
    inspected: plan.unitsToInspect,
  }))
  return {
    inspectionLot: qmsLot,
    erpInspectionLot: gr.inspectionLot,
    erpInspectionLots: receipts.map((r) => r.erpInspectionLot),
    received: total(
      receipts.map((r) => r.quantity),
      'receipts',
    ),
    decision: decision.code,
    valuation: decision.valuation,
    documents,
    score,
  }
}

/** The QMS cancelled the inspection: no ERP posting; the stock stays in quality inspection. */
async function cancelled(ctx: Ctx, lot: LotRef, qmsLot: string, reason: string) {
  await ctx.step('notify-inspection-cancelled', async ({ idempotencyKey }) => {
    await ctx.ports.notify?.send({
      idempotencyKey,
      title: `Inspection of lot ${lot.lot} cancelled in the QMS`,
      text: `QMS inspection lot ${qmsLot} was cancelled (${reason || 'no reason given'}). Nothing was posted in the ERP; the stock stays in quality inspection until someone decides.`,
      severity: 'warning',
    })
    return { notified: ctx.ports.notify !== undefined }
  })
  return { outcome: 'inspection-cancelled', inspectionLot: qmsLot, reason, stock: 'qualityInspection' }
}

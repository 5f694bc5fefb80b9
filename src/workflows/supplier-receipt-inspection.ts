import { PermanentError, RetryableError } from '../engine/errors.ts'
import { defineWorkflow } from '../engine/workflow.ts'
import type { Quantity } from '../model/quantity.ts'
import { type InspectionLevel, samplingPlan } from '../rules/index.ts'
import { DISPOSITION_BUCKET, type ErpPort, type LotRef } from './ports/erp.ts'
import type { NotifyPort } from './ports/notify.ts'
import type { QmsPort, UsageDecisionView } from './ports/qms.ts'

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
}

export const DEFAULT_RECEIPT_SETTINGS: ReceiptInspectionSettings = {
  sampling: { level: 'II', aql: '1.0', severity: 'normal' },
  decisionDeadline: '72h',
  maxEscalations: 3,
}

interface GoodsReceipt {
  lot: { id: string; material: string; plant: string }
  supplier?: string
  quantity: Quantity
  bucket: string
  inspectionLot?: string
}

interface Decision {
  inspectionLot: string
  valuation: 'accepted' | 'rejected'
  code: string
  lines: Array<{ code: string; quantity: Quantity }>
  decidedBy?: string
}

const units = (q: Quantity) => Math.max(1, Math.floor(q.units / 10 ** q.scale))

function fromPolled(ud: UsageDecisionView): Decision {
  return {
    inspectionLot: ud.inspectionLot,
    valuation: ud.valuation,
    code: ud.code,
    lines: [...ud.lines],
    decidedBy: ud.decidedBy,
  }
}

/**
 * Supplier receipt inspection (DESIGN §1): a goods receipt lands in quality-inspection stock →
 * the sampling plan is computed (ISO 2859-1 / Z1.4) → the QMS gets an inspection lot → the
 * usage decision is awaited (a deadline asks the QMS directly, then escalates) → the ERP records
 * the decision and posts the stock exactly as decided, split lines included → the posting is
 * confirmed by reading the ERP's stock back. A lot is never released without an accepting decision.
 */
export function supplierReceiptInspection(
  settings: (plant: string) => ReceiptInspectionSettings = () => DEFAULT_RECEIPT_SETTINGS,
) {
  return defineWorkflow<SupplierReceiptPorts, ReceiptInspectionSettings>({
    name: 'supplier-receipt-inspection',
    version: 1,
    triggers: ['erp.goods_receipt.posted.v1'],
    key: (e) => (e.data as GoodsReceipt).lot.id,
    config: settings,
    async run(ctx, trigger) {
      const gr = trigger.envelope.data as GoodsReceipt
      if (gr.bucket !== 'qualityInspection')
        return { skipped: `receipt posted to ${gr.bucket}, not to quality inspection` }
      if (!gr.inspectionLot) {
        throw new PermanentError(
          'QLK_VALIDATION',
          `receipt of lot ${gr.lot.id} carries no ERP inspection lot; QM must be active for the material`,
        )
      }
      const lot: LotRef = { plant: gr.lot.plant, material: gr.lot.material, lot: gr.lot.id }
      const plan = await ctx.step('sampling-plan', async () =>
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

      let decision: Decision | undefined
      for (let round = 1; !decision; round++) {
        const w = await ctx.waitFor('qms.usage_decision.made.v1', {
          subject: lot.lot,
          timeout: ctx.config.decisionDeadline,
        })
        if (!w.timedOut) {
          const d = w.event.envelope.data as {
            inspectionLot: string
            valuation: Decision['valuation']
            code: string
            stockPostings: Decision['lines']
          }
          decision = {
            inspectionLot: d.inspectionLot,
            valuation: d.valuation,
            code: d.code,
            lines: d.stockPostings,
          }
          break
        }
        // Past the deadline: the webhook may have been lost, so ask the QMS; then escalate.
        const polled = await ctx.step('poll-usage-decision', () =>
          ctx.ports.qms.getUsageDecision(inspection.record.id),
        )
        if (polled) {
          decision = fromPolled(polled)
          break
        }
        await ctx.step('escalate', async ({ idempotencyKey }) => {
          await ctx.ports.notify?.send({
            idempotencyKey,
            title: `Usage decision overdue for lot ${lot.lot}`,
            text: `Inspection lot ${inspection.record.id} has no usage decision after ${ctx.config.decisionDeadline} (round ${round}).`,
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
      }

      const lines = decision.lines.map((l) => ({
        bucket: DISPOSITION_BUCKET[l.code as keyof typeof DISPOSITION_BUCKET],
        quantity: l.quantity,
      }))
      if (lines.some((l) => l.bucket === undefined)) {
        throw new PermanentError(
          'QLK_VALIDATION',
          `usage decision for lot ${lot.lot} has a disposition code with no stock posting`,
        )
      }
      if (decision.valuation !== 'accepted' && lines.some((l) => l.bucket === 'release')) {
        throw new PermanentError(
          'QLK_RELEASE_WITHOUT_ACCEPTANCE',
          `lot ${lot.lot}: a rejecting decision cannot release stock`,
        )
      }
      await ctx.step('record-usage-decision', ({ idempotencyKey }) =>
        ctx.ports.erp.recordUsageDecision({
          idempotencyKey,
          plant: lot.plant,
          inspectionLot: gr.inspectionLot!,
          valuation: decision.valuation,
          code: decision.code,
          decidedBy: decision.decidedBy,
        }),
      )
      const posting = await ctx.step('post-stock', ({ idempotencyKey }) =>
        ctx.ports.erp.postStockDisposition({ idempotencyKey, inspectionLot: gr.inspectionLot!, lot, lines }),
      )
      // The posting is confirmed by the ERP's own stock: nothing may be left in quality inspection.
      await ctx.step('confirm-posting', async () => {
        const stock = await ctx.ports.erp.readLotStock(lot)
        const qi = stock.quantities.qualityInspection
        if (qi && qi.units > 0)
          throw new RetryableError(
            'QLK_POSTING_UNCONFIRMED',
            `lot ${lot.lot} still has quality-inspection stock`,
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
        inspectionLot: inspection.record.id,
        erpInspectionLot: gr.inspectionLot,
        decision: decision.code,
        valuation: decision.valuation,
        documents: posting.documents,
        score,
      }
    },
  })
}

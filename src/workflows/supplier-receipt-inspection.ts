import { PermanentError, RetryableError } from '../engine/errors.ts'
import type { WorkflowContext } from '../engine/workflow.ts'
import { defineWorkflow } from '../engine/workflow.ts'
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
  awaitDecision,
  type GoodsReceipt,
  GR_POSTED,
  GR_REVERSED,
  LOT_CANCELLED,
  type Round,
  UD_CHANGED,
  UD_MADE,
  wholeUnits,
} from './supplier-receipt/round.ts'
import { samplingFor } from './supplier-receipt/sampling.ts'
import { currentSpecification } from './supplier-receipt/specification.ts'
import { allocate, type Receipt, splitLines, total } from './supplier-receipt/split.ts'
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
  /** sampling per material group; a material whose group is not listed uses `sampling` */
  readonly materialGroups?: Readonly<Record<string, ReceiptInspectionSettings['sampling']>>
  /** material (the ERP's number) → its material group */
  readonly materialGroupOf?: Readonly<Record<string, string>>
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

type Ctx = WorkflowContext<SupplierReceiptPorts, ReceiptInspectionSettings>

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
    // A decision or a QMS cancellation matters only to the batch's active run; one that finds
    // none (a finished-goods approval, a late webhook, our own cancellation echoed back) starts
    // nothing. Reversals and changed decisions after a run still start one: they must be acted on.
    startsOn: [GR_POSTED, GR_REVERSED, UD_CHANGED],
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
          // Not a starting trigger (startsOn): reached only when a run was started from the
          // inbox this event was left in after the batch's previous run completed.
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
  let start: Receipt[] = [
    { document: gr.materialDocument, erpInspectionLot: gr.inspectionLot, quantity: gr.quantity },
  ]
  // Receipts the QMS could no longer take (it had decided) get a further round in the same run.
  const rounds: Record<string, unknown>[] = []
  const later: StoredEvent[] = []
  while (start.length > 0) {
    const r = await inspectOnce(ctx, gr, lot, start, rounds.length)
    rounds.push(r.result)
    later.push(...r.later)
    start = r.deferred
  }
  // Events about earlier inspections of the batch, after this run's own posting, in arrival order.
  const changes: Record<string, unknown>[] = []
  for (const e of later) {
    if (e.type === UD_CHANGED)
      changes.push(await applyDecisionChange(ctx, e.envelope.data as DecisionChanged, e.id))
    else changes.push(await reversalAfterRun(ctx, e.envelope.data as ReceiptReversed))
  }
  const result = rounds.length === 1 ? rounds[0]! : { ...rounds[rounds.length - 1], rounds }
  return changes.length > 0 ? { ...result, earlierInspections: changes } : result
}

async function inspectOnce(
  ctx: Ctx,
  gr: GoodsReceipt,
  lot: LotRef,
  start: Receipt[],
  rounds: number,
): Promise<{ result: Record<string, unknown>; deferred: Receipt[]; later: StoredEvent[] }> {
  const quantity = total(
    start.map((r) => r.quantity),
    `receipts of lot ${lot.lot}`,
  )
  const { group, ...sampling } = samplingFor(ctx.config, lot.material)
  const plan = await ctx.step('sampling-plan', async () => ({
    ...samplingPlan({ lotSize: wholeUnits(quantity), ...sampling }),
    ...(group === undefined ? {} : { materialGroup: group }),
  }))
  // A receipt adopted at go-live whose QMS lot already existed takes that lot over (first round only).
  const adopted = rounds === 0 ? gr.adoption?.qmsInspectionLot : undefined
  // The lot names the plan revision it is inspected against: the QMS's current specification for
  // the lot's scope, read inside this step so the revision is journaled with the lot (a replay sees
  // the same one; a retry after a lost answer finds the lot made before, with the revision it names).
  const inspection = await ctx.step('create-inspection-lot', async ({ idempotencyKey }) => {
    if (adopted) return adoptInspectionLot(ctx, adopted)
    const spec = await currentSpecification(ctx.ports.qms, {
      plant: lot.plant,
      material: lot.material,
      supplier: gr.supplier,
    })
    return ctx.ports.qms.createInspectionLot({
      idempotencyKey,
      plant: lot.plant,
      material: lot.material,
      lot: lot.lot,
      quantity,
      sampleSize: plan.unitsToInspect,
      supplier: gr.supplier,
      origin: '01',
      ...(spec ? { specification: spec } : {}),
    })
  })
  const round: Round = {
    lot,
    qmsLot: inspection.record.id,
    receipts: [...start],
    deferred: [],
    later: [],
    plan,
    ...(inspection.record.specification ? { specification: inspection.record.specification } : {}),
  }
  // Decided in the QMS before go-live (its webhook went to the old integration): post that decision.
  const decidedBefore =
    adopted && inspection.record.status === 'usage_decision'
      ? await ctx.step('read-adopted-decision', () => ctx.ports.qms.getUsageDecision(round.qmsLot))
      : null
  const end = decidedBefore
    ? { decision: fromPolled(decidedBefore) }
    : ctx.config.decisionFrom === 'inbox'
      ? await awaitDecision(ctx, round)
      : { decision: await waitForDecisionV1(ctx, lot.lot, round.qmsLot) }
  const { deferred, later } = round
  if ('ended' in end) return { result: end.ended, deferred, later }
  return { result: await postDecision(ctx, gr, round, end.decision), deferred, later }
}

/** The QMS lot that existed at go-live, read back (it must still be there and not cancelled). */
async function adoptInspectionLot(ctx: Ctx, id: string) {
  const record = await ctx.ports.qms.getInspectionLot(id)
  if (!record || record.status === 'cancelled')
    throw new PermanentError(
      'QLK_VALIDATION',
      `adopted QMS inspection lot ${id} ${record ? 'was cancelled' : 'does not exist'}; adopt again or inspect by hand`,
    )
  return { record, created: false }
}

/** The decision, exactly as decided, on each receipt's ERP inspection lot; confirmed by the ERP. */
async function postDecision(ctx: Ctx, gr: GoodsReceipt, round: Round, decision: Decision) {
  const { lot, receipts, plan } = round
  const qmsLot = round.qmsLot
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
        reference: qmsLot,
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
    ...(round.specification ? { specification: round.specification } : {}),
    erpInspectionLot: receipts[0]?.erpInspectionLot,
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

import { PermanentError } from '../engine/errors.ts'
import { defineWorkflow, type WaitResult, type WorkflowContext } from '../engine/workflow.ts'
import { add, type Quantity } from '../model/quantity.ts'
import { nelsonRules, type Tolerance, westernElectricRules } from '../rules/index.ts'
import { evaluateMeasurements, type Finding, judgedBy } from './in-process/evaluate.ts'
import { blockLot, type DispositionLineIn, type LotBlock, planLines } from './in-process/lot-stock.ts'
import { operationSpecification, type PlanRevision } from './in-process/specification.ts'
import type { ErpPort } from './ports/erp.ts'
import type { MeasurementHistoryPort } from './ports/history.ts'
import type { NotifyPort } from './ports/notify.ts'
import type { QmsPort } from './ports/qms.ts'

export interface InProcessPorts {
  readonly erp: ErpPort
  readonly qms: QmsPort
  readonly history: MeasurementHistoryPort
  readonly notify?: NotifyPort
}

export interface CharacteristicSpec {
  readonly unit: string
  readonly tolerance: Tolerance
  /** phase-I baseline (frozen): SPC judges new points against it, never against the window itself */
  readonly baseline?: { readonly center: number; readonly sigma: number }
}

export type RunRuleId = `we-${1 | 2 | 3 | 4}` | `nelson-${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8}`

/** every run rule a plant can switch on, with the library's default parameters */
const ALL_RUN_RULES = [...westernElectricRules(), ...nelsonRules()]
export const RUN_RULE_IDS = ALL_RUN_RULES.map((r) => r.id as RunRuleId)

export interface InProcessSettings {
  readonly characteristics: Readonly<Record<string, CharacteristicSpec>>
  /** run rules switched on: Western Electric we-1 … we-4 and/or Nelson nelson-1 … nelson-8 */
  readonly runRules: readonly RunRuleId[]
  readonly window: number
  readonly dispositionDeadline: string
  /** overdue-disposition escalations before the run waits on without a deadline */
  readonly maxEscalations: number
  /**
   * Post the completion's yield to the ERP as a production order confirmation (`confirm-production`)
   * once the check passed, or after the hold it caused was released. Completions of an order on
   * hold wait in the held run's inbox, so their confirmations are posted only after the release.
   */
  readonly confirmToErp?: boolean
}

export const DEFAULT_IN_PROCESS_SETTINGS: InProcessSettings = {
  characteristics: {
    TORQUE: {
      unit: 'NM',
      tolerance: { kind: 'two-sided', lower: '11', upper: '13' },
      baseline: { center: 12.3, sigma: 0.25 },
    },
  },
  runRules: ['we-1', 'we-2', 'we-3', 'we-4'],
  window: 20,
  dispositionDeadline: '24h',
  maxEscalations: 3,
}

/**
 * The run's configuration snapshot: the plant's settings plus `lotStock: 'block'` from version 2
 * on and `limits: 'plan'` from version 3 on. A v1 run's snapshot has neither, so it replays on this
 * code with v1's step sequence (no lot block, no disposition postings: it blocked nothing to post
 * from; DESIGN §6 versions); a v2 run's has no `limits`, so it reads no plan revision and judges
 * by the configured tolerances, as it did.
 */
interface InProcessRunConfig extends InProcessSettings {
  readonly lotStock?: 'block'
  readonly limits?: 'plan'
}

interface Completion {
  operation: { productionOrder: string; number: string; workCenter?: string }
  plant: string
  measurements: Array<{ characteristic: string; value: string; unit: string }>
  produced: Array<{ lot: string; material?: string; quantity?: Quantity }>
  consumed?: Array<{ lot?: string; material?: string }>
  /** set by `qualink adopt`: the order was already on hold at go-live, waiting on this nonconformance */
  adoption?: { nonconformance?: string; lot?: string }
}

/**
 * In-process quality check (DESIGN §1): an MES completion's measurements are judged against spec
 * limits and SPC run rules (frozen phase-I baseline); out of tolerance or a rule violation puts
 * the production order on hold in the ERP, opens a nonconformance in the QMS, tells the
 * supervisor, blocks the produced lot's stock in the ERP, and keeps hold and block until the
 * nonconformance is dispositioned; then each disposition line is posted from blocked stock to its
 * bucket, the hold is released and the QMS learns the disposition was executed (issue 8 item 2).
 */
export function inProcessQualityCheck(
  settings: (plant: string) => InProcessSettings = () => DEFAULT_IN_PROCESS_SETTINGS,
) {
  return defineWorkflow<InProcessPorts, InProcessRunConfig>({
    name: 'in-process-quality-check',
    version: 3,
    // v1 and v2 runs (waiting for a disposition, or dead-lettered) replay on this code: see InProcessRunConfig.
    compatibleWith: [1, 2],
    triggers: ['mes.operation.completed.v1'],
    key: (e) => (e.data as Completion).operation.productionOrder,
    config: (plant) => ({ ...settings(plant), lotStock: 'block', limits: 'plan' }),
    async run(ctx, trigger) {
      const c = trigger.envelope.data as Completion
      const order = c.operation.productionOrder
      // Adopted at go-live: the hold and the nonconformance exist already; the run takes them over
      // and waits for the disposition (docs/workflows.md "Go-live adoption"). Nothing to evaluate.
      const adopted = c.adoption
      if (adopted && !adopted.nonconformance)
        throw new PermanentError('QLK_VALIDATION', `adopted order ${order} names no nonconformance`)
      // v3: the plan revision the operation is judged against, the QMS's current specification for
      // the produced (else consumed) material and the operation as route, read inside a step so
      // the revision is journaled with the run (docs/workflows.md "Plan revision").
      const material0 = c.produced[0]?.material ?? c.consumed?.find((x) => x.material)?.material
      const plan: PlanRevision | null =
        ctx.config.limits === 'plan' && !adopted && material0 && ctx.ports.qms.listSpecifications
          ? await ctx.step('read-specification', () =>
              operationSpecification(ctx.ports.qms, {
                plant: c.plant,
                material: material0,
                route: c.operation.number,
              }),
            )
          : null
      const revision = plan ? { id: plan.id, version: plan.version } : null
      const findings: Finding[] = adopted
        ? []
        : await ctx.step('evaluate', () =>
            evaluateMeasurements({
              measurements: c.measurements,
              configured: ctx.config.characteristics,
              plan,
              rules: ALL_RUN_RULES.filter((r) => (ctx.config.runRules as readonly string[]).includes(r.id)),
              history: ctx.ports.history,
              scope: {
                plant: c.plant,
                workCenter: c.operation.workCenter,
                beforeSeq: trigger.seq,
                window: ctx.config.window,
              },
              nameLimits: ctx.config.limits === 'plan',
            }),
          )
      // v3 names the revision and, per measured characteristic, whose limits judged it
      const judged =
        ctx.config.limits === 'plan' && !adopted
          ? {
              specification: revision,
              limits: judgedBy(c.measurements, ctx.config.characteristics, plan),
            }
          : {}
      if (findings.length === 0 && !adopted) {
        const confirmation = await confirmProduction(ctx, c)
        return {
          order,
          verdict: 'conforming',
          ...judged,
          ...(confirmation ? { confirmation: confirmation.document } : {}),
        }
      }

      const lot = c.produced[0]?.lot ?? adopted?.lot
      const material = c.produced[0]?.material
      const summary = adopted
        ? `on hold at go-live, waiting on nonconformance ${adopted.nonconformance}`
        : findings
            .map(
              (f) =>
                `${f.characteristic}: ${f.spec?.status === 'fail' ? `${f.spec.value} ${f.spec.unit} beyond ${f.spec.violated} limit` : ''}${f.rules.map((r) => ` ${r.ruleName}`).join(',')}`,
            )
            .join('; ') + (revision ? ` (plan ${revision.id} v${revision.version})` : '')
      await ctx.step('hold-order', ({ idempotencyKey }) =>
        ctx.ports.erp.setProductionOrderHold({
          idempotencyKey,
          plant: c.plant,
          order,
          onHold: true,
          reason: summary.slice(0, 120),
        }),
      )
      const nc = adopted?.nonconformance
        ? { record: { id: adopted.nonconformance } }
        : await ctx.step('open-nonconformance', ({ idempotencyKey }) =>
            ctx.ports.qms.openNonconformance({
              idempotencyKey,
              plant: c.plant,
              title: `Order ${order} op ${c.operation.number}: ${summary}`.slice(0, 200),
              severity: findings.some((f) => f.spec?.status === 'fail') ? 'major' : 'minor',
              ...(revision
                ? {
                    description: `Judged against inspection plan ${revision.id} version ${revision.version}.`,
                  }
                : {}),
              ...(lot ? { lot } : {}),
            }),
          )
      // the supervisor was told when the order went on hold, before go-live
      if (!adopted)
        await ctx.step('notify-supervisor', async ({ idempotencyKey }) => {
          await ctx.ports.notify?.send({
            idempotencyKey,
            title: `Production order ${order} on quality hold`,
            text: `${summary}. Nonconformance ${nc.record.id} opened; the hold stays until it is dispositioned.`,
            severity: 'warning',
          })
          return { notified: Boolean(ctx.ports.notify) }
        })
      // v2: the produced lot's stock is blocked so it cannot be moved or used while the NC is open.
      // Not for an adopted run (the completion names no material; the plant's stock is taken as it
      // stands at go-live) nor for a lot the MES reported without its material.
      let block: LotBlock | null = null
      if (ctx.config.lotStock === 'block' && lot && material) {
        const ref = { plant: c.plant, material, lot }
        block = await ctx.step(
          'block-lot-stock',
          ({ idempotencyKey }) =>
            blockLot(ctx.ports.erp, ref, idempotencyKey, `NC ${nc.record.id} order ${order}`),
          // keyed by the nonconformance: a later hold of the same order and lot blocks anew
          { key: `in-process/${nc.record.id}/${lot}/block` },
        )
      }
      // The hold stays until this nonconformance's disposition arrives, however late: each overdue
      // deadline escalates (up to maxEscalations times), then the run keeps waiting without one.
      let escalations = 0
      let disposition: WaitResult
      for (;;) {
        disposition = await ctx.waitFor('qms.nonconformance.dispositioned.v1', {
          subject: lot ?? order,
          timeout: escalations < ctx.config.maxEscalations ? ctx.config.dispositionDeadline : undefined,
        })
        if (!disposition.timedOut) {
          // The lot's disposition of another nonconformance (one a person opened, an earlier
          // one) is not this hold's: releasing on it would leave this NC open and undecided.
          const named = (disposition.event.envelope.data as { disposition: { nonconformance?: string } })
            .disposition.nonconformance
          if (named === undefined || named === nc.record.id) break
          continue
        }
        escalations++
        await ctx.step('escalate-overdue-disposition', async ({ idempotencyKey }) => {
          await ctx.ports.notify?.send({
            idempotencyKey,
            title: `Disposition overdue for ${nc.record.id} (${escalations} of ${ctx.config.maxEscalations})`,
            text: `Order ${order} remains on hold until the nonconformance is dispositioned.`,
            severity: 'critical',
          })
          return { escalated: escalations }
        })
      }
      const lines = (disposition.event.envelope.data as { disposition: { lines: DispositionLineIn[] } })
        .disposition.lines
      // Stock first, hold last: once the hold is gone the order and its lot look done to everyone
      // in the plant, so the lot's stock must already be where the disposition sends it. A run
      // killed between the two still shows the order on hold, and its replay posts what is left.
      const executed: Array<{ line: number; code: string; to: string; documents: readonly string[] }> = []
      if (block?.blocked && material && lot) {
        const ref = { plant: c.plant, material, lot }
        // every line is checked before the first is posted (a refused line posts nothing)
        for (const p of planLines(nc.record.id, lines, block.blocked)) {
          if (p.to === 'blocked') {
            executed.push({ line: p.line, code: p.code, to: p.to, documents: [] })
            continue
          }
          const r = await ctx.step(
            'execute-disposition-line',
            ({ idempotencyKey }) =>
              ctx.ports.erp.transferStock({
                idempotencyKey,
                lot: ref,
                from: 'blocked',
                to: p.to,
                quantity: p.quantity,
                reason: `NC ${nc.record.id} line ${p.line} ${p.code}`,
              }),
            { key: `in-process/${nc.record.id}/line/${p.line}` },
          )
          executed.push({ line: p.line, code: p.code, to: p.to, documents: r.documents })
        }
      }
      await ctx.step('release-hold', ({ idempotencyKey }) =>
        ctx.ports.erp.setProductionOrderHold({
          idempotencyKey,
          plant: c.plant,
          order,
          onHold: false,
          reason: `NC ${nc.record.id} dispositioned`,
        }),
      )
      await ctx.step('disposition-executed', () =>
        ctx.ports.qms.setNonconformanceStatus({ id: nc.record.id, status: 'disposition_executed' }),
      )
      // an adopted run reports no yield: the MES confirms the order's completions itself
      const confirmation = adopted ? null : await confirmProduction(ctx, c)
      return {
        order,
        verdict: 'dispositioned',
        ...(adopted ? { adopted: true } : {}),
        ...judged,
        ...(confirmation ? { confirmation: confirmation.document } : {}),
        nonconformance: nc.record.id,
        disposition: lines.map((l) => l.code),
        ...(block
          ? {
              lotBlock: {
                documents: block.documents,
                blocked: block.blocked,
                inQualityInspection: block.inQualityInspection,
              },
              executed,
            }
          : {}),
        findings,
      }
    },
  })
}

/** The completion's yield confirmed in the ERP (when the plant asks for it and the MES reported one). */
async function confirmProduction(ctx: WorkflowContext<InProcessPorts, InProcessRunConfig>, c: Completion) {
  if (!ctx.config.confirmToErp) return null
  const quantities = c.produced.map((p) => p.quantity).filter((q): q is Quantity => q !== undefined)
  if (quantities.length === 0) return null
  const yieldQuantity = quantities
    .slice(1)
    .reduce((a, q, i) => add(a, q, `produced/${i + 1}/quantity`), quantities[0]!)
  const erp = ctx.ports.erp
  if (!erp.confirmOperation)
    throw new PermanentError(
      'QLK_VALIDATION',
      `the ERP of plant ${c.plant} cannot take production confirmations`,
    )
  return ctx.step('confirm-production', ({ idempotencyKey }) =>
    erp.confirmOperation!({
      idempotencyKey,
      plant: c.plant,
      order: c.operation.productionOrder,
      operation: c.operation.number,
      yieldQuantity,
    }),
  )
}

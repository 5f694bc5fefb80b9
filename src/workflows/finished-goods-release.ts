import { RetryableError } from '../engine/errors.ts'
import { defineWorkflow, type WaitResult } from '../engine/workflow.ts'
import {
  type Checkpoint,
  evaluateRelease,
  type ReleaseCondition,
  type ReleaseEvaluation,
} from '../rules/index.ts'
import type { ErpPort } from './ports/erp.ts'
import type { NotifyPort } from './ports/notify.ts'
import type { TraceabilityPort } from './ports/traceability.ts'

export interface ReleasePorts {
  readonly erp: ErpPort
  readonly notify?: NotifyPort
  /** the lot's material, to find its product family (store-backed in every Qualink) */
  readonly trace?: TraceabilityPort
}

export interface FamilyRelease {
  readonly condition: ReleaseCondition
  /** absent: the plant's `deadline` */
  readonly deadline?: string
}

export interface ReleaseSettings {
  /** required checkpoints (lab, packaging, qms-approval), as an all/any condition */
  readonly condition: ReleaseCondition
  /** how long after the first checkpoint the others may take before escalating */
  readonly deadline: string
  /** per product family its own condition (and deadline); a lot of no listed family uses `condition` */
  readonly productFamilies?: Readonly<Record<string, FamilyRelease>>
  /** material (of the finished lot, as genealogy knows it) → product family */
  readonly familyOf?: Readonly<Record<string, string>>
  /**
   * escalations of a lot whose required checkpoints are still missing, one per `deadline` period,
   * before the run ends blocked (default 3); a checkpoint arriving before then still releases
   */
  readonly maxEscalations?: number
}

const DEFAULT_MAX_ESCALATIONS = 3

/** qualink.yaml's checkpoint names (`release.productFamilies.<f>.checkpoints`) → this workflow's. */
export const CHECKPOINT_IDS = {
  'lims-results': 'lab',
  'packaging-verification': 'packaging',
  'qms-approval': 'qms-approval',
} as const

/** A product family's checkpoints from qualink.yaml as the condition that all must pass. */
export function familyCondition(checkpoints: readonly (keyof typeof CHECKPOINT_IDS)[]): ReleaseCondition {
  return { all: checkpoints.map((c) => ({ checkpoint: CHECKPOINT_IDS[c] })) }
}

/** The checkpoint ids a condition names (anywhere in its all/any tree). */
function named(c: ReleaseCondition): Set<string> {
  if ('checkpoint' in c) return new Set([c.checkpoint])
  const parts = 'all' in c ? c.all : c.any
  return new Set(parts.flatMap((p) => [...named(p)]))
}

export const DEFAULT_RELEASE_SETTINGS: ReleaseSettings = {
  condition: { all: [{ checkpoint: 'lab' }, { checkpoint: 'packaging' }, { checkpoint: 'qms-approval' }] },
  deadline: '8h',
}

interface LimsResult {
  lot: string
  tests: Array<{ result: string }>
}
interface Packaging {
  lot: string
  delivery?: string
  verified: boolean
}

/** tries of the product-family lookup while the lot's material is unknown */
const MATERIAL_ATTEMPTS = 3

const MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const durationMs = (d: string) => {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d)
  return m ? Number(m[1]) * MS[m[2] as keyof typeof MS] : 0
}

/**
 * Finished goods release (DESIGN §1): LIMS results and MES packaging verification arrive in any
 * order and with duplicates (the first starts the run, the rest reach its inbox); the QMS
 * approval is awaited (one that came first is found). The ERP delivery block is removed only when
 * the plant's release condition is met with every required checkpoint passed. A failing
 * checkpoint escalates and keeps the block; one missing past the deadline escalates, keeps the
 * block and is waited for another deadline period (up to `maxEscalations`), so a late checkpoint
 * still releases, once.
 */
export function finishedGoodsRelease(
  settings: (plant: string) => ReleaseSettings = () => DEFAULT_RELEASE_SETTINGS,
) {
  return defineWorkflow<ReleasePorts, ReleaseSettings>({
    name: 'finished-goods-release',
    version: 1,
    triggers: ['lims.result.reported.v1', 'mes.packaging.verified.v1'],
    key: (e) => (e.data as { lot: string }).lot,
    config: settings,
    async run(ctx, trigger) {
      const start = (await ctx.now()).getTime()
      // Runs started before product families existed have none in their snapshot: no extra step.
      const families = ctx.config.productFamilies ?? {}
      const family =
        Object.keys(families).length === 0
          ? null
          : await ctx.step('product-family', async ({ attempt }) => {
              const material = (await ctx.ports.trace?.materialOf?.(ctx.key)) ?? null
              // The MES production event may not be projected yet (PostgreSQL projects below the
              // visibility watermark): ask again before settling for the plant's default condition.
              if (material === null && attempt < MATERIAL_ATTEMPTS)
                throw new RetryableError(
                  'QLK_NOT_FOUND',
                  `lot ${ctx.key}: material not yet known to genealogy`,
                )
              const name = material === null ? undefined : ctx.config.familyOf?.[material]
              return { material, family: name !== undefined && families[name] ? name : null }
            })
      const own = family?.family ? families[family.family] : undefined
      const condition = own?.condition ?? ctx.config.condition
      const required = named(condition)
      const period = durationMs(own?.deadline ?? ctx.config.deadline)
      let deadline = start + period
      const status: Record<string, Checkpoint['status']> = {
        lab: 'pending',
        packaging: 'pending',
        'qms-approval': 'pending',
      }
      let delivery: string | undefined
      const apply = (type: string, data: unknown) => {
        if (type === 'lims.result.reported.v1') {
          const r = data as LimsResult
          status.lab = r.tests.every((t) => t.result === 'pass') ? 'passed' : 'failed'
        } else if (type === 'mes.packaging.verified.v1') {
          const p = data as Packaging
          status.packaging = p.verified ? 'passed' : 'failed'
          delivery = p.delivery ?? delivery
        }
      }
      apply(trigger.type, trigger.envelope.data)
      const escalate = (evaluation: ReleaseEvaluation, overdue?: string) =>
        ctx.step('escalate', async ({ idempotencyKey }) => {
          await ctx.ports.notify?.send({
            idempotencyKey,
            title: `Lot ${ctx.key} not released${overdue ? `: ${overdue}` : ''}`,
            text: evaluation.reasons.map((r) => `${r.checkpoint}: ${r.message}`).join('; '),
            severity: overdue ? 'critical' : 'warning',
          })
          return { notified: Boolean(ctx.ports.notify), ...(overdue ? { overdue } : {}) }
        })
      const remaining = async () => Math.max(1, deadline - (await ctx.now()).getTime())
      const waiting = (id: 'lab' | 'packaging') => required.has(id) && status[id] === 'pending'
      const passed = (id: string) => !required.has(id) || status[id] === 'passed'
      const maxEscalations = ctx.config.maxEscalations ?? DEFAULT_MAX_ESCALATIONS
      // Each deadline period a required checkpoint is still missing escalates and keeps the block;
      // a checkpoint arriving late still releases (once). After the last escalation the run ends
      // blocked. A failed checkpoint ends it at once (a retest is a person's decision).
      for (let escalations = 0; ; ) {
        while (waiting('lab') || waiting('packaging')) {
          const next: WaitResult = await ctx.receive({ timeout: await remaining() })
          if (next.timedOut) break
          apply(next.event.type, next.event.envelope.data)
        }
        if (
          required.has('qms-approval') &&
          status['qms-approval'] === 'pending' &&
          passed('lab') &&
          passed('packaging')
        ) {
          const approval = await ctx.waitFor('qms.usage_decision.made.v1', {
            subject: ctx.key,
            timeout: await remaining(),
          })
          if (!approval.timedOut) {
            status['qms-approval'] =
              (approval.event.envelope.data as { valuation: string }).valuation === 'accepted'
                ? 'passed'
                : 'failed'
          }
        }
        const now = await ctx.now()
        const evaluation = await ctx.step('evaluate-release', async () =>
          evaluateRelease(
            condition,
            Object.entries(status).map(([id, s]) => ({
              id,
              status: s,
              deadline: new Date(deadline).toISOString(),
            })),
            now.toISOString(),
          ),
        )
        if (evaluation.decision === 'released' && delivery) {
          await ctx.step('remove-delivery-block', ({ idempotencyKey }) =>
            ctx.ports.erp.setDeliveryBlock({
              idempotencyKey,
              plant: ctx.plant,
              delivery: delivery!,
              blocked: false,
              reason: `lot ${ctx.key} released`,
            }),
          )
          // A checkpoint sent again while the approval was awaited waits in the inbox and would
          // start a run of its own for a lot already released (that run escalates a false alarm
          // at its deadline): taken here, with nothing left to decide.
          for (;;) if ((await ctx.receive({ timeout: 1 })).timedOut) break
          return {
            lot: ctx.key,
            decision: 'released',
            delivery,
            checkpoints: status,
            ...(escalations > 0 ? { escalations } : {}),
            ...(family ? { productFamily: family.family } : {}),
          }
        }
        if (evaluation.decision !== 'escalate' || escalations + 1 >= maxEscalations) {
          await escalate(evaluation)
          return {
            lot: ctx.key,
            decision: evaluation.decision === 'released' ? 'released-no-delivery' : 'blocked',
            delivery: delivery ?? null,
            checkpoints: status,
            reasons: evaluation.reasons,
            ...(family ? { productFamily: family.family } : {}),
          }
        }
        escalations++
        await escalate(evaluation, `overdue (${escalations} of ${maxEscalations}), the block stays`)
        deadline += period
      }
    },
  })
}

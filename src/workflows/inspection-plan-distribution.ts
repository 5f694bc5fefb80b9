import { PermanentError } from '../engine/errors.ts'
import { defineWorkflow } from '../engine/workflow.ts'
import type { InspectionSpecification } from '../model/inspection.ts'
import type { MesPort } from './ports/mes.ts'
import type { QmsPort } from './ports/qms.ts'

export interface PlanDistributionPorts {
  readonly qms: QmsPort
  /** when the plant has one: the same revision goes to the MES after the QMS took it */
  readonly mes?: MesPort
}

const PLAN = 'md.inspection_plan.upserted.v1'

/** The plan's scope: material, and the route and supplier it is limited to (`*`: any). */
export function planScope(
  p: Pick<InspectionSpecification, 'plant' | 'material' | 'route' | 'supplier'>,
): string {
  return [p.plant, p.material, p.route ?? '*', p.supplier ?? '*'].join('/')
}

/**
 * Inspection plans from the ERP (or PLM) to the QMS (issue 8 item 5c, QMS side): each
 * `md.inspection_plan.upserted.v1` makes its version the QMS's current specification for the
 * plan's scope (material, optionally one route and one supplier), so the QMS inspects against the
 * revision the ERP holds. One run at a time per plan (key: plant and plan id), in arrival order; the
 * QMS keeps the newest version, so a plan delivered late (an older version after a newer one) is
 * reported `stale` and changes nothing. The same revision then goes to the MES when the plant has a
 * MES port (qualink.yaml: the plant's `mesPublisher`, a mes/mqtt connector) (`publish-to-mes`: a retained MQTT message per scope), never a stale one.
 */
export function inspectionPlanDistribution() {
  return defineWorkflow<PlanDistributionPorts>({
    name: 'inspection-plan-distribution',
    version: 1,
    triggers: [PLAN],
    key: (e) => {
      const p = (e.data as { inspectionPlan: InspectionSpecification }).inspectionPlan
      return `${p.plant}/${p.id}`
    },
    async run(ctx, trigger) {
      const spec = (trigger.envelope.data as { inspectionPlan: InspectionSpecification }).inspectionPlan
      const qms = ctx.ports.qms
      if (!qms.upsertSpecification)
        throw new PermanentError(
          'QLK_VALIDATION',
          `the QMS of plant ${spec.plant} cannot take specifications`,
        )
      const r = await ctx.step('publish-to-qms', () => qms.upsertSpecification!({ spec }))
      const stale = !r.applied && r.current > spec.version
      // Only a revision the QMS holds as current reaches the MES: a late older one never
      // replaces the newer retained specification there.
      // which plants have a MES publisher is configuration, fixed for the process's life
      const toMes = ctx.ports.mes && (ctx.ports.mes.serves?.(spec.plant) ?? true)
      const mes =
        toMes && !stale
          ? await ctx.step('publish-to-mes', ({ idempotencyKey }) =>
              ctx.ports.mes!.publishSpecification({ idempotencyKey, spec }),
            )
          : null
      return {
        plan: spec.id,
        scope: planScope(spec),
        version: spec.version,
        qms: r.applied ? 'applied' : stale ? 'stale' : 'unchanged',
        qmsVersion: r.current,
        ...(mes ? { mesTopic: mes.topic } : {}),
      }
    },
  })
}

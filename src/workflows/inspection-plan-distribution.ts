import { PermanentError } from '../engine/errors.ts'
import { defineWorkflow } from '../engine/workflow.ts'
import type { InspectionSpecification } from '../model/inspection.ts'
import type { QmsPort } from './ports/qms.ts'

export interface PlanDistributionPorts {
  readonly qms: QmsPort
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
 * reported `stale` and changes nothing. Not done: the MES side (no MES egress port yet).
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
      return {
        plan: spec.id,
        scope: planScope(spec),
        version: spec.version,
        qms: r.applied ? 'applied' : stale ? 'stale' : 'unchanged',
        qmsVersion: r.current,
      }
    },
  })
}

import type { Tolerance } from '../../rules/index.ts'
import type { QmsPort, SpecificationLimits } from '../ports/qms.ts'
import { mostSpecific } from '../supplier-receipt/specification.ts'

/** The plan revision an operation's measurements are judged against, and its limits. */
export interface PlanRevision {
  readonly id: string
  readonly version: number
  readonly characteristics: readonly SpecificationLimits[]
}

/**
 * The QMS's current specification for what an operation produced (plant, material, the operation
 * as route): the most specific fits (material and route before the material alone; a plan limited
 * to a supplier or another route never fits; `mostSpecific`, as for a receipt). Null when the QMS
 * holds none or cannot list them. Called inside a step, so the revision is journaled with the run.
 */
export async function operationSpecification(
  qms: QmsPort,
  scope: { readonly plant: string; readonly material: string; readonly route: string },
): Promise<PlanRevision | null> {
  if (!qms.listSpecifications) return null
  const specs = await qms.listSpecifications({ plant: scope.plant, material: scope.material })
  // a supplier's plan is a receipt's, never an operation's: mostSpecific with no supplier drops it
  const pick = mostSpecific(specs, { route: scope.route })
  return pick ? { id: pick.id, version: pick.version, characteristics: pick.characteristics ?? [] } : null
}

/**
 * A plan characteristic's limits as a tolerance: lower and upper → two-sided, one of them →
 * one-sided. Null when it has neither (a target alone bounds nothing): the configured tolerance
 * then judges.
 */
export function planTolerance(c: SpecificationLimits): Tolerance | null {
  if (c.lowerLimit !== undefined && c.upperLimit !== undefined)
    return { kind: 'two-sided', lower: c.lowerLimit, upper: c.upperLimit }
  if (c.upperLimit !== undefined) return { kind: 'upper-only', upper: c.upperLimit }
  if (c.lowerLimit !== undefined) return { kind: 'lower-only', lower: c.lowerLimit }
  return null
}

import {
  type CharacteristicResult,
  evaluateCharacteristic,
  evaluateRunRules,
  type RunRule,
  type Tolerance,
  type Violation,
} from '../../rules/index.ts'
import type { MeasurementHistoryPort } from '../ports/history.ts'
import { type PlanRevision, planTolerance } from './specification.ts'

export interface Finding {
  characteristic: string
  spec?: CharacteristicResult
  rules: Array<Pick<Violation, 'ruleId' | 'ruleName' | 'points'>>
  /** v3: whose limits judged it, the plan revision's or the plant's configured tolerance */
  limits?: 'plan' | 'config'
}

export interface ConfiguredCharacteristic {
  readonly unit: string
  readonly tolerance: Tolerance
  readonly baseline?: { readonly center: number; readonly sigma: number }
}

export interface Measurement {
  readonly characteristic: string
  readonly value: string
  readonly unit: string
}

/**
 * The limits a measured characteristic is judged against: the plan revision's when it has the
 * characteristic with a limit (its unit, else the configured one), else the configured tolerance;
 * null when neither knows it (not judged). Pure: the plan comes from the journal, the
 * configuration from the run's snapshot, so a replay judges the same way.
 */
export function limitsFor(
  characteristic: string,
  configured: ConfiguredCharacteristic | undefined,
  plan: PlanRevision | null,
): { unit: string; tolerance: Tolerance; source: 'plan' | 'config' } | null {
  const p = plan?.characteristics.find((c) => c.id === characteristic)
  const tolerance = p ? planTolerance(p) : null
  const unit = p?.unit ?? configured?.unit
  if (tolerance && unit) return { unit, tolerance, source: 'plan' }
  return configured ? { unit: configured.unit, tolerance: configured.tolerance, source: 'config' } : null
}

/** Which limits judged each measured characteristic (for the run's result). */
export function judgedBy(
  measurements: readonly Measurement[],
  configured: Readonly<Record<string, ConfiguredCharacteristic>>,
  plan: PlanRevision | null,
): Record<string, 'plan' | 'config'> {
  const out: Record<string, 'plan' | 'config'> = {}
  for (const m of measurements) {
    const l = limitsFor(m.characteristic, configured[m.characteristic], plan)
    if (l) out[m.characteristic] = l.source
  }
  return out
}

/**
 * Judges the completion's measurements: each against its limits (`limitsFor`; `plan` null judges
 * by configuration alone, as v1 and v2 did) and, where the plant configured a phase-I baseline,
 * the SPC run rules switched on (only what this point completes).
 */
export async function evaluateMeasurements(input: {
  readonly measurements: readonly Measurement[]
  readonly configured: Readonly<Record<string, ConfiguredCharacteristic>>
  readonly plan: PlanRevision | null
  readonly rules: readonly RunRule[]
  readonly history: MeasurementHistoryPort
  readonly scope: { plant: string; workCenter?: string; beforeSeq: number; window: number }
  /** v3 names the source of the limits in each finding */
  readonly nameLimits: boolean
}): Promise<Finding[]> {
  const out: Finding[] = []
  for (const m of input.measurements) {
    const spec = input.configured[m.characteristic]
    const limits = limitsFor(m.characteristic, spec, input.plan)
    if (!limits) continue
    const result = evaluateCharacteristic(
      { id: m.characteristic, unit: limits.unit, tolerance: limits.tolerance },
      { value: m.value, unit: m.unit },
    )
    let rules: Finding['rules'] = []
    if (spec?.baseline) {
      const past = await input.history.recent({
        plant: input.scope.plant,
        characteristic: m.characteristic,
        workCenter: input.scope.workCenter,
        beforeSeq: input.scope.beforeSeq,
        limit: input.scope.window - 1,
      })
      const values = [...past, Number(m.value)]
      rules = evaluateRunRules({ values, ...spec.baseline }, input.rules)
        .filter((v) => v.points.includes(values.length - 1))
        .map((v) => ({ ruleId: v.ruleId, ruleName: v.ruleName, points: v.points }))
    }
    if (result.status === 'fail' || rules.length > 0)
      out.push({
        characteristic: m.characteristic,
        spec: result,
        rules,
        ...(input.nameLimits ? { limits: limits.source } : {}),
      })
  }
  return out
}

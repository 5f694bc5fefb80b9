/**
 * Western Electric and Nelson run rules over a series judged against a frozen centre line and sigma.
 * Each rule is a parameterised pattern; vendors vary N and M (STATISTICA uses 9 points for WE rule 4,
 * SAP MII parameterises {LIMIT} of {LENGTH}: quality-domain.md §4.2), so every number is configurable.
 *
 * Conventions (stated because the sources do not settle them):
 * - "beyond kσ" is strict (|z| > k); "within kσ" is strict (|z| < k); a point exactly on the centre line
 *   belongs to neither side and breaks a same-side run; equal neighbours break trends and alternation.
 * - A violation is reported at every point that completes the pattern (as Minitab marks points), with the
 *   indices of the points that make it up. For M-of-N rules the completing point must itself be one of
 *   the M, so a window is reported once, at the point that first completes it.
 * Each pass is O(series length); the benchmark compares this with a per-point re-scan.
 */
import { invalid, requireFinite, requireInteger, requirePositive } from '../validation.ts'

export type RunPattern =
  | { readonly kind: 'beyond'; readonly k: number }
  | { readonly kind: 'm-of-n-beyond'; readonly m: number; readonly n: number; readonly k: number }
  | { readonly kind: 'run-same-side'; readonly n: number }
  | { readonly kind: 'trend'; readonly n: number }
  | { readonly kind: 'alternating'; readonly n: number }
  | { readonly kind: 'run-within'; readonly n: number; readonly k: number }
  | {
      readonly kind: 'run-outside'
      readonly n: number
      readonly k: number
      readonly requireBothSides: boolean
    }

export interface RunRule {
  readonly id: string
  readonly name: string
  readonly enabled: boolean
  readonly pattern: RunPattern
}

export interface RuleOverride {
  readonly enabled?: boolean
  readonly n?: number
  readonly m?: number
  readonly k?: number
  readonly requireBothSides?: boolean
}

export interface Violation {
  readonly ruleId: string
  readonly ruleName: string
  /** index of the point that completes the pattern */
  readonly at: number
  /** indices of the points involved, ascending */
  readonly points: readonly number[]
}

export interface JudgedSeries {
  readonly values: readonly number[]
  /** frozen centre line: one value, or one per point (e.g. p chart with varying n uses one centre) */
  readonly center: number | readonly number[]
  /** sigma of the plotted statistic: one value, or one per point (p and u charts with varying n) */
  readonly sigma: number | readonly number[]
}

const NELSON_DEFAULTS: readonly RunRule[] = [
  { id: 'nelson-1', name: 'Nelson 1: one point beyond 3σ', enabled: true, pattern: { kind: 'beyond', k: 3 } },
  {
    id: 'nelson-2',
    name: 'Nelson 2: 9 in a row on one side',
    enabled: true,
    pattern: { kind: 'run-same-side', n: 9 },
  },
  {
    id: 'nelson-3',
    name: 'Nelson 3: 6 in a row steadily increasing or decreasing',
    enabled: true,
    pattern: { kind: 'trend', n: 6 },
  },
  {
    id: 'nelson-4',
    name: 'Nelson 4: 14 in a row alternating up and down',
    enabled: true,
    pattern: { kind: 'alternating', n: 14 },
  },
  {
    id: 'nelson-5',
    name: 'Nelson 5: 2 of 3 beyond 2σ, same side',
    enabled: true,
    pattern: { kind: 'm-of-n-beyond', m: 2, n: 3, k: 2 },
  },
  {
    id: 'nelson-6',
    name: 'Nelson 6: 4 of 5 beyond 1σ, same side',
    enabled: true,
    pattern: { kind: 'm-of-n-beyond', m: 4, n: 5, k: 1 },
  },
  {
    id: 'nelson-7',
    name: 'Nelson 7: 15 in a row within 1σ',
    enabled: true,
    pattern: { kind: 'run-within', n: 15, k: 1 },
  },
  {
    id: 'nelson-8',
    name: 'Nelson 8: 8 in a row beyond 1σ, both sides',
    enabled: true,
    pattern: { kind: 'run-outside', n: 8, k: 1, requireBothSides: true },
  },
]

const WESTERN_ELECTRIC_DEFAULTS: readonly RunRule[] = [
  { id: 'we-1', name: 'WE 1: one point beyond 3σ', enabled: true, pattern: { kind: 'beyond', k: 3 } },
  {
    id: 'we-2',
    name: 'WE 2: 2 of 3 beyond 2σ, same side',
    enabled: true,
    pattern: { kind: 'm-of-n-beyond', m: 2, n: 3, k: 2 },
  },
  {
    id: 'we-3',
    name: 'WE 3: 4 of 5 beyond 1σ, same side',
    enabled: true,
    pattern: { kind: 'm-of-n-beyond', m: 4, n: 5, k: 1 },
  },
  {
    id: 'we-4',
    name: 'WE 4: 8 in a row on one side',
    enabled: true,
    pattern: { kind: 'run-same-side', n: 8 },
  },
]

export type NelsonRuleId =
  | 'nelson-1'
  | 'nelson-2'
  | 'nelson-3'
  | 'nelson-4'
  | 'nelson-5'
  | 'nelson-6'
  | 'nelson-7'
  | 'nelson-8'
export type WesternElectricRuleId = 'we-1' | 'we-2' | 'we-3' | 'we-4'

/** The 8 Nelson rules (Nelson 1984, as listed in quality-domain.md §4.2), each switchable and re-parameterisable. */
export function nelsonRules(overrides: Partial<Record<NelsonRuleId, RuleOverride>> = {}): RunRule[] {
  return applyOverrides(NELSON_DEFAULTS, overrides)
}

/** The 4 Western Electric zone rules (Western Electric Statistical Quality Control Handbook, 1956). */
export function westernElectricRules(
  overrides: Partial<Record<WesternElectricRuleId, RuleOverride>> = {},
): RunRule[] {
  return applyOverrides(WESTERN_ELECTRIC_DEFAULTS, overrides)
}

function applyOverrides(
  defaults: readonly RunRule[],
  overrides: Readonly<Record<string, RuleOverride | undefined>>,
): RunRule[] {
  for (const id of Object.keys(overrides)) {
    if (!defaults.some((r) => r.id === id)) invalid(`/rules/${id}`, 'is not a rule of this set')
  }
  return defaults.map((rule) => {
    const o = overrides[rule.id]
    if (!o) return rule
    const { enabled, ...params } = o
    const pattern = { ...rule.pattern, ...params } as RunPattern
    validatePattern(`/rules/${rule.id}`, pattern)
    return { ...rule, enabled: enabled ?? rule.enabled, pattern }
  })
}

export function validatePattern(path: string, p: RunPattern): void {
  if ('n' in p) requireInteger(`${path}/n`, p.n, p.kind === 'trend' || p.kind === 'alternating' ? 3 : 1)
  if ('k' in p) requirePositive(`${path}/k`, p.k)
  if (p.kind === 'm-of-n-beyond') {
    requireInteger(`${path}/m`, p.m, 1)
    if (p.m > p.n) invalid(`${path}/m`, 'must not exceed n')
  }
}

function at(v: number | readonly number[], i: number): number {
  return typeof v === 'number' ? v : v[i]!
}

/** Standardised distances from the centre line, validated. */
export function zScores(series: JudgedSeries): Float64Array {
  const { values, center, sigma } = series
  for (const [name, v] of [
    ['center', center],
    ['sigma', sigma],
  ] as const) {
    if (typeof v !== 'number' && v.length !== values.length)
      invalid(`/${name}`, 'must have one entry per value')
  }
  const z = new Float64Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const s = at(sigma, i)
    if (!(s > 0) || !Number.isFinite(s))
      invalid(typeof sigma === 'number' ? '/sigma' : `/sigma/${i}`, 'must be > 0')
    z[i] = (requireFinite(`/values/${i}`, values[i]!) - requireFinite('/center', at(center, i))) / s
  }
  return z
}

/** Evaluates every enabled rule; violations are sorted by completing point, then by rule order. */
export function evaluateRunRules(series: JudgedSeries, rules: readonly RunRule[]): Violation[] {
  const z = zScores(series)
  const out: Violation[] = []
  for (const rule of rules) {
    if (!rule.enabled) continue
    validatePattern(`/rules/${rule.id}`, rule.pattern)
    detect(rule, z, series.values, out)
  }
  const order = new Map(rules.map((r, i) => [r.id, i]))
  return out.sort((a, b) => a.at - b.at || order.get(a.ruleId)! - order.get(b.ruleId)!)
}

function range(from: number, to: number): number[] {
  const r: number[] = []
  for (let i = from; i <= to; i++) r.push(i)
  return r
}

function detect(rule: RunRule, z: Float64Array, values: readonly number[], out: Violation[]): void {
  const p = rule.pattern
  const hit = (at: number, points: number[]) => out.push({ ruleId: rule.id, ruleName: rule.name, at, points })
  const len = z.length
  switch (p.kind) {
    case 'beyond':
      for (let i = 0; i < len; i++) if (Math.abs(z[i]!) > p.k) hit(i, [i])
      return
    case 'm-of-n-beyond': {
      let above = 0
      let below = 0
      for (let i = 0; i < len; i++) {
        if (z[i]! > p.k) above++
        else if (z[i]! < -p.k) below++
        const drop = i - p.n
        if (drop >= 0) {
          if (z[drop]! > p.k) above--
          else if (z[drop]! < -p.k) below--
        }
        const side = z[i]! > p.k && above >= p.m ? 1 : z[i]! < -p.k && below >= p.m ? -1 : 0
        if (side !== 0) {
          const from = Math.max(0, i - p.n + 1)
          hit(
            i,
            range(from, i).filter((j) => side * z[j]! > p.k),
          )
        }
      }
      return
    }
    case 'run-same-side': {
      let run = 0
      let side = 0
      for (let i = 0; i < len; i++) {
        const s = Math.sign(z[i]!)
        run = s !== 0 && s === side ? run + 1 : s !== 0 ? 1 : 0
        side = s
        if (run >= p.n) hit(i, range(i - p.n + 1, i))
      }
      return
    }
    case 'trend': {
      let run = 1
      let dir = 0
      for (let i = 1; i < len; i++) {
        const d = Math.sign(values[i]! - values[i - 1]!)
        run = d !== 0 && d === dir ? run + 1 : d !== 0 ? 2 : 1
        dir = d
        if (run >= p.n) hit(i, range(i - p.n + 1, i))
      }
      return
    }
    case 'alternating': {
      let run = 1
      let prev = 0
      for (let i = 1; i < len; i++) {
        const d = Math.sign(values[i]! - values[i - 1]!)
        run = d !== 0 && d === -prev ? run + 1 : d !== 0 ? 2 : 1
        prev = d
        if (run >= p.n) hit(i, range(i - p.n + 1, i))
      }
      return
    }
    case 'run-within': {
      let run = 0
      for (let i = 0; i < len; i++) {
        run = Math.abs(z[i]!) < p.k ? run + 1 : 0
        if (run >= p.n) hit(i, range(i - p.n + 1, i))
      }
      return
    }
    case 'run-outside': {
      let run = 0
      let lastAbove = -1
      let lastBelow = -1
      for (let i = 0; i < len; i++) {
        if (z[i]! > p.k) lastAbove = i
        else if (z[i]! < -p.k) lastBelow = i
        run = Math.abs(z[i]!) > p.k ? run + 1 : 0
        const from = i - p.n + 1
        if (run >= p.n && (!p.requireBothSides || (lastAbove >= from && lastBelow >= from)))
          hit(i, range(from, i))
      }
      return
    }
  }
}

/**
 * Shewhart charts: Xbar-R, Xbar-S, I-MR, p, np, c, u. Limits come from a phase-I baseline that is built
 * once and frozen; judging a new window only reads the baseline, never recomputes it from the window
 * (quality-domain.md §4.2). Formulas: NIST/SEMATECH e-Handbook §6.3.2 (variables) and §6.3.3 (attributes).
 */
import { invalid, requireFinite, requireInteger, requirePositive } from '../validation.ts'
import { chartConstants, d2 } from './constants.ts'
import { evaluateRunRules, type RunRule, type Violation } from './run-rules.ts'

export interface Limits {
  readonly center: number
  readonly ucl: number
  readonly lcl: number
  /** sigma of the plotted statistic, used for the run-rule zones */
  readonly sigma: number
}

export type VariablesBaseline =
  | {
      readonly kind: 'xbar-r'
      readonly subgroupSize: number
      readonly subgroups: number
      readonly sigmaWithin: number
      readonly location: Limits
      readonly dispersion: Limits
    }
  | {
      readonly kind: 'xbar-s'
      readonly subgroupSize: number
      readonly subgroups: number
      readonly sigmaWithin: number
      readonly location: Limits
      readonly dispersion: Limits
    }
  | {
      readonly kind: 'i-mr'
      readonly subgroupSize: 1
      readonly subgroups: number
      readonly sigmaWithin: number
      readonly location: Limits
      readonly dispersion: Limits
    }

export type AttributesBaseline =
  | { readonly kind: 'p'; readonly pBar: number }
  | { readonly kind: 'np'; readonly pBar: number; readonly sampleSize: number }
  | { readonly kind: 'c'; readonly cBar: number }
  | { readonly kind: 'u'; readonly uBar: number }

export type Baseline = VariablesBaseline | AttributesBaseline

export interface ChartPoint {
  readonly index: number
  readonly value: number
  readonly center: number
  readonly ucl: number
  readonly lcl: number
  /** range, standard deviation or moving range of the point; absent on attribute charts */
  readonly dispersion?: { readonly value: number; readonly ucl: number; readonly lcl: number }
}

export interface ChartJudgement {
  readonly points: readonly ChartPoint[]
  /** run-rule violations on the plotted statistic, plus `dispersion-limit` violations on R, S or MR */
  readonly violations: readonly Violation[]
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

export function sampleStdDev(xs: readonly number[]): number {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1))
}

function checkSubgroups(path: string, subgroups: readonly (readonly number[])[], size?: number): number {
  if (!Array.isArray(subgroups as unknown) || subgroups.length === 0)
    invalid(path, 'must contain at least one subgroup')
  const n = size ?? subgroups[0]!.length
  subgroups.forEach((g, i) => {
    if (g.length !== n) invalid(`${path}/${i}`, `must have ${n} values (equal subgroup sizes)`)
    g.forEach((x, j) => {
      requireFinite(`${path}/${i}/${j}`, x)
    })
  })
  return n
}

function freeze<T extends object>(b: T): T {
  for (const v of Object.values(b)) if (v && typeof v === 'object') Object.freeze(v)
  return Object.freeze(b)
}

/** Phase I Xbar-R: X̿ ± A2·R̄, R chart D3·R̄ … D4·R̄, σ_within = R̄/d2. */
export function xbarRBaseline(subgroups: readonly (readonly number[])[]): VariablesBaseline {
  const n = checkSubgroups('/subgroups', subgroups)
  requireInteger('/subgroups/0/length', n, 2)
  const k = chartConstants(n)
  const grand = mean(subgroups.map(mean))
  const rBar = mean(subgroups.map((g) => Math.max(...g) - Math.min(...g)))
  const sigma = rBar / k.d2
  return freeze({
    kind: 'xbar-r',
    subgroupSize: n,
    subgroups: subgroups.length,
    sigmaWithin: sigma,
    location: {
      center: grand,
      ucl: grand + k.A2 * rBar,
      lcl: grand - k.A2 * rBar,
      sigma: sigma / Math.sqrt(n),
    },
    dispersion: { center: rBar, ucl: k.D4 * rBar, lcl: k.D3 * rBar, sigma: k.d3 * sigma },
  })
}

/** Phase I Xbar-S: X̿ ± A3·s̄, S chart B3·s̄ … B4·s̄, σ_within = s̄/c4. */
export function xbarSBaseline(subgroups: readonly (readonly number[])[]): VariablesBaseline {
  const n = checkSubgroups('/subgroups', subgroups)
  requireInteger('/subgroups/0/length', n, 2)
  const k = chartConstants(n)
  const grand = mean(subgroups.map(mean))
  const sBar = mean(subgroups.map(sampleStdDev))
  const sigma = sBar / k.c4
  return freeze({
    kind: 'xbar-s',
    subgroupSize: n,
    subgroups: subgroups.length,
    sigmaWithin: sigma,
    location: {
      center: grand,
      ucl: grand + k.A3 * sBar,
      lcl: grand - k.A3 * sBar,
      sigma: sigma / Math.sqrt(n),
    },
    dispersion: {
      center: sBar,
      ucl: k.B4 * sBar,
      lcl: k.B3 * sBar,
      sigma: sigma * Math.sqrt(1 - k.c4 * k.c4),
    },
  })
}

/** Phase I individuals and moving range (span 2): X̄ ± 3·MR̄/d2(2), MR chart 0 … D4(2)·MR̄. */
export function imrBaseline(values: readonly number[]): VariablesBaseline {
  if (!Array.isArray(values as unknown) || values.length < 2) invalid('/values', 'needs at least 2 values')
  values.forEach((x, i) => {
    requireFinite(`/values/${i}`, x)
  })
  const k = chartConstants(2)
  const center = mean(values)
  const mrBar = mean(values.slice(1).map((x, i) => Math.abs(x - values[i]!)))
  const sigma = mrBar / d2(2)
  return freeze({
    kind: 'i-mr',
    subgroupSize: 1,
    subgroups: values.length,
    sigmaWithin: sigma,
    location: { center, ucl: center + 3 * sigma, lcl: center - 3 * sigma, sigma },
    dispersion: { center: mrBar, ucl: k.D4 * mrBar, lcl: 0, sigma: k.d3 * sigma },
  })
}

export interface CountSample {
  /** nonconforming units (p, np) or nonconformities (c, u) */
  readonly count: number
  /** units inspected (p, np) or inspection units (u); ignored by c */
  readonly size: number
}

function checkSamples(samples: readonly CountSample[]): void {
  if (!Array.isArray(samples as unknown) || samples.length === 0)
    invalid('/samples', 'must contain at least one sample')
  samples.forEach((s, i) => {
    requireFinite(`/samples/${i}/count`, s.count)
    if (s.count < 0) invalid(`/samples/${i}/count`, 'must not be negative')
    requirePositive(`/samples/${i}/size`, s.size)
  })
}

/** p̄ = Σ nonconforming / Σ inspected (not the mean of the proportions, which overweights small samples). */
export function pBaseline(samples: readonly CountSample[]): AttributesBaseline {
  checkSamples(samples)
  samples.forEach((s, i) => {
    if (s.count > s.size) invalid(`/samples/${i}/count`, 'must not exceed size')
  })
  const pBar = samples.reduce((a, s) => a + s.count, 0) / samples.reduce((a, s) => a + s.size, 0)
  return Object.freeze({ kind: 'p', pBar })
}

export function npBaseline(samples: readonly CountSample[]): AttributesBaseline {
  const p = pBaseline(samples)
  const n = samples[0]!.size
  samples.forEach((s, i) => {
    if (s.size !== n) invalid(`/samples/${i}/size`, 'np charts need a constant sample size; use a p chart')
  })
  return Object.freeze({ kind: 'np', pBar: p.kind === 'p' ? p.pBar : 0, sampleSize: n })
}

export function cBaseline(samples: readonly CountSample[]): AttributesBaseline {
  checkSamples(samples)
  return Object.freeze({ kind: 'c', cBar: mean(samples.map((s) => s.count)) })
}

export function uBaseline(samples: readonly CountSample[]): AttributesBaseline {
  checkSamples(samples)
  const uBar = samples.reduce((a, s) => a + s.count, 0) / samples.reduce((a, s) => a + s.size, 0)
  return Object.freeze({ kind: 'u', uBar })
}

/** Limits of an attribute chart for a sample of the given size; LCL is floored at 0. */
export function attributeLimits(b: AttributesBaseline, size: number): Limits {
  let center: number
  let sigma: number
  switch (b.kind) {
    case 'p':
      center = b.pBar
      sigma = Math.sqrt((b.pBar * (1 - b.pBar)) / size)
      break
    case 'np':
      center = b.sampleSize * b.pBar
      sigma = Math.sqrt(center * (1 - b.pBar))
      break
    case 'c':
      center = b.cBar
      sigma = Math.sqrt(b.cBar)
      break
    case 'u':
      center = b.uBar
      sigma = Math.sqrt(b.uBar / size)
      break
  }
  return { center, ucl: center + 3 * sigma, lcl: Math.max(0, center - 3 * sigma), sigma }
}

const beyond = (value: number, lcl: number, ucl: number) => value > ucl || value < lcl

/** Judges phase II subgroups (Xbar-R, Xbar-S) or individual values (I-MR) against a frozen baseline. */
export function judgeVariables(
  baseline: VariablesBaseline,
  data: readonly (readonly number[])[] | readonly number[],
  rules: readonly RunRule[],
): ChartJudgement {
  const loc = baseline.location
  const disp = baseline.dispersion
  let values: number[]
  let spreads: (number | null)[]
  if (baseline.kind === 'i-mr') {
    const xs = data as readonly number[]
    xs.forEach((x, i) => {
      requireFinite(`/values/${i}`, x)
    })
    values = [...xs]
    spreads = xs.map((x, i) => (i === 0 ? null : Math.abs(x - xs[i - 1]!)))
  } else {
    const groups = data as readonly (readonly number[])[]
    checkSubgroups('/subgroups', groups, baseline.subgroupSize)
    values = groups.map(mean)
    spreads = groups.map((g) =>
      baseline.kind === 'xbar-r' ? Math.max(...g) - Math.min(...g) : sampleStdDev(g),
    )
  }
  const points: ChartPoint[] = values.map((value, index) => {
    const s = spreads[index]
    const point = { index, value, center: loc.center, ucl: loc.ucl, lcl: loc.lcl }
    return s === null || s === undefined
      ? point
      : { ...point, dispersion: { value: s, ucl: disp.ucl, lcl: disp.lcl } }
  })
  const violations = [...evaluateRunRules({ values, center: loc.center, sigma: loc.sigma }, rules)]
  for (const p of points) {
    if (p.dispersion && beyond(p.dispersion.value, p.dispersion.lcl, p.dispersion.ucl)) {
      violations.push({
        ruleId: 'dispersion-limit',
        ruleName: `${baseline.kind} dispersion beyond limits`,
        at: p.index,
        points: [p.index],
      })
    }
  }
  return { points, violations: violations.sort((a, b) => a.at - b.at) }
}

/** Judges phase II attribute samples against a frozen p, np, c or u baseline. */
export function judgeAttributes(
  baseline: AttributesBaseline,
  samples: readonly CountSample[],
  rules: readonly RunRule[],
): ChartJudgement {
  checkSamples(samples)
  const points: ChartPoint[] = samples.map((s, index) => {
    if (baseline.kind === 'np' && s.size !== baseline.sampleSize) {
      invalid(`/samples/${index}/size`, `must equal the baseline sample size ${baseline.sampleSize}`)
    }
    const l = attributeLimits(baseline, s.size)
    const value = baseline.kind === 'p' || baseline.kind === 'u' ? s.count / s.size : s.count
    return { index, value, center: l.center, ucl: l.ucl, lcl: l.lcl }
  })
  const sigma = samples.map((s) => attributeLimits(baseline, s.size).sigma)
  const violations = evaluateRunRules(
    { values: points.map((p) => p.value), center: points.map((p) => p.center), sigma },
    rules,
  )
  return { points, violations }
}

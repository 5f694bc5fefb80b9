/**
 * Process capability (Cp, Cpk, CpU, CpL) from within-subgroup sigma and performance (Pp, Ppk, PpU, PpL)
 * from the overall sample standard deviation. Formulas: NIST/SEMATECH e-Handbook §6.1.6
 * (https://www.itl.nist.gov/div898/handbook/pmc/section1/pmc16.htm). Thresholds such as "Cpk ≥ 1.33"
 * are plant configuration, not code.
 */
import { imrBaseline, sampleStdDev, xbarRBaseline, xbarSBaseline } from './spc/charts.ts'
import { invalid, requireFinite, requirePositive } from './validation.ts'

export interface SpecLimitsNumeric {
  readonly lsl?: number
  readonly usl?: number
}

export interface CapabilityIndices {
  /** null with a one-sided specification */
  readonly cp: number | null
  readonly cpk: number
  readonly cpu: number | null
  readonly cpl: number | null
}

function checkSpec(spec: SpecLimitsNumeric): void {
  if (spec.lsl === undefined && spec.usl === undefined) invalid('/spec', 'needs lsl, usl or both')
  if (spec.lsl !== undefined) requireFinite('/spec/lsl', spec.lsl)
  if (spec.usl !== undefined) requireFinite('/spec/usl', spec.usl)
  if (spec.lsl !== undefined && spec.usl !== undefined && spec.lsl >= spec.usl)
    invalid('/spec/usl', 'must be greater than lsl')
}

/** Indices for a given mean and sigma; with one limit only, Cpk is CpU or CpL. */
export function capabilityIndices(mean: number, sigma: number, spec: SpecLimitsNumeric): CapabilityIndices {
  checkSpec(spec)
  requireFinite('/mean', mean)
  requirePositive('/sigma', sigma)
  const cpu = spec.usl === undefined ? null : (spec.usl - mean) / (3 * sigma)
  const cpl = spec.lsl === undefined ? null : (mean - spec.lsl) / (3 * sigma)
  const cp = spec.usl === undefined || spec.lsl === undefined ? null : (spec.usl - spec.lsl) / (6 * sigma)
  const cpk = Math.min(cpu ?? Number.POSITIVE_INFINITY, cpl ?? Number.POSITIVE_INFINITY)
  return { cp, cpk, cpu, cpl }
}

export type WithinSigmaMethod = 'r-bar' | 's-bar' | 'moving-range'

export interface CapabilityStudy {
  readonly n: number
  readonly mean: number
  readonly withinMethod: WithinSigmaMethod
  /** R̄/d2, s̄/c4 or MR̄/d2(2) */
  readonly sigmaWithin: number
  /** sample standard deviation of all values (n − 1), no c4 correction */
  readonly sigmaOverall: number
  readonly cp: number | null
  readonly cpk: number
  readonly cpu: number | null
  readonly cpl: number | null
  readonly pp: number | null
  readonly ppk: number
  readonly ppu: number | null
  readonly ppl: number | null
}

/**
 * Capability study over subgroups (`r-bar`, `s-bar`) or individual values in time order
 * (`moving-range`, pass each value as a subgroup of one).
 */
export function capabilityStudy(
  subgroups: readonly (readonly number[])[],
  spec: SpecLimitsNumeric,
  withinMethod: WithinSigmaMethod,
): CapabilityStudy {
  checkSpec(spec)
  const baseline =
    withinMethod === 'r-bar'
      ? xbarRBaseline(subgroups)
      : withinMethod === 's-bar'
        ? xbarSBaseline(subgroups)
        : withinMethod === 'moving-range'
          ? imrBaseline(
              subgroups.map((g, i) =>
                g.length === 1 ? g[0]! : invalid(`/subgroups/${i}`, 'must hold one value'),
              ),
            )
          : invalid('/withinMethod', 'must be r-bar, s-bar or moving-range')
  const all = subgroups.flat()
  const mean = all.reduce((a, b) => a + b, 0) / all.length
  const sigmaOverall = sampleStdDev(all)
  const within = capabilityIndices(mean, baseline.sigmaWithin, spec)
  const overall = capabilityIndices(mean, sigmaOverall, spec)
  return {
    n: all.length,
    mean,
    withinMethod,
    sigmaWithin: baseline.sigmaWithin,
    sigmaOverall,
    ...within,
    pp: overall.cp,
    ppk: overall.cpk,
    ppu: overall.cpu,
    ppl: overall.cpl,
  }
}

import { describe, expect, it } from 'vitest'
import {
  attributeLimits,
  cBaseline,
  imrBaseline,
  judgeAttributes,
  judgeVariables,
  npBaseline,
  pBaseline,
  uBaseline,
  xbarRBaseline,
  xbarSBaseline,
} from './charts.ts'
import { nelsonRules } from './run-rules.ts'

const RULES = nelsonRules()

describe('I-MR: NIST/SEMATECH e-Handbook §6.3.2.2 worked example', () => {
  // https://www.itl.nist.gov/div898/handbook/pmc/section3/pmc322.htm — 10 flow-rate batches.
  // Published: X̄ 50.81, MR̄ 1.8778, UCL 55.8041, LCL 45.8159, MR UCL 6.1347 (NIST uses d2 = 1.128 and
  // D4 = 3.267 rounded; we compute d2 = 1.12838, so our limits differ in the third decimal). Figures as
  // restated in a public check table (search corpus); the page text itself was not in the corpus.
  const flow = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
  const b = imrBaseline(flow)
  it('centre line and moving range', () => {
    expect(b.location.center).toBeCloseTo(50.81, 10)
    expect(b.dispersion.center).toBeCloseTo(1.8778, 4)
  })
  it('limits agree with the published ones to the rounding of d2', () => {
    expect(Math.abs(b.location.ucl - 55.8041)).toBeLessThan(0.002)
    expect(Math.abs(b.location.lcl - 45.8159)).toBeLessThan(0.002)
    expect(Math.abs(b.dispersion.ucl - 6.1347)).toBeLessThan(0.001)
    // exact with the published rounded constant:
    expect(b.location.center + (3 * b.dispersion.center) / 1.128).toBeCloseTo(55.8041, 4)
  })
})

describe('p chart: NIST/SEMATECH e-Handbook §6.3.3.1 worked example', () => {
  // https://www.itl.nist.gov/div898/handbook/pmc/section3/pmc332.htm — 30 wafers × 50 chips,
  // p̄ = 0.2313, UCL = 0.4102, LCL = 0.0524.
  it('limits from p̄ and n', () => {
    const l = attributeLimits({ kind: 'p', pBar: 0.2313 }, 50)
    expect(l.ucl).toBeCloseTo(0.4102, 4)
    expect(l.lcl).toBeCloseTo(0.0524, 4)
  })
  it('p̄ is Σ defectives / Σ inspected', () => {
    const b = pBaseline([
      { count: 1, size: 10 },
      { count: 9, size: 90 },
    ])
    expect(b).toEqual({ kind: 'p', pBar: 0.1 })
  })
})

describe('Xbar-R and Xbar-S (hand-computed)', () => {
  // Subgroup means 3, 4, 5 → X̿ = 4; every range 4 → R̄ = 4. With the printed A2(5) = 0.577 the limits
  // are 4 ± 2.308 and the R chart is 0 … 2.114·4 = 8.456 (D4(5) = 2.114).
  const phase1 = [
    [1, 2, 3, 4, 5],
    [2, 3, 4, 5, 6],
    [3, 4, 5, 6, 7],
  ]
  it('Xbar-R limits', () => {
    const b = xbarRBaseline(phase1)
    expect(b.location.center).toBe(4)
    expect(b.location.ucl).toBeCloseTo(6.308, 2)
    expect(b.location.lcl).toBeCloseTo(1.692, 2)
    expect(b.dispersion.ucl).toBeCloseTo(8.456, 2)
    expect(b.dispersion.lcl).toBe(0)
    expect(b.sigmaWithin).toBeCloseTo(4 / 2.326, 3)
  })
  it('Xbar-S limits: s = √2.5 in every subgroup; A3(5) 1.427, B4(5) 2.089', () => {
    const b = xbarSBaseline(phase1)
    const s = Math.sqrt(2.5)
    expect(b.location.ucl).toBeCloseTo(4 + 1.427 * s, 2)
    expect(b.dispersion.ucl).toBeCloseTo(2.089 * s, 2)
    expect(b.sigmaWithin).toBeCloseTo(s / 0.94, 3)
  })
  it('limits are frozen: judging a shifted window does not move them', () => {
    const b = xbarRBaseline(phase1)
    expect(Object.isFrozen(b) && Object.isFrozen(b.location)).toBe(true)
    const shifted = [
      [10, 11, 12, 13, 14],
      [4, 4, 4, 4, 4],
    ]
    const j = judgeVariables(b, shifted, RULES)
    expect(j.points[0]).toMatchObject({ value: 12, ucl: b.location.ucl, lcl: b.location.lcl })
    expect(j.violations.filter((v) => v.ruleId === 'nelson-1').map((v) => v.at)).toEqual([0])
  })
  it('flags a range beyond the R chart limit', () => {
    const j = judgeVariables(xbarRBaseline(phase1), [[0, 4, 4, 4, 12]], RULES)
    expect(j.violations).toContainEqual(
      expect.objectContaining({ ruleId: 'dispersion-limit', at: 0, points: [0] }),
    )
  })
  it('rejects unequal subgroup sizes, naming the subgroup', () => {
    expect(() =>
      xbarRBaseline([
        [1, 2],
        [1, 2, 3],
      ]),
    ).toThrow(/\/subgroups\/1/)
    expect(() => judgeVariables(xbarRBaseline(phase1), [[1, 2, 3]], RULES)).toThrow(/\/subgroups\/0/)
  })
})

describe('np, c, u charts (hand-computed)', () => {
  it('np: p̄ 0.1, n 100 → 10 ± 3·3', () => {
    const b = npBaseline([
      { count: 8, size: 100 },
      { count: 12, size: 100 },
    ])
    const l = attributeLimits(b, 100)
    expect(l.center).toBeCloseTo(10, 12)
    expect(l.ucl).toBeCloseTo(19, 12)
    expect(l.lcl).toBeCloseTo(1, 12)
    expect(() => judgeAttributes(b, [{ count: 1, size: 50 }], RULES)).toThrow(/\/samples\/0\/size/)
  })
  it('c: c̄ 4 → UCL 10, LCL floored at 0', () => {
    const b = cBaseline([2, 4, 6].map((count) => ({ count, size: 1 })))
    expect(attributeLimits(b, 1)).toMatchObject({ center: 4, ucl: 10, lcl: 0 })
    const j = judgeAttributes(b, [{ count: 11, size: 1 }], RULES)
    expect(j.violations.map((v) => v.ruleId)).toEqual(['nelson-1'])
  })
  it('u: ū = Σc/Σunits; limits vary with the units of each sample', () => {
    const b = uBaseline([
      { count: 3, size: 2 },
      { count: 5, size: 2 },
    ])
    expect(b).toEqual({ kind: 'u', uBar: 2 })
    const j = judgeAttributes(
      b,
      [
        { count: 4, size: 1 },
        { count: 20, size: 4 },
      ],
      RULES,
    )
    expect(j.points[0]!.ucl).toBeCloseTo(2 + 3 * Math.sqrt(2), 12)
    expect(j.points[1]!.ucl).toBeCloseTo(2 + 3 * Math.sqrt(0.5), 12)
    expect(j.points[1]!.value).toBe(5)
    expect(j.violations.map((v) => v.at)).toEqual([1])
  })
  it('rejects a count above the sample size on a p chart', () => {
    expect(() => pBaseline([{ count: 5, size: 4 }])).toThrow(/\/samples\/0\/count/)
  })
})

import { describe, expect, it } from 'vitest'
import { evaluateRunRules, nelsonRules, type RunRule, westernElectricRules } from './run-rules.ts'

// Rule definitions: Nelson, "The Shewhart Control Chart — Tests for Special Causes", JQT 16(4), 1984, and the
// Western Electric Statistical Quality Control Handbook (1956), as listed in quality-domain.md §4.2.
// Series below are z-scores (centre 0, sigma 1) crafted by hand: one that triggers the rule and one that
// narrowly does not.
const rep = (xs: number[], times: number) => Array.from({ length: times }, () => xs).flat()

function hits(values: number[], rules: RunRule[], id: string) {
  return evaluateRunRules({ values, center: 0, sigma: 1 }, rules).filter((v) => v.ruleId === id)
}

const NELSON = nelsonRules()
const WE = westernElectricRules()

const CASES: {
  id: string
  rules: RunRule[]
  trigger: number[]
  at: number
  points: number[]
  near: number[]
}[] = [
  { id: 'nelson-1', rules: NELSON, trigger: [0, 0.5, 3.01], at: 2, points: [2], near: [0, 3, -3] },
  {
    id: 'nelson-2',
    rules: NELSON,
    trigger: rep([0.2], 9),
    at: 8,
    points: [0, 1, 2, 3, 4, 5, 6, 7, 8],
    near: [...rep([0.2], 4), 0, ...rep([0.2], 4)],
  },
  {
    id: 'nelson-3',
    rules: NELSON,
    trigger: [-0.5, -0.3, -0.1, 0.1, 0.3, 0.5],
    at: 5,
    points: [0, 1, 2, 3, 4, 5],
    near: [-0.5, -0.3, -0.1, -0.1, 0.3, 0.5],
  },
  {
    id: 'nelson-4',
    rules: NELSON,
    trigger: rep([-0.5, 0.5], 7),
    at: 13,
    points: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    near: [...rep([-0.5, 0.5], 6), -0.5, -0.5],
  },
  { id: 'nelson-5', rules: NELSON, trigger: [2.1, 0, 2.2], at: 2, points: [0, 2], near: [2.1, 0, 0, 2.2] },
  {
    id: 'nelson-6',
    rules: NELSON,
    trigger: [1.1, 1.2, 0, 1.3, 1.4],
    at: 4,
    points: [0, 1, 3, 4],
    near: [1.1, 1.2, 0, 0, 1.3, 1.4],
  },
  {
    id: 'nelson-7',
    rules: NELSON,
    trigger: [...rep([0.5, -0.5], 7), 0.9],
    at: 14,
    points: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    near: [...rep([0.5, -0.5], 7), 1],
  },
  {
    id: 'nelson-8',
    rules: NELSON,
    trigger: rep([-1.5, 1.5], 4),
    at: 7,
    points: [0, 1, 2, 3, 4, 5, 6, 7],
    near: [...rep([-1.5, 1.5], 3), -1.5, 1],
  },
  { id: 'we-1', rules: WE, trigger: [0, -3.2], at: 1, points: [1], near: [0, -3] },
  { id: 'we-2', rules: WE, trigger: [-2.5, -2.1, 0], at: 1, points: [0, 1], near: [-2.5, 2.1, -0.5] },
  {
    id: 'we-3',
    rules: WE,
    trigger: [-1.1, -1.2, -1.3, 0, -1.4],
    at: 4,
    points: [0, 1, 2, 4],
    near: [-1.1, -1.2, -1.3, 0, 1.4],
  },
  {
    id: 'we-4',
    rules: WE,
    trigger: rep([-0.1], 8),
    at: 7,
    points: [0, 1, 2, 3, 4, 5, 6, 7],
    near: rep([-0.1], 7),
  },
]

describe('each rule: a series that triggers it and one that narrowly does not', () => {
  for (const c of CASES) {
    it(`${c.id} triggers`, () => {
      const found = hits(c.trigger, c.rules, c.id)
      expect(found).toHaveLength(1)
      expect(found[0]).toMatchObject({ at: c.at, points: c.points })
      expect(found[0]!.ruleName).toMatch(/^(Nelson|WE) \d/)
    })
    it(`${c.id} narrowly does not trigger`, () => {
      expect(hits(c.near, c.rules, c.id)).toEqual([])
    })
  }
})

describe('conventions', () => {
  it('a longer run is reported at every point that completes it', () => {
    expect(hits(rep([0.2], 11), NELSON, 'nelson-2').map((v) => v.at)).toEqual([8, 9, 10])
  })
  it('Nelson 8 requires both sides by default; same-side runs can be allowed', () => {
    expect(hits(rep([1.5], 8), NELSON, 'nelson-8')).toEqual([])
    const either = nelsonRules({ 'nelson-8': { requireBothSides: false } })
    expect(hits(rep([1.5], 8), either, 'nelson-8')).toHaveLength(1)
  })
  it('uses per-point centre and sigma (p chart with varying n)', () => {
    const v = evaluateRunRules({ values: [0.3, 0.3], center: [0.1, 0.1], sigma: [0.1, 0.05] }, NELSON)
    expect(v.map((x) => x.at)).toEqual([1])
  })
})

describe('configuration', () => {
  it('N is configurable (STATISTICA-style WE 4 with 9 points) and rules are switchable', () => {
    const nine = westernElectricRules({ 'we-4': { n: 9 } })
    expect(hits(rep([0.1], 8), nine, 'we-4')).toEqual([])
    expect(hits(rep([0.1], 9), nine, 'we-4')).toHaveLength(1)
    const off = nelsonRules({ 'nelson-1': { enabled: false } })
    expect(hits([5], off, 'nelson-1')).toEqual([])
  })
  it('M of N is configurable: 3 of 4 beyond 2σ', () => {
    const rules = nelsonRules({ 'nelson-5': { m: 3, n: 4 } })
    expect(hits([2.1, 2.1, 0], rules, 'nelson-5')).toEqual([])
    expect(hits([2.1, 2.1, 0, 2.5], rules, 'nelson-5')).toHaveLength(1)
  })
  it('rejects unknown rules and impossible parameters, naming the field', () => {
    expect(() => nelsonRules({ 'nelson-9': {} } as never)).toThrow(/\/rules\/nelson-9/)
    expect(() => nelsonRules({ 'nelson-5': { m: 4, n: 3 } })).toThrow(/\/rules\/nelson-5\/m/)
    expect(() => evaluateRunRules({ values: [1], center: 0, sigma: 0 }, NELSON)).toThrow(/\/sigma/)
    expect(() => evaluateRunRules({ values: [1, 2], center: [0], sigma: 1 }, NELSON)).toThrow(/\/center/)
  })
})

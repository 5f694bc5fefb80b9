import { describe, expect, it } from 'vitest'
import { c4, chartConstants, d2, d3, logGamma, normalCdf } from './constants.ts'

/*
 * Published control-chart constants, as printed (rounded):
 * - d2, c4, A2, D3, D4 for n = 2…10: AIAG SPC manual table as reproduced at
 *   https://www.buenastareas.com/ensayos/No-Tengo-Idea/1007248.html and the CSS Statistica manual
 *   http://38.142.81.21:8001/manual/vax/v-002/user-s-manual-english/page-207.html (quality-domain.md §4.2).
 * - d3 for n = 2…10: Minitab "Methods and formulas" unbiasing-constant table,
 *   https://support.minitab.com/en-us/minitab/help-and-how-to/quality-and-process-improvement/capability-analysis/how-to/capability-analysis/normal-capability-analysis/methods-and-formulas/methods/
 *   (values as restated in a public reference fixture; the page itself was not re-read).
 * - A3, B3, B4, and the n = 11, 15, 20, 25 rows: the standard table of factors for control charts
 *   (ASTM E2587 / Montgomery, Introduction to Statistical Quality Control, Appendix VI). n = 11 D4 is
 *   1.744; the 1.774 of one web table is a known typo (quality-domain.md §4.2).
 * Each computed value must round to the printed value (tolerance: half a unit of the last printed digit),
 * except D3/D4, which the printed tables derive from d2 and d3 already rounded to 3 decimals: n = 3 prints
 * D4 2.574 where 1 + 3·d3/d2 = 2.5746 exactly. For those the tolerance is one unit of the last digit.
 */
const PUBLISHED: Record<
  number,
  Partial<Record<'d2' | 'd3' | 'c4' | 'A2' | 'A3' | 'D3' | 'D4' | 'B3' | 'B4', string>>
> = {
  2: {
    d2: '1.128',
    d3: '0.8525',
    c4: '0.7979',
    A2: '1.880',
    A3: '2.659',
    D3: '0',
    D4: '3.267',
    B3: '0',
    B4: '3.267',
  },
  3: {
    d2: '1.693',
    d3: '0.8884',
    c4: '0.8862',
    A2: '1.023',
    A3: '1.954',
    D3: '0',
    D4: '2.574',
    B3: '0',
    B4: '2.568',
  },
  4: {
    d2: '2.059',
    d3: '0.8798',
    c4: '0.9213',
    A2: '0.729',
    A3: '1.628',
    D3: '0',
    D4: '2.282',
    B3: '0',
    B4: '2.266',
  },
  5: {
    d2: '2.326',
    d3: '0.8641',
    c4: '0.9400',
    A2: '0.577',
    A3: '1.427',
    D3: '0',
    D4: '2.114',
    B3: '0',
    B4: '2.089',
  },
  6: {
    d2: '2.534',
    d3: '0.8480',
    c4: '0.9515',
    A2: '0.483',
    A3: '1.287',
    D3: '0',
    D4: '2.004',
    B3: '0.030',
    B4: '1.970',
  },
  7: {
    d2: '2.704',
    d3: '0.8332',
    c4: '0.9594',
    A2: '0.419',
    A3: '1.182',
    D3: '0.076',
    D4: '1.924',
    B3: '0.118',
    B4: '1.882',
  },
  8: {
    d2: '2.847',
    d3: '0.8198',
    c4: '0.9650',
    A2: '0.373',
    A3: '1.099',
    D3: '0.136',
    D4: '1.864',
    B3: '0.185',
    B4: '1.815',
  },
  9: {
    d2: '2.970',
    d3: '0.8078',
    c4: '0.9693',
    A2: '0.337',
    A3: '1.032',
    D3: '0.184',
    D4: '1.816',
    B3: '0.239',
    B4: '1.761',
  },
  10: {
    d2: '3.078',
    d3: '0.7971',
    c4: '0.9727',
    A2: '0.308',
    A3: '0.975',
    D3: '0.223',
    D4: '1.777',
    B3: '0.284',
    B4: '1.716',
  },
  11: { d2: '3.173', c4: '0.9754', A2: '0.285', D3: '0.256', D4: '1.744' },
  15: { d2: '3.472', c4: '0.9823', A2: '0.223', D3: '0.347', D4: '1.653' },
  20: { d2: '3.735', c4: '0.9869', A2: '0.180', D3: '0.415', D4: '1.585' },
  25: { d2: '3.931', c4: '0.9896', A2: '0.153', D3: '0.459', D4: '1.541' },
}

describe('computed constants match published tables', () => {
  for (const [n, row] of Object.entries(PUBLISHED)) {
    it(`n = ${n}`, () => {
      const c = chartConstants(Number(n))
      for (const [name, printed] of Object.entries(row)) {
        const decimals = printed.split('.')[1]?.length ?? 0
        const units = name === 'D3' || name === 'D4' ? 1 : 0.5
        const tolerance = decimals === 0 ? 1e-12 : units * 10 ** -decimals + 1e-9
        const actual = c[name as keyof typeof row]
        expect(
          Math.abs(actual - Number(printed)),
          `${name}(${n}) = ${actual}, printed ${printed}`,
        ).toBeLessThanOrEqual(tolerance)
      }
    })
  }
})

describe('closed forms', () => {
  it('d2(2) = 2/√π and d3(2) = √(2 − 4/π) (range of two normals is √2·|Z|)', () => {
    expect(d2(2)).toBeCloseTo(2 / Math.sqrt(Math.PI), 9)
    expect(d3(2)).toBeCloseTo(Math.sqrt(2 - 4 / Math.PI), 6)
  })
  it('d2(3) = 3/√π', () => {
    expect(d2(3)).toBeCloseTo(3 / Math.sqrt(Math.PI), 9)
  })
  it('c4(2) = √(2/π); Γ(5) = 24; Φ(1.96) = 0.9750021', () => {
    expect(c4(2)).toBeCloseTo(Math.sqrt(2 / Math.PI), 12)
    expect(Math.exp(logGamma(5))).toBeCloseTo(24, 10)
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12)
    expect(normalCdf(-5)).toBeCloseTo(2.866515718791939e-7, 18)
  })
  it('rejects subgroup sizes outside 2…100', () => {
    expect(() => d2(1)).toThrow(/subgroupSize/)
    expect(() => c4(101)).toThrow(/subgroupSize/)
  })
})

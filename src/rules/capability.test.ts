import { describe, expect, it } from 'vitest'
import { capabilityIndices, capabilityStudy } from './capability.ts'

describe('NIST/SEMATECH e-Handbook §6.1.6 worked example', () => {
  // https://www.itl.nist.gov/div898/handbook/pmc/section1/pmc16.htm: USL 20, LSL 8, x̄ 16, s 2 →
  // Cp 1.0, CpU 0.6667, CpL 1.3333, Cpk 0.6667 (figures as restated in a public check table found with
  // the search tool; the page text itself was not in the corpus).
  it('Cp, Cpk, CpU, CpL', () => {
    const c = capabilityIndices(16, 2, { lsl: 8, usl: 20 })
    expect(c.cp).toBeCloseTo(1, 12)
    expect(c.cpu).toBeCloseTo(0.6667, 4)
    expect(c.cpl).toBeCloseTo(1.3333, 4)
    expect(c.cpk).toBeCloseTo(0.6667, 4)
  })
  it('one-sided specification: Cp is undefined, Cpk is CpU or CpL', () => {
    expect(capabilityIndices(16, 2, { usl: 20 })).toEqual({ cp: null, cpk: 2 / 3, cpu: 2 / 3, cpl: null })
    expect(capabilityIndices(16, 2, { lsl: 8 })).toMatchObject({ cp: null, cpk: 4 / 3, cpl: 4 / 3 })
  })
  it('a mean outside the specification gives a negative Cpk, not a clipped one', () => {
    expect(capabilityIndices(21, 1, { lsl: 8, usl: 20 }).cpk).toBeCloseTo(-1 / 3, 12)
  })
})

describe('capability study (hand-computed)', () => {
  // Subgroups of 5 with means 3, 4, 5 and ranges 4: σ_within = R̄/d2(5) = 4/2.32593; all 15 values have
  // mean 4 and sample SD √(40/14) = 1.69031. Spec 0 … 10.
  const subgroups = [
    [1, 2, 3, 4, 5],
    [2, 3, 4, 5, 6],
    [3, 4, 5, 6, 7],
  ]
  it('Cp/Cpk from R̄/d2, Pp/Ppk from the overall SD', () => {
    const s = capabilityStudy(subgroups, { lsl: 0, usl: 10 }, 'r-bar')
    expect(s.sigmaWithin).toBeCloseTo(4 / 2.32593, 4)
    expect(s.cp).toBeCloseTo(10 / (6 * (4 / 2.32593)), 4)
    expect(s.cpk).toBeCloseTo(4 / (3 * (4 / 2.32593)), 4)
    expect(s.sigmaOverall).toBeCloseTo(Math.sqrt(40 / 14), 12)
    expect(s.pp).toBeCloseTo(10 / (6 * Math.sqrt(40 / 14)), 12)
    expect(s.ppk).toBeCloseTo(4 / (3 * Math.sqrt(40 / 14)), 12)
  })
  it('s̄/c4 and moving range', () => {
    expect(capabilityStudy(subgroups, { usl: 10 }, 's-bar').sigmaWithin).toBeCloseTo(Math.sqrt(2.5) / 0.94, 3)
    const mr = capabilityStudy([[1], [3], [2], [4]], { lsl: 0, usl: 6 }, 'moving-range')
    expect(mr.sigmaWithin).toBeCloseTo(5 / 3 / 1.128, 3)
  })
  it('rejects an inverted or missing specification, naming the field', () => {
    expect(() => capabilityIndices(1, 1, {})).toThrow(/\/spec/)
    expect(() => capabilityIndices(1, 1, { lsl: 5, usl: 5 })).toThrow(/\/spec\/usl/)
    expect(() => capabilityIndices(1, 0, { usl: 5 })).toThrow(/\/sigma/)
    expect(() => capabilityStudy([[1, 2]], { usl: 5 }, 'moving-range')).toThrow(/\/subgroups\/0/)
  })
})

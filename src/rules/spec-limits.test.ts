import { describe, expect, it } from 'vitest'
import { formatDecimal, parseDecimal, roundDecimal } from './decimal.ts'
import { type Characteristic, evaluateCharacteristic } from './spec-limits.ts'

// Hand-computed examples; rounding rules: half-up = ties away from zero (Java RoundingMode.HALF_UP),
// half-even = ties to even (ISO 80000-1:2009 Annex B, rule A).
describe('decimal rounding', () => {
  const r = (s: string, d: number, mode: 'half-up' | 'half-even') =>
    formatDecimal(roundDecimal(parseDecimal('/x', s), d, mode))
  it('half-up rounds ties away from zero', () => {
    expect(['2.5', '3.5', '-2.5', '2.45', '2.449'].map((s) => r(s, 0, 'half-up'))).toEqual([
      '3',
      '4',
      '-3',
      '2',
      '2',
    ])
    expect(r('2.45', 1, 'half-up')).toBe('2.5')
  })
  it('half-even rounds ties to the even neighbour', () => {
    expect(['2.5', '3.5', '-2.5', '2.51'].map((s) => r(s, 0, 'half-even'))).toEqual(['2', '4', '-2', '3'])
    expect(r('2.45', 1, 'half-even')).toBe('2.4')
    expect(r('2.55', 1, 'half-even')).toBe('2.6')
  })
  it('pads to the requested decimals and parses exponents and numbers', () => {
    expect(r('1.2', 3, 'half-up')).toBe('1.200')
    expect(formatDecimal(parseDecimal('/x', '1.5e-3'))).toBe('0.0015')
    expect(formatDecimal(parseDecimal('/x', 0.1))).toBe('0.1')
    expect(formatDecimal(parseDecimal('/x', '-.25'))).toBe('-0.25')
    expect(() => parseDecimal('/value', 'abc')).toThrow(/\/value/)
    expect(() => parseDecimal('/value', Number.NaN)).toThrow(/\/value/)
  })
})

describe('evaluateCharacteristic', () => {
  const bore: Characteristic = {
    id: 'bore-diameter',
    unit: 'mm',
    tolerance: { kind: 'target', target: '10.00', minus: '0.05', plus: '0.05' },
    rounding: { decimals: 2, mode: 'half-up' },
  }
  it('target ± tolerance, limits inclusive', () => {
    expect(evaluateCharacteristic(bore, { value: '10.05', unit: 'mm' })).toMatchObject({
      status: 'pass',
      lower: '9.95',
      upper: '10.05',
      violated: null,
    })
  })
  it('the plant rounding decides a value on the edge: 10.054 passes, 10.055 fails under half-up', () => {
    expect(evaluateCharacteristic(bore, { value: '10.054', unit: 'mm' }).status).toBe('pass')
    expect(evaluateCharacteristic(bore, { value: '10.055', unit: 'mm' })).toMatchObject({
      status: 'fail',
      value: '10.06',
      violated: 'upper',
      excess: '0.01',
    })
  })
  it('half-even keeps 10.045 at 10.04 and 10.055 at 10.06', () => {
    const even: Characteristic = { ...bore, rounding: { decimals: 2, mode: 'half-even' } }
    expect(evaluateCharacteristic(even, { value: '10.045', unit: 'mm' }).value).toBe('10.04')
    expect(evaluateCharacteristic(even, { value: '10.055', unit: 'mm' }).status).toBe('fail')
  })
  it('no float error: 0.1 + 0.2 style values compare exactly', () => {
    const c: Characteristic = { id: 'x', unit: 'g', tolerance: { kind: 'upper-only', upper: '0.3' } }
    expect(evaluateCharacteristic(c, { value: '0.30000000000000001', unit: 'g' }).status).toBe('fail')
    expect(evaluateCharacteristic(c, { value: '0.3', unit: 'g' }).status).toBe('pass')
  })
  it('one-sided lower and two-sided, exclusive limits', () => {
    const lower: Characteristic = {
      id: 'hardness',
      unit: 'HRC',
      tolerance: { kind: 'lower-only', lower: 58 },
    }
    expect(evaluateCharacteristic(lower, { value: 57.9, unit: 'HRC' })).toMatchObject({
      status: 'fail',
      violated: 'lower',
      excess: '0.1',
    })
    const open: Characteristic = {
      id: 'ph',
      unit: 'pH',
      tolerance: { kind: 'two-sided', lower: 6, upper: 8 },
      limitsInclusive: false,
    }
    expect(evaluateCharacteristic(open, { value: '8', unit: 'pH' }).status).toBe('fail')
  })
  it('converts units through the injected converter, or refuses with QLK_UNIT_CONVERSION', () => {
    const toMm = (v: { units: bigint; scale: number }, from: string) =>
      from === 'um' ? { units: v.units, scale: v.scale + 3 } : null
    expect(evaluateCharacteristic(bore, { value: '10040', unit: 'um' }, toMm)).toMatchObject({
      status: 'pass',
      value: '10.04',
    })
    expect(() => evaluateCharacteristic(bore, { value: '1', unit: 'in' }, toMm)).toThrow(
      /cannot convert in to mm/,
    )
  })
  it('rejects inverted limits and negative tolerances, naming the field', () => {
    const bad: Characteristic = { id: 'x', unit: 'mm', tolerance: { kind: 'two-sided', lower: 2, upper: 1 } }
    expect(() => evaluateCharacteristic(bad, { value: 1, unit: 'mm' })).toThrow(/\/tolerance\/upper/)
    const neg: Characteristic = {
      id: 'x',
      unit: 'mm',
      tolerance: { kind: 'target', target: 1, minus: -1, plus: 1 },
    }
    expect(() => evaluateCharacteristic(neg, { value: 1, unit: 'mm' })).toThrow(/\/tolerance\/minus/)
  })
})

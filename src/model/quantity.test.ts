import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { add, compare, formatDecimal, parseDecimal, quantity, rescale, subtract } from './quantity.ts'

describe('quantity', () => {
  it('parses a decimal string at a fixed scale (SAP DEC 13,3)', () => {
    expect(parseDecimal('12.345', 3, 'KG')).toEqual({ units: 12345, scale: 3, uom: 'KG' })
    expect(parseDecimal('12.3', 3, 'KG').units).toBe(12300)
    expect(parseDecimal('-0.5', 1, 'KG').units).toBe(-5)
    expect(parseDecimal('7.000', 0, 'EA').units).toBe(7)
    expect(parseDecimal('9999999999.999', 3, 'KG').units).toBe(9999999999999)
  })

  it('refuses extra significant decimals, exponents and garbage, naming the field', () => {
    expect(() => parseDecimal('1.2345', 3, 'KG', '/data/quantity')).toThrow(/more than 3 decimal places/)
    expect(() => parseDecimal('1e3', 0, 'KG')).toThrow(/plain decimal/)
    expect(() => parseDecimal('1,5', 1, 'KG')).toThrow(/plain decimal/)
    try {
      parseDecimal('x', 0, 'KG', '/data/q')
    } catch (e) {
      expect(e).toMatchObject({ code: 'QLK_VALIDATION', errors: [{ path: '/data/q' }] })
    }
    expect(() => parseDecimal('99999999999999999', 0, 'EA')).toThrow(/safe integer/)
  })

  it('adds, subtracts and compares exactly, aligning scales', () => {
    const a = quantity(1, 1, 'KG') // 0.1
    const b = quantity(2, 1, 'KG') // 0.2
    expect(formatDecimal(add(a, b))).toBe('0.3') // 0.1 + 0.2 in floats is 0.30000000000000004
    expect(add(quantity(5, 0, 'KG'), quantity(125, 3, 'KG'))).toEqual({ units: 5125, scale: 3, uom: 'KG' })
    expect(formatDecimal(subtract(a, b))).toBe('-0.1')
    expect(compare(quantity(1000, 3, 'KG'), quantity(1, 0, 'KG'))).toBe(0)
    expect(compare(a, b)).toBe(-1)
    expect(() => add(a, quantity(1, 1, 'LB'))).toThrow(/cannot combine KG with LB/)
  })

  it('rescales down only when exact', () => {
    expect(rescale(quantity(12300, 3, 'KG'), 1).units).toBe(123)
    expect(() => rescale(quantity(12345, 3, 'KG'), 2)).toThrow(
      expect.objectContaining({ code: 'QLK_UNIT_CONVERSION' }),
    )
  })

  it('round-trips format ∘ parse for every safe quantity (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e15, max: 1e15 }), fc.integer({ min: 0, max: 6 }), (units, scale) => {
        const q = quantity(units, scale, 'KG')
        expect(parseDecimal(formatDecimal(q), scale, 'KG')).toEqual(q)
      }),
    )
  })

  it('add then subtract is the identity (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: -1e12, max: 1e12 }), (x, y) => {
        const a = quantity(x, 3, 'G')
        const b = quantity(y, 3, 'G')
        expect(subtract(add(a, b), b)).toEqual(a)
      }),
    )
  })
})

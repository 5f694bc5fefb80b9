import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { quantity } from '../model/quantity.ts'
import { convert, rational, UNITS } from './units.ts'

const box12 = { materialFactors: { BOX: rational(12n) } }

describe('unit conversion', () => {
  // Exact factors: 1 lb = 0.453 592 37 kg, 1 in = 0.0254 m (NIST SP 811, appendix B.8).
  it('converts mass and length exactly with the international factors', () => {
    expect(convert(quantity(100, 0, 'LB'), 'KG', { scale: 6 })).toEqual({
      units: 45359237,
      scale: 6,
      uom: 'KG',
    })
    expect(convert(quantity(1, 0, 'IN'), 'MM', { scale: 1 })).toEqual({ units: 254, scale: 1, uom: 'MM' })
    expect(convert(quantity(12345, 3, 'KG'), 'G', { scale: 0 })).toEqual({ units: 12345, scale: 0, uom: 'G' })
    expect(convert(quantity(250, 0, 'CM'), 'M', { scale: 1 })).toEqual({ units: 25, scale: 1, uom: 'M' })
    expect(convert(quantity(7, 0, 'MG'), 'G', { scale: 3 })).toEqual({ units: 7, scale: 3, uom: 'G' })
  })

  it('throws QLK_UNIT_CONVERSION naming the field when precision would be lost', () => {
    expect(() => convert(quantity(1, 0, 'LB'), 'KG', { scale: 3, field: '/data/quantity' })).toThrow(
      expect.objectContaining({
        code: 'QLK_UNIT_CONVERSION',
        errors: [
          { path: '/data/quantity', message: expect.stringMatching(/LB→KG would lose precision at scale 3/) },
        ],
      }),
    )
    expect(() => convert(quantity(1, 0, 'G'), 'KG')).toThrow(/not exactly representable in KG at scale 0/)
  })

  it('rounds only when asked, with the requested mode', () => {
    expect(convert(quantity(1, 0, 'LB'), 'KG', { scale: 3, rounding: 'half-even' }).units).toBe(454)
    const g = (u: number) => quantity(u, 0, 'G')
    expect(convert(g(500), 'KG', { rounding: 'half-even' }).units).toBe(0)
    expect(convert(g(1500), 'KG', { rounding: 'half-even' }).units).toBe(2)
    expect(convert(g(500), 'KG', { rounding: 'half-up' }).units).toBe(1)
    expect(convert(g(-1500), 'KG', { rounding: 'down' }).units).toBe(-2)
    expect(convert(g(-1500), 'KG', { rounding: 'up' }).units).toBe(-1)
    expect(convert(g(1499), 'KG', { rounding: 'half-up' }).units).toBe(1)
  })

  it('uses per-material factors for packs and refuses a pack without one', () => {
    expect(convert(quantity(3, 0, 'BOX'), 'EA', box12)).toEqual({ units: 36, scale: 0, uom: 'EA' })
    expect(convert(quantity(6, 0, 'PC'), 'BOX', { ...box12, scale: 1 })).toEqual({
      units: 5,
      scale: 1,
      uom: 'BOX',
    })
    expect(() => convert(quantity(3, 0, 'BOX'), 'EA')).toThrow(/BOX needs a per-material factor/)
  })

  it('refuses crossing dimensions and unknown units', () => {
    expect(() => convert(quantity(1, 0, 'KG'), 'M')).toThrow(/mass.*length/)
    expect(() => convert(quantity(1, 0, 'KG'), 'TON')).toThrow(/unknown unit TON/)
  })
})

const byDimension = (d: string) => Object.keys(UNITS).filter((u) => UNITS[u]!.dimension === d)
const unitPair = fc
  .constantFrom('mass', 'length', 'count')
  .chain((d) => fc.tuple(fc.constantFrom(...byDimension(d)), fc.constantFrom(...byDimension(d))))

describe('unit conversion round trips (property)', () => {
  it('an exact conversion converts back to the same quantity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e9, max: 1e9 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        unitPair,
        (units, fromScale, toScale, [a, b]) => {
          const q = quantity(units, fromScale, a)
          let there: ReturnType<typeof convert>
          try {
            there = convert(q, b, { ...box12, scale: toScale })
          } catch (e) {
            expect((e as { code?: string }).code).toBe('QLK_UNIT_CONVERSION')
            return
          }
          expect(convert(there, a, { ...box12, scale: fromScale })).toEqual(q)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('coarse → fine (KG→G, M→MM, BOX→EA) is always exact and round-trips', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e9, max: 1e9 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(['KG', 'G'], ['M', 'MM'], ['BOX', 'EA'], ['IN', 'MM']),
        (units, scale, [a, b]) => {
          const q = quantity(units, scale, a!)
          const fine = convert(q, b!, { ...box12, scale: scale + 1 })
          expect(convert(fine, a!, { ...box12, scale })).toEqual(q)
        },
      ),
    )
  })

  it('half-even rounding stays within half a step of the exact value', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), (units) => {
        const lb = quantity(units, 3, 'LB')
        const kg = convert(lb, 'KG', { scale: 3, rounding: 'half-even' })
        // exact value in 1e-11 kg: units × 45359237 (LB steps 1e-3 × factor 1e-8)
        const exact = BigInt(units) * 45359237n
        const diff = BigInt(kg.units) * 100_000_000n - exact
        expect(2n * (diff < 0n ? -diff : diff) <= 100_000_000n).toBe(true)
      }),
    )
  })
})

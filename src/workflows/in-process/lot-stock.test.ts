import { describe, expect, it } from 'vitest'
import type { PermanentError } from '../../engine/errors.ts'
import { planLines } from './lot-stock.ts'

const pc = (n: number) => ({ units: n, scale: 0, uom: 'PC' })
/** blocked stock as the S/4 connector reads it: 3 decimals */
const blocked10 = { units: 10_000, scale: 3, uom: 'PC' }

const failure = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    return { code: (e as PermanentError).code, message: (e as Error).message }
  }
  return { code: 'no error', message: '' }
}

describe('planLines', () => {
  it('sends each code to its bucket out of blocked stock; rework stays blocked', () => {
    const plan = planLines(
      'NC-1',
      [
        { code: 'USE_AS_IS', quantity: pc(5) },
        { code: 'SCRAP', quantity: pc(2) },
        { code: 'REWORK', quantity: pc(2) },
        { code: 'RETURN_TO_VENDOR', quantity: pc(1) },
      ],
      blocked10,
    )
    expect(plan.map((p) => [p.line, p.code, p.to])).toEqual([
      [1, 'USE_AS_IS', 'unrestricted'],
      [2, 'SCRAP', 'scrap'],
      [3, 'REWORK', 'blocked'],
      [4, 'RETURN_TO_VENDOR', 'returned'],
    ])
  })

  it('accepts lines adding up to less than what was blocked', () => {
    expect(planLines('NC-1', [{ code: 'RELEASE', quantity: pc(4) }], blocked10)).toHaveLength(1)
  })

  it('names the first line whose running total exceeds the blocked quantity', () => {
    const f = failure(() =>
      planLines(
        'NC-1',
        [
          { code: 'USE_AS_IS', quantity: pc(8) },
          { code: 'SCRAP', quantity: pc(3) },
          { code: 'REWORK', quantity: pc(1) },
        ],
        blocked10,
      ),
    )
    expect(f.code).toBe('QLK_DISPOSITION_EXCEEDS_BLOCKED')
    expect(f.message).toContain('line 2 (SCRAP 3 PC)')
    expect(f.message).toContain('11 PC, more than the 10.000 PC blocked')
  })

  it('refuses a code with no posting out of blocked stock, naming the line', () => {
    const f = failure(() =>
      planLines(
        'NC-1',
        [
          { code: 'SCRAP', quantity: pc(1) },
          { code: 'SAMPLE_CONSUMED', quantity: pc(1) },
        ],
        blocked10,
      ),
    )
    expect(f.code).toBe('QLK_VALIDATION')
    expect(f.message).toContain('line 2 (SAMPLE_CONSUMED)')
  })

  it('refuses lines in another unit than the blocked stock', () => {
    const f = failure(() =>
      planLines('NC-1', [{ code: 'SCRAP', quantity: { units: 1, scale: 0, uom: 'KG' } }], blocked10),
    )
    expect(f.code).toBe('QLK_UNIT_CONVERSION')
  })
})

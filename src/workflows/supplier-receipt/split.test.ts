import { describe, expect, it } from 'vitest'
import type { PermanentError } from '../../engine/errors.ts'
import type { StockSplitLine } from '../ports/erp.ts'
import { allocate, planCompensation, type Receipt, sameDocument } from './split.ts'

const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'KG' })
const line = (bucket: StockSplitLine['bucket'], n: number): StockSplitLine => ({ bucket, quantity: kg(n) })
const receipt = (id: string, n: number): Receipt => ({
  document: { id, year: 2026, item: '1' },
  erpInspectionLot: `01${id}`,
  quantity: kg(n),
})

const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    return (e as PermanentError).code
  }
  return 'no error'
}

describe('allocate', () => {
  it('fills the receipts in order and cuts a line where a receipt is full', () => {
    const out = allocate([line('release', 70), line('scrap', 30)], [receipt('A', 60), receipt('B', 40)])
    expect(out).toEqual([[line('release', 60)], [line('release', 10), line('scrap', 30)]])
  })

  it('refuses a decision that does not cover exactly the received quantity', () => {
    expect(code(() => allocate([line('release', 90)], [receipt('A', 60), receipt('B', 40)]))).toBe(
      'QLK_DECISION_QUANTITY_MISMATCH',
    )
  })

  it('refuses mixed units instead of converting', () => {
    const pc: StockSplitLine = { bucket: 'release', quantity: { units: 60, scale: 0, uom: 'PC' } }
    expect(code(() => allocate([pc], [receipt('A', 60)]))).toBe('QLK_UNIT_CONVERSION')
  })
})

describe('planCompensation', () => {
  it('moves only the difference: release 100 → release 60, block 30, scrap 10', () => {
    const plan = planCompensation(
      [line('release', 100)],
      [line('release', 60), line('block', 30), line('scrap', 10)],
      'L',
    )
    expect(plan.transfers).toEqual([
      { from: 'unrestricted', to: 'blocked', quantity: kg(30) },
      { from: 'unrestricted', to: 'scrap', quantity: kg(10) },
    ])
  })

  it('an unchanged split posts nothing', () => {
    const split = [line('release', 60), line('block', 40)]
    expect(planCompensation(split, [...split].reverse(), 'L').transfers).toEqual([])
  })

  it('pairs decreases with increases in a fixed order, one source feeding several targets', () => {
    const plan = planCompensation(
      [line('release', 50), line('block', 50)],
      [line('return', 70), line('scrap', 30)],
      'L',
    )
    expect(plan.transfers).toEqual([
      { from: 'unrestricted', to: 'scrap', quantity: kg(30) },
      { from: 'unrestricted', to: 'returned', quantity: kg(20) },
      { from: 'blocked', to: 'returned', quantity: kg(50) },
    ])
    expect(plan.delta).toEqual({ unrestricted: -50_000, blocked: -50_000, returned: 70_000, scrap: 30_000 })
  })

  it('refuses to bring back what left stock (scrapped, returned, sampled, regraded)', () => {
    expect(code(() => planCompensation([line('scrap', 10)], [line('release', 10)], 'L'))).toBe(
      'QLK_COMPENSATION_IMPOSSIBLE',
    )
    expect(code(() => planCompensation([line('regrade', 10)], [line('block', 10)], 'L'))).toBe(
      'QLK_COMPENSATION_IMPOSSIBLE',
    )
  })

  it('refuses a change that covers a different quantity', () => {
    expect(code(() => planCompensation([line('release', 10)], [line('block', 12)], 'L'))).toBe(
      'QLK_DECISION_QUANTITY_MISMATCH',
    )
  })
})

describe('sameDocument', () => {
  it('matches on number, and on year and item where both sides name them', () => {
    expect(sameDocument({ id: '49', year: 2026, item: '1' }, { id: '49' })).toBe(true)
    expect(sameDocument({ id: '49', year: 2026 }, { id: '49', year: 2025 })).toBe(false)
    expect(sameDocument({ id: '49', item: '1' }, { id: '49', item: '2' })).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import { formatReport, inversions, reconcile } from './report.ts'

/** The reconciliation every fault scenario's invariants rest on. */
describe('fault report reconciliation', () => {
  it('counts lost, duplicate events and effects, inversions and time to recover', () => {
    const o = {
      acked: ['a', 'b', 'c', 'c'],
      stored: ['a', 'c', 'c', 'd'],
      effects: ['K1/x', 'K1/y', 'K1/x'],
      applied: { K1: [1, 2, 3], K2: [3, 1, 2] },
      faultEndedAt: 1000,
      recoveredAt: 1250,
    }
    const r = reconcile(o)
    expect(r).toEqual({
      acknowledged: 3,
      stored: 3,
      lost: ['b'],
      duplicates: { 'event:c': 2, 'K1/x': 2 },
      inversions: { K2: 2 },
      recoverMs: 250,
    })
    expect(formatReport('S', r, o)).toBe(
      '[fault-report] S: acknowledged=3 stored=3 lost=1 effects=3/2 keys duplicates=event:c×2,K1/x×2 inversions=K2×2 recover=250ms',
    )
  })

  it('says NOT RECOVERED when a fault ended and nothing succeeded after it', () => {
    const o = { acked: [], stored: [], faultEndedAt: 5 }
    expect(reconcile(o).recoverMs).toBeUndefined()
    expect(formatReport('S', reconcile(o), o)).toContain('recover=NOT RECOVERED')
  })

  it('counts inverted pairs, not just adjacent ones', () => {
    expect(inversions([1, 2, 3])).toBe(0)
    expect(inversions([3, 2, 1])).toBe(3)
    expect(inversions([])).toBe(0)
  })
})

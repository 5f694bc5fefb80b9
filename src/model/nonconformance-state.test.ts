import { describe, expect, it } from 'vitest'
import {
  applyNonconformanceEvent,
  type NonconformanceEvent,
  type NonconformanceState,
  newNonconformance,
} from './nonconformance-state.ts'
import { quantity } from './quantity.ts'

function run(state: NonconformanceState, ...events: NonconformanceEvent[]): NonconformanceState {
  return events.reduce((s, e) => {
    const out = applyNonconformanceEvent(s, e)
    if (out.parked) throw new Error(out.reason)
    return out.state
  }, state)
}

const kg = (u: number) => quantity(u, 3, 'KG')
// IFS MRB example: 50 units, 25 approved (use as is) and 25 scrapped (reference/quality-domain.md §5)
const split: NonconformanceEvent = {
  type: 'disposition',
  lines: [
    { code: 'USE_AS_IS', quantity: kg(25000) },
    { code: 'SCRAP', quantity: kg(25000) },
  ],
}

describe('nonconformance state machine', () => {
  it('walks open → contained → under_review → dispositioned → disposition_executed → closed', () => {
    const s = run(
      newNonconformance('NC-1', kg(50000)),
      { type: 'contain' },
      { type: 'start_review' },
      split,
      { type: 'confirm_execution' },
      { type: 'close' },
    )
    expect(s.status).toBe('closed')
    expect(s.dispositionLines).toHaveLength(2)
  })

  it('refuses split lines that do not sum to the nonconforming quantity', () => {
    const s = run(newNonconformance('NC-2', kg(50000)), { type: 'contain' }, { type: 'start_review' })
    expect(() =>
      applyNonconformanceEvent(s, { type: 'disposition', lines: [{ code: 'SCRAP', quantity: kg(49999) }] }),
    ).toThrow(
      expect.objectContaining({
        code: 'QLK_CONSERVATION',
        message: expect.stringMatching(/49.999 KG.*50.000 KG/),
      }),
    )
  })

  it('cancels from any pre-close state only with a reason', () => {
    expect(
      run(newNonconformance('NC-3'), { type: 'contain' }, { type: 'cancel', reason: 'duplicate of NC-1' })
        .status,
    ).toBe('cancelled')
    expect(() => run(newNonconformance('NC-4'), { type: 'cancel', reason: '' })).toThrow(
      expect.objectContaining({
        code: 'QLK_VALIDATION',
        errors: [{ path: '/reason', message: 'must be a non-empty reason' }],
      }),
    )
  })

  it.each([
    [[] as NonconformanceEvent[], { type: 'start_review' }, 'open'],
    [[] as NonconformanceEvent[], split, 'open'],
    [[{ type: 'contain' }], { type: 'close' }, 'contained'],
    [[{ type: 'contain' }, { type: 'cancel', reason: 'r' }], { type: 'contain' }, 'cancelled'],
    [
      [{ type: 'contain' }, { type: 'cancel', reason: 'r' }],
      { type: 'cancel', reason: 'again' },
      'cancelled',
    ],
  ] as [NonconformanceEvent[], NonconformanceEvent, string][])(
    'refuses %j then %j',
    (before, attempted, state) => {
      const s = run(newNonconformance('NC-9', kg(50000)), ...before)
      expect(() => applyNonconformanceEvent(s, attempted)).toThrow(
        new RegExp(`nonconformance NC-9 is '${state}': ${attempted.type} is not allowed`),
      )
    },
  )

  it('parks stale events', () => {
    const s = run(newNonconformance('NC-5'), { type: 'contain', sequence: 3 })
    expect(applyNonconformanceEvent(s, { type: 'start_review', sequence: 2 })).toMatchObject({
      parked: true,
      code: 'QLK_STALE_SEQUENCE',
    })
  })
})

import { describe, expect, it } from 'vitest'
import {
  applyInspectionLotEvent,
  type InspectionLotEvent,
  type InspectionLotState,
  newInspectionLot,
} from './inspection-lot-state.ts'

function run(state: InspectionLotState, ...events: InspectionLotEvent[]): InspectionLotState {
  return events.reduce((s, e) => {
    const out = applyInspectionLotEvent(s, e)
    if (out.parked) throw new Error(out.reason)
    return out.state
  }, state)
}

const UD = { type: 'make_usage_decision', code: 'A1', valuation: 'accepted' } as const

describe('inspection lot state machine (SAP CRTD → … → SPCO, reference §1.2)', () => {
  it('walks the main path to stock posting completed', () => {
    const s = run(
      newInspectionLot('IL-1', true),
      { type: 'release' },
      { type: 'start_inspection' },
      { type: 'record_result' },
      { type: 'confirm_results' },
      UD,
      { type: 'require_stock_posting' },
      { type: 'complete_stock_posting' },
    )
    expect(s.status).toBe('stock_posting_completed')
    expect(s.usageDecision).toEqual({ code: 'A1', valuation: 'accepted', revision: 1 })
  })

  it('takes the skip path: REL → SKIP → UD', () => {
    expect(run(newInspectionLot('IL-2', true), { type: 'release' }, { type: 'skip' }, UD).status).toBe(
      'usage_decision',
    )
  })

  it('a first result starts the inspection', () => {
    expect(run(newInspectionLot('IL-3', true), { type: 'release' }, { type: 'record_result' }).status).toBe(
      'in_inspection',
    )
  })

  it('cancels through marked_for_cancellation, with a reason', () => {
    const s = run(
      newInspectionLot('IL-4', true),
      { type: 'release' },
      { type: 'mark_for_cancellation', reason: 'wrong PO' },
      { type: 'cancel' },
    )
    expect(s.status).toBe('cancelled')
    expect(s.cancellationReason).toBe('wrong PO')
    expect(() =>
      run(newInspectionLot('IL-4b', true), { type: 'mark_for_cancellation', reason: ' ' }),
    ).toThrow(/reason is required/)
  })

  it('changes a usage decision as a legal transition, keeping the earlier value', () => {
    const posted = run(
      newInspectionLot('IL-5', true),
      { type: 'release' },
      { type: 'skip' },
      UD,
      { type: 'require_stock_posting' },
      { type: 'complete_stock_posting' },
    )
    const changed = run(posted, {
      type: 'change_usage_decision',
      code: 'R1',
      valuation: 'rejected',
      reason: 'late lab result',
    })
    expect(changed.status).toBe('stock_posting_completed')
    expect(changed.usageDecision).toEqual({ code: 'R1', valuation: 'rejected', revision: 2 })
    expect(changed.previousDecisions).toEqual([{ code: 'A1', valuation: 'accepted', revision: 1 }])
  })

  it.each([
    ['created', [] as InspectionLotEvent[], UD],
    ['released', [{ type: 'release' }], { type: 'confirm_results' }],
    ['in_inspection', [{ type: 'release' }, { type: 'start_inspection' }], UD],
    ['usage_decision', [{ type: 'release' }, { type: 'skip' }, UD], { type: 'record_result' }],
    [
      'usage_decision',
      [{ type: 'release' }, { type: 'skip' }, UD],
      { type: 'mark_for_cancellation', reason: 'x' },
    ],
    ['created', [], { type: 'change_usage_decision', code: 'X', valuation: 'accepted', reason: 'x' }],
    ['created', [], { type: 'cancel' }],
    ['usage_decision', [{ type: 'release' }, { type: 'skip' }, UD], { type: 'complete_stock_posting' }],
  ] as [string, InspectionLotEvent[], InspectionLotEvent][])(
    'refuses an illegal transition from %s naming lot, state and event',
    (state, before, attempted) => {
      const s = run(newInspectionLot('IL-9', true), ...before)
      expect(s.status).toBe(state)
      expect(() => applyInspectionLotEvent(s, attempted)).toThrow(
        expect.objectContaining({
          code: 'QLK_ILLEGAL_TRANSITION',
          message: expect.stringMatching(new RegExp(`inspection_lot IL-9 is '${state}': ${attempted.type}`)),
        }),
      )
    },
  )

  it('refuses stock posting for a lot that is not stock-relevant (origin 03)', () => {
    const s = run(newInspectionLot('IL-10', false), { type: 'release' }, { type: 'skip' }, UD)
    expect(() => applyInspectionLotEvent(s, { type: 'require_stock_posting' })).toThrow(/not stock-relevant/)
  })

  it('parks an event whose sequence is older than the state', () => {
    const s = run(newInspectionLot('IL-11', true), { type: 'release', sequence: 5 })
    const out = applyInspectionLotEvent(s, { type: 'start_inspection', sequence: 4 })
    expect(out).toMatchObject({ parked: true, code: 'QLK_STALE_SEQUENCE' })
    expect(out.parked && out.reason).toMatch(/inspection_lot IL-11.*sequence 4.*5/)
    const newer = applyInspectionLotEvent(s, { type: 'start_inspection', sequence: 6 })
    expect(newer.parked === false && newer.state.lastSequence).toBe(6)
  })
})

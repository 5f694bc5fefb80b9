/**
 * Every state × every event of each canonical state machine (issue 4: "every state machine's legal
 * and illegal transitions"). The legal transitions are written out here from the lifecycles in
 * docs/canonical-model.md §3 (reference/quality-domain.md §1.2, §5), independently of the
 * machines' own tables; every pair not listed must be refused with QLK_ILLEGAL_TRANSITION naming
 * the object, its current state and the attempted event, and leave no state behind.
 */
import { describe, expect, it } from 'vitest'
import type { QualinkError } from '../contracts/errors.ts'
import { applyDeliveryBlockEvent, applyProductionOrderHoldEvent } from './hold-state.ts'
import { INSPECTION_LOT_STATES } from './inspection.ts'
import {
  applyInspectionLotEvent,
  type InspectionLotEvent,
  type InspectionLotState,
  newInspectionLot,
} from './inspection-lot-state.ts'
import { NC_STATES } from './nonconformance.ts'
import {
  applyNonconformanceEvent,
  type NonconformanceEvent,
  newNonconformance,
} from './nonconformance-state.ts'
import type { Outcome } from './state-machine.ts'

const kg = (units: number) => ({ units, scale: 3, uom: 'KG' })

/** Applies `event` in `state`: the state reached, or the refusal's code and message. */
function attempt<S extends { status: string }>(apply: () => Outcome<S>): string {
  try {
    const out = apply()
    if (out.parked) return `parked ${out.code}`
    return `-> ${out.state.status}`
  } catch (e) {
    const err = e as QualinkError
    return `${err.code}: ${err.message}`
  }
}

/**
 * Checks the whole matrix. `legal` lists `from --event--> to`; everything else must be refused
 * naming `<type> <id> is '<from>': <event> is not allowed`.
 */
function checkMatrix(
  kind: string,
  id: string,
  states: readonly string[],
  events: readonly string[],
  legal: readonly string[],
  run: (state: string, event: string) => string,
): void {
  const expected = new Map(
    legal.map((l) => {
      const m = /^(\w+) --(\w+)--> (\w+)$/.exec(l)
      if (!m) throw new Error(`bad legal line ${l}`)
      return [`${m[1]} ${m[2]}`, `-> ${m[3]}`]
    }),
  )
  const got: string[] = []
  const want: string[] = []
  for (const s of states) {
    for (const e of events) {
      got.push(`${s} ${e}: ${run(s, e)}`)
      want.push(
        `${s} ${e}: ${expected.get(`${s} ${e}`) ?? `QLK_ILLEGAL_TRANSITION: ${kind} ${id} is '${s}': ${e} is not allowed`}`,
      )
    }
  }
  expect(got).toEqual(want)
  // every listed transition names a real state and event (a typo would silently shrink the check)
  for (const key of expected.keys()) {
    const [s, e] = key.split(' ')
    expect(states, key).toContain(s)
    expect(events, key).toContain(e)
  }
}

describe('inspection lot: every state × every event', () => {
  const EVENTS: Record<InspectionLotEvent['type'], InspectionLotEvent> = {
    release: { type: 'release' },
    skip: { type: 'skip' },
    start_inspection: { type: 'start_inspection' },
    record_result: { type: 'record_result' },
    confirm_results: { type: 'confirm_results' },
    make_usage_decision: { type: 'make_usage_decision', code: 'A1', valuation: 'accepted' },
    change_usage_decision: {
      type: 'change_usage_decision',
      code: 'R1',
      valuation: 'rejected',
      reason: 'late lab result',
    },
    require_stock_posting: { type: 'require_stock_posting' },
    complete_stock_posting: { type: 'complete_stock_posting' },
    mark_for_cancellation: { type: 'mark_for_cancellation', reason: 'wrong purchase order' },
    cancel: { type: 'cancel' },
  }
  const HAS_DECISION = ['usage_decision', 'stock_posting_required', 'stock_posting_completed']
  const lotIn = (status: string): InspectionLotState => ({
    ...newInspectionLot('IL-M', true),
    status: status as InspectionLotState['status'],
    ...(HAS_DECISION.includes(status)
      ? { usageDecision: { code: 'A1', valuation: 'accepted', revision: 1 } as const }
      : {}),
  })
  const PRE_DECISION = ['created', 'released', 'skipped', 'in_inspection', 'results_confirmed']

  it('allows exactly the documented transitions and refuses every other, naming lot, state and event', () => {
    checkMatrix(
      'inspection_lot',
      'IL-M',
      INSPECTION_LOT_STATES,
      Object.keys(EVENTS),
      [
        'created --release--> released',
        'created --skip--> skipped',
        'released --skip--> skipped',
        'released --start_inspection--> in_inspection',
        'released --record_result--> in_inspection',
        'in_inspection --record_result--> in_inspection',
        'in_inspection --confirm_results--> results_confirmed',
        'results_confirmed --make_usage_decision--> usage_decision',
        'skipped --make_usage_decision--> usage_decision',
        'usage_decision --require_stock_posting--> stock_posting_required',
        'stock_posting_required --complete_stock_posting--> stock_posting_completed',
        ...HAS_DECISION.map((s) => `${s} --change_usage_decision--> ${s}`),
        ...PRE_DECISION.map((s) => `${s} --mark_for_cancellation--> marked_for_cancellation`),
        'marked_for_cancellation --cancel--> cancelled',
      ],
      (s, e) => attempt(() => applyInspectionLotEvent(lotIn(s), EVENTS[e as keyof typeof EVENTS])),
    )
  })

  it('parks an older sequence in every state instead of applying or refusing it', () => {
    for (const s of INSPECTION_LOT_STATES) {
      for (const e of Object.values(EVENTS)) {
        const out = applyInspectionLotEvent({ ...lotIn(s), lastSequence: 7 }, { ...e, sequence: 6 })
        expect(out, `${s} ${e.type}`).toMatchObject({ parked: true, code: 'QLK_STALE_SEQUENCE' })
      }
    }
  })
})

describe('nonconformance: every state × every event', () => {
  const EVENTS: Record<NonconformanceEvent['type'], NonconformanceEvent> = {
    contain: { type: 'contain' },
    start_review: { type: 'start_review' },
    disposition: {
      type: 'disposition',
      lines: [
        { code: 'USE_AS_IS', quantity: kg(25_000) },
        { code: 'SCRAP', quantity: kg(25_000) },
      ],
    },
    confirm_execution: { type: 'confirm_execution' },
    close: { type: 'close' },
    cancel: { type: 'cancel', reason: 'raised twice' },
  }
  const ncIn = (status: string) => ({
    ...newNonconformance('NC-M', kg(50_000)),
    status: status as (typeof NC_STATES)[number],
  })

  it('allows exactly the documented transitions and refuses every other, naming the NC, state and event', () => {
    checkMatrix(
      'nonconformance',
      'NC-M',
      NC_STATES,
      Object.keys(EVENTS),
      [
        'open --contain--> contained',
        'contained --start_review--> under_review',
        'under_review --disposition--> dispositioned',
        'dispositioned --confirm_execution--> disposition_executed',
        'disposition_executed --close--> closed',
        ...['open', 'contained', 'under_review', 'dispositioned', 'disposition_executed'].map(
          (s) => `${s} --cancel--> cancelled`,
        ),
      ],
      (s, e) => attempt(() => applyNonconformanceEvent(ncIn(s), EVENTS[e as keyof typeof EVENTS])),
    )
  })
})

describe('production order hold and delivery block: every state × every event', () => {
  it('holds a released order and releases a held one; refuses the rest naming the order', () => {
    const events = { hold: { type: 'hold', reason: 'NC-1' }, release_hold: { type: 'release_hold' } } as const
    checkMatrix(
      'production_order',
      'PO-M',
      ['released', 'on_hold'],
      Object.keys(events),
      ['released --hold--> on_hold', 'on_hold --release_hold--> released'],
      (s, e) =>
        attempt(() =>
          applyProductionOrderHoldEvent(
            { ref: { type: 'production_order', id: 'PO-M' }, status: s as 'released' | 'on_hold' },
            events[e as keyof typeof events],
          ),
        ),
    )
  })

  it('blocks an unblocked delivery and unblocks a blocked one; refuses the rest naming the delivery', () => {
    const events = { block: { type: 'block', reason: 'NC-1' }, unblock: { type: 'unblock' } } as const
    checkMatrix(
      'delivery',
      'DL-M',
      ['unblocked', 'blocked'],
      Object.keys(events),
      ['unblocked --block--> blocked', 'blocked --unblock--> unblocked'],
      (s, e) =>
        attempt(() =>
          applyDeliveryBlockEvent(
            { ref: { type: 'delivery', id: 'DL-M' }, status: s as 'blocked' | 'unblocked' },
            events[e as keyof typeof events],
          ),
        ),
    )
  })
})

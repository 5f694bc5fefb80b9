import { QualinkError } from '../contracts/errors.ts'
import { requireReason } from './inspection-lot-state.ts'
import type { DispositionLine, NonconformanceStatus } from './nonconformance.ts'
import { add, compare, formatDecimal, type Quantity } from './quantity.ts'
import {
  applyTable,
  nextSequence,
  type ObjectRef,
  type Outcome,
  type SequencedEvent,
  staleness,
} from './state-machine.ts'

export interface NonconformanceState {
  readonly ref: ObjectRef
  readonly status: NonconformanceStatus
  /** Nonconforming quantity, when known; disposition lines must add up to it exactly. */
  readonly quantity?: Quantity
  readonly lastSequence?: number
  readonly dispositionLines?: readonly DispositionLine[]
  readonly cancellationReason?: string
}

export type NonconformanceEvent = SequencedEvent &
  (
    | { readonly type: 'contain' }
    | { readonly type: 'start_review' }
    | { readonly type: 'disposition'; readonly lines: readonly DispositionLine[] }
    | { readonly type: 'confirm_execution' }
    | { readonly type: 'close' }
    | { readonly type: 'cancel'; readonly reason: string }
  )

type S = NonconformanceStatus
const PRE_CLOSE: readonly S[] = ['open', 'contained', 'under_review', 'dispositioned', 'disposition_executed']

/** Canonical NC lifecycle (reference/quality-domain.md §5): a synthesis of MRB practice, ERPNext and Odoo. */
const TABLE: Readonly<Record<string, Partial<Record<S, S>>>> = {
  contain: { open: 'contained' },
  start_review: { contained: 'under_review' },
  disposition: { under_review: 'dispositioned' },
  confirm_execution: { dispositioned: 'disposition_executed' },
  close: { disposition_executed: 'closed' },
  cancel: Object.fromEntries(PRE_CLOSE.map((s) => [s, 'cancelled'])),
}

export function newNonconformance(id: string, quantity?: Quantity): NonconformanceState {
  return quantity
    ? { ref: { type: 'nonconformance', id }, status: 'open', quantity }
    : { ref: { type: 'nonconformance', id }, status: 'open' }
}

/** Split lines must sum exactly to the nonconforming quantity (IFS MRB: 25 approved + 25 scrapped). */
export function checkDispositionLines(
  ref: ObjectRef,
  lines: readonly DispositionLine[],
  total?: Quantity,
): void {
  if (lines.length === 0) {
    throw new QualinkError('QLK_VALIDATION', `${ref.type} ${ref.id}: a disposition needs at least one line`, [
      { path: '/lines', message: 'must have at least one line' },
    ])
  }
  lines.forEach((l, i) => {
    if (l.quantity.units <= 0) {
      throw new QualinkError(
        'QLK_CONSERVATION',
        `${ref.type} ${ref.id}: line ${i} quantity must be positive`,
        [{ path: `/lines/${i}/quantity/units`, message: 'must be > 0' }],
      )
    }
  })
  if (!total) return
  const first = lines[0]!.quantity
  const summed = lines.slice(1).reduce((acc, l, i) => add(acc, l.quantity, `/lines/${i + 1}/quantity`), first)
  if (compare(summed, total, '/lines') !== 0) {
    throw new QualinkError(
      'QLK_CONSERVATION',
      `${ref.type} ${ref.id}: disposition lines sum to ${formatDecimal(summed)} ${summed.uom}, nonconforming quantity is ${formatDecimal(total)} ${total.uom}`,
      [{ path: '/lines', message: 'line quantities must sum to the nonconforming quantity' }],
    )
  }
}

export function applyNonconformanceEvent(
  state: NonconformanceState,
  event: NonconformanceEvent,
): Outcome<NonconformanceState> {
  const stale = staleness(state, event)
  if (stale) return stale
  const status = applyTable(state.ref, state.status, event, TABLE)
  const base = { ...state, status, lastSequence: nextSequence(state, event) }
  if (event.type === 'cancel') {
    requireReason(state.ref, event.reason, '/reason')
    return { parked: false, state: { ...base, cancellationReason: event.reason } }
  }
  if (event.type === 'disposition') {
    checkDispositionLines(state.ref, event.lines, state.quantity)
    return { parked: false, state: { ...base, dispositionLines: event.lines } }
  }
  return { parked: false, state: base }
}

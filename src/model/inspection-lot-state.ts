import { QualinkError } from '../contracts/errors.ts'
import type { InspectionLotStatus } from './inspection.ts'
import {
  applyTable,
  illegalTransition,
  nextSequence,
  type ObjectRef,
  type Outcome,
  type SequencedEvent,
  staleness,
} from './state-machine.ts'

export interface UsageDecisionRecord {
  readonly code: string
  readonly valuation: 'accepted' | 'rejected'
  /** 1 for the first decision, +1 per qms.usage_decision.changed */
  readonly revision: number
}

export interface InspectionLotState {
  readonly ref: ObjectRef
  readonly status: InspectionLotStatus
  readonly stockRelevant: boolean
  readonly lastSequence?: number
  readonly usageDecision?: UsageDecisionRecord
  /** Earlier decisions, oldest first; a change never obscures the earlier value (21 CFR 11.10(e)). */
  readonly previousDecisions: readonly UsageDecisionRecord[]
  readonly cancellationReason?: string
}

export type InspectionLotEvent = SequencedEvent &
  (
    | { readonly type: 'release' }
    | { readonly type: 'skip' }
    | { readonly type: 'start_inspection' }
    | { readonly type: 'record_result' }
    | { readonly type: 'confirm_results' }
    | {
        readonly type: 'make_usage_decision'
        readonly code: string
        readonly valuation: 'accepted' | 'rejected'
      }
    | {
        readonly type: 'change_usage_decision'
        readonly code: string
        readonly valuation: 'accepted' | 'rejected'
        readonly reason: string
      }
    | { readonly type: 'require_stock_posting' }
    | { readonly type: 'complete_stock_posting' }
    | { readonly type: 'mark_for_cancellation'; readonly reason: string }
    | { readonly type: 'cancel' }
  )

type S = InspectionLotStatus
const PRE_DECISION: readonly S[] = ['created', 'released', 'skipped', 'in_inspection', 'results_confirmed']

/**
 * SAP's usual progression (reference/quality-domain.md §1.2): CRTD → REL → INSP → RREC → UD → SPRQ
 * → SPCO; REL → SKIP → UD; any pre-decision status → MCAN → LTCA. Results are frozen once a usage
 * decision exists, so `record_result` is legal only before confirmation.
 */
const TABLE: Readonly<Record<string, Partial<Record<S, S>>>> = {
  release: { created: 'released' },
  skip: { created: 'skipped', released: 'skipped' },
  start_inspection: { released: 'in_inspection' },
  record_result: { released: 'in_inspection', in_inspection: 'in_inspection' },
  confirm_results: { in_inspection: 'results_confirmed' },
  make_usage_decision: { results_confirmed: 'usage_decision', skipped: 'usage_decision' },
  // A change keeps the posting status: stock already posted is corrected by its own stock events.
  change_usage_decision: {
    usage_decision: 'usage_decision',
    stock_posting_required: 'stock_posting_required',
    stock_posting_completed: 'stock_posting_completed',
  },
  require_stock_posting: { usage_decision: 'stock_posting_required' },
  complete_stock_posting: { stock_posting_required: 'stock_posting_completed' },
  mark_for_cancellation: Object.fromEntries(PRE_DECISION.map((s) => [s, 'marked_for_cancellation'])),
  cancel: { marked_for_cancellation: 'cancelled' },
}

export function newInspectionLot(id: string, stockRelevant: boolean): InspectionLotState {
  return { ref: { type: 'inspection_lot', id }, status: 'created', stockRelevant, previousDecisions: [] }
}

export function applyInspectionLotEvent(
  state: InspectionLotState,
  event: InspectionLotEvent,
): Outcome<InspectionLotState> {
  const stale = staleness(state, event)
  if (stale) return stale
  const status = applyTable(state.ref, state.status, event, TABLE)
  const base = { ...state, status, lastSequence: nextSequence(state, event) }
  switch (event.type) {
    case 'require_stock_posting':
      // Origin 03 lots are not stock-relevant (§1.1): nothing to post, UD is their end.
      if (!state.stockRelevant)
        throw illegalTransition(state.ref, state.status, event.type, 'lot is not stock-relevant')
      return { parked: false, state: base }
    case 'make_usage_decision':
      return {
        parked: false,
        state: { ...base, usageDecision: { code: event.code, valuation: event.valuation, revision: 1 } },
      }
    case 'change_usage_decision': {
      requireReason(state.ref, event.reason, '/reason')
      const prev = state.usageDecision
      if (!prev) throw illegalTransition(state.ref, state.status, event.type, 'no usage decision to change')
      return {
        parked: false,
        state: {
          ...base,
          usageDecision: { code: event.code, valuation: event.valuation, revision: prev.revision + 1 },
          previousDecisions: [...state.previousDecisions, prev],
        },
      }
    }
    case 'mark_for_cancellation':
      requireReason(state.ref, event.reason, '/reason')
      return { parked: false, state: { ...base, cancellationReason: event.reason } }
    default:
      return { parked: false, state: base }
  }
}

export function requireReason(ref: ObjectRef, reason: string | undefined, path: string): void {
  if (reason === undefined || reason.trim() === '') {
    throw new QualinkError('QLK_VALIDATION', `${ref.type} ${ref.id}: a reason is required`, [
      { path, message: 'must be a non-empty reason' },
    ])
  }
}

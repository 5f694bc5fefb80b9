import type { BlockState } from './customer.ts'
import type { HoldState } from './production.ts'
import {
  applyTable,
  nextSequence,
  type ObjectRef,
  type Outcome,
  type SequencedEvent,
  staleness,
} from './state-machine.ts'

/**
 * Two small machines that gate ERP execution: the production order quality hold (workflow b) and
 * the delivery block (workflows c, d). Holding a held order is refused rather than ignored, so a
 * duplicate effect shows up instead of silently passing.
 */
export interface ProductionOrderHoldState {
  readonly ref: ObjectRef
  readonly status: HoldState
  readonly reason?: string
  readonly lastSequence?: number
}

export type ProductionOrderHoldEvent = SequencedEvent &
  ({ readonly type: 'hold'; readonly reason: string } | { readonly type: 'release_hold' })

const HOLD_TABLE = {
  hold: { released: 'on_hold' },
  release_hold: { on_hold: 'released' },
} as const satisfies Record<string, Partial<Record<HoldState, HoldState>>>

export function newProductionOrderHold(id: string): ProductionOrderHoldState {
  return { ref: { type: 'production_order', id }, status: 'released' }
}

export function applyProductionOrderHoldEvent(
  state: ProductionOrderHoldState,
  event: ProductionOrderHoldEvent,
): Outcome<ProductionOrderHoldState> {
  const stale = staleness(state, event)
  if (stale) return stale
  const status = applyTable<HoldState, ProductionOrderHoldEvent>(state.ref, state.status, event, HOLD_TABLE)
  const reason = event.type === 'hold' ? event.reason : undefined
  return {
    parked: false,
    state: { ref: state.ref, status, reason, lastSequence: nextSequence(state, event) },
  }
}

export interface DeliveryBlockState {
  readonly ref: ObjectRef
  readonly status: BlockState
  readonly reason?: string
  readonly lastSequence?: number
}

export type DeliveryBlockEvent = SequencedEvent &
  ({ readonly type: 'block'; readonly reason: string } | { readonly type: 'unblock' })

const BLOCK_TABLE = {
  block: { unblocked: 'blocked' },
  unblock: { blocked: 'unblocked' },
} as const satisfies Record<string, Partial<Record<BlockState, BlockState>>>

/** Deliveries start blocked when the plant releases finished goods only through Qualink (workflow c). */
export function newDeliveryBlock(id: string, status: BlockState = 'blocked'): DeliveryBlockState {
  return { ref: { type: 'delivery', id }, status }
}

export function applyDeliveryBlockEvent(
  state: DeliveryBlockState,
  event: DeliveryBlockEvent,
): Outcome<DeliveryBlockState> {
  const stale = staleness(state, event)
  if (stale) return stale
  const status = applyTable<BlockState, DeliveryBlockEvent>(state.ref, state.status, event, BLOCK_TABLE)
  const reason = event.type === 'block' ? event.reason : undefined
  return {
    parked: false,
    state: { ref: state.ref, status, reason, lastSequence: nextSequence(state, event) },
  }
}

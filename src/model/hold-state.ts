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
interface GateState<S extends string> {
  readonly ref: ObjectRef
  readonly status: S
  readonly reason?: string
  readonly lastSequence?: number
}

export type ProductionOrderHoldState = GateState<HoldState>

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
  return applyGateEvent(state, event, HOLD_TABLE, 'hold')
}

export type DeliveryBlockState = GateState<BlockState>

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
  return applyGateEvent(state, event, BLOCK_TABLE, 'block')
}

/** Both gates: park stale events, move by the table, keep the reason only from the closing event (hold, block). */
function applyGateEvent<S extends string, E extends SequencedEvent & { readonly reason?: string }>(
  state: GateState<S>,
  event: E,
  table: Readonly<Record<string, Partial<Readonly<Record<S, S>>>>>,
  closing: E['type'],
): Outcome<GateState<S>> {
  const stale = staleness(state, event)
  if (stale) return stale
  const status = applyTable<S, E>(state.ref, state.status, event, table)
  const reason = event.type === closing ? event.reason : undefined
  return {
    parked: false,
    state: { ref: state.ref, status, reason, lastSequence: nextSequence(state, event) },
  }
}

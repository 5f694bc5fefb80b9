import { describe, expect, it } from 'vitest'
import { EVENT_EXAMPLES } from '../contracts/events/examples.ts'
import {
  applyDeliveryBlockEvent,
  applyProductionOrderHoldEvent,
  newDeliveryBlock,
  newProductionOrderHold,
} from './hold-state.ts'
import { applyInspectionLotEvent, type InspectionLotState, newInspectionLot } from './inspection-lot-state.ts'
import {
  deliveryBlockEventFrom,
  inspectionLotEventsFrom,
  productionOrderHoldEventFrom,
} from './qms-events.ts'

const ex = (type: string) => EVENT_EXAMPLES[type] as Record<string, unknown>

function feed(s: InspectionLotState, type: string, seq?: number): InspectionLotState {
  for (const e of inspectionLotEventsFrom(type, ex(type), seq)) {
    const out = applyInspectionLotEvent(s, e)
    if (out.parked) throw new Error(out.reason)
    s = out.state
  }
  return s
}

describe('canonical events → state machine events', () => {
  it('drives an inspection lot from QMS events', () => {
    const released = applyInspectionLotEvent(newInspectionLot('010000000123', true), { type: 'release' })
    if (released.parked) throw new Error(released.reason)
    const inInspection = feed(released.state, 'qms.result.recorded.v1', 1)
    expect(inInspection.status).toBe('in_inspection')
    const confirmed = applyInspectionLotEvent(inInspection, { type: 'confirm_results', sequence: 2 })
    if (confirmed.parked) throw new Error(confirmed.reason)
    const decided = feed(confirmed.state, 'qms.usage_decision.made.v1', 3)
    const changed = feed(decided, 'qms.usage_decision.changed.v1', 4)
    expect(changed.usageDecision).toEqual({ code: 'R1', valuation: 'rejected', revision: 2 })
    expect(changed.previousDecisions).toEqual([{ code: 'A1', valuation: 'accepted', revision: 1 }])
  })

  it('maps a reported cancellation to MCAN then LTCA', () => {
    const s = feed(newInspectionLot('010000000123', true), 'qms.inspection_lot.cancelled.v1', 5)
    expect(s).toMatchObject({ status: 'cancelled', cancellationReason: 'receipt reversed', lastSequence: 5 })
  })

  it('maps hold and block changes', () => {
    const hold = applyProductionOrderHoldEvent(
      newProductionOrderHold('1000456'),
      productionOrderHoldEventFrom(
        'erp.production_order.hold_changed.v1',
        ex('erp.production_order.hold_changed.v1'),
      ),
    )
    expect(hold).toMatchObject({ state: { status: 'on_hold' } })
    const block = applyDeliveryBlockEvent(
      newDeliveryBlock('80001234'),
      deliveryBlockEventFrom('erp.delivery.block_changed.v1', ex('erp.delivery.block_changed.v1')),
    )
    expect(block).toMatchObject({ state: { status: 'unblocked' } })
    expect(() => deliveryBlockEventFrom('erp.stock.posted.v1', {})).toThrow(
      expect.objectContaining({ code: 'QLK_UNKNOWN_EVENT_TYPE' }),
    )
  })
})

import { QualinkError } from '../contracts/errors.ts'
import type { DeliveryBlockEvent, ProductionOrderHoldEvent } from './hold-state.ts'
import type { InspectionLotEvent } from './inspection-lot-state.ts'

/**
 * Translates validated canonical events into state machine events. One canonical event may be
 * several transitions: a QMS reports a cancelled lot once, SAP's model is MCAN then LTCA.
 */
type Data = Readonly<Record<string, unknown>>

function unknownType(type: string, machine: string): QualinkError {
  return new QualinkError('QLK_UNKNOWN_EVENT_TYPE', `${type} does not drive the ${machine} state machine`, [
    { path: '/type', message: `not an event of the ${machine} machine` },
  ])
}

const str = (d: Data, k: string): string => String(d[k])
const valuation = (d: Data): 'accepted' | 'rejected' => (d.valuation === 'rejected' ? 'rejected' : 'accepted')

export function inspectionLotEventsFrom(type: string, data: Data, sequence?: number): InspectionLotEvent[] {
  const seq = sequence === undefined ? {} : { sequence }
  switch (type) {
    case 'qms.result.recorded.v1':
    case 'qms.result.recorded.v2':
      return [{ type: 'record_result', ...seq }]
    case 'qms.usage_decision.made.v1':
      return [{ type: 'make_usage_decision', code: str(data, 'code'), valuation: valuation(data), ...seq }]
    case 'qms.usage_decision.changed.v1':
      return [
        {
          type: 'change_usage_decision',
          code: str(data, 'code'),
          valuation: valuation(data),
          reason: str(data, 'reason'),
          ...seq,
        },
      ]
    case 'qms.inspection_lot.cancelled.v1':
      // Both carry the same sequence; the second is applied to the state the first produced, so
      // only the first is sequence-checked against older state.
      return [{ type: 'mark_for_cancellation', reason: str(data, 'reason'), ...seq }, { type: 'cancel' }]
    default:
      throw unknownType(type, 'inspection lot')
  }
}

export function productionOrderHoldEventFrom(
  type: string,
  data: Data,
  sequence?: number,
): ProductionOrderHoldEvent {
  if (type !== 'erp.production_order.hold_changed.v1') throw unknownType(type, 'production order hold')
  const seq = sequence === undefined ? {} : { sequence }
  return data.hold === 'on_hold'
    ? { type: 'hold', reason: typeof data.reason === 'string' ? data.reason : '', ...seq }
    : { type: 'release_hold', ...seq }
}

export function deliveryBlockEventFrom(type: string, data: Data, sequence?: number): DeliveryBlockEvent {
  if (type !== 'erp.delivery.block_changed.v1') throw unknownType(type, 'delivery block')
  const seq = sequence === undefined ? {} : { sequence }
  return data.block === 'blocked'
    ? { type: 'block', reason: typeof data.reason === 'string' ? data.reason : '', ...seq }
    : { type: 'unblock', ...seq }
}

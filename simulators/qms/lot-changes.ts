/**
 * What happens to an inspection lot after it was created, besides results and the decision:
 * its quantity changes (a further partial receipt of the batch), it is cancelled (the receipt was
 * reversed, or QA cancels it), or its usage decision is changed. A change keeps the replaced
 * decision on record and its webhook carries both splits, so a subscriber can post the difference.
 */
import type { Router } from '../shared/http.ts'
import { formatQuantity, parseQuantity, type QuantityError } from '../shared/quantity.ts'
import { obj, optionalNumber, qmsError, text } from './errors.ts'
import { decide, type Emit, lotView, parseUdInput, type UsageDecisionInput, udView } from './inspections.ts'
import type { QmsInspectionLot, QmsModel, UsageDecision } from './model.ts'

export function cancelLot(
  model: QmsModel,
  emit: Emit,
  lot: QmsInspectionLot,
  reason: string,
): QmsInspectionLot {
  if (!reason) throw qmsError(400, 'FIELD_REQUIRED', 'reason is required', 'reason')
  // Cancelling twice is a no-op, as in QMS UIs where the action is greyed out once done.
  if (lot.status === 'CANCELLED') return lot
  if (lot.status === 'DECIDED')
    throw qmsError(409, 'LOT_DECIDED', `inspection lot ${lot.id} has a usage decision; change it instead`)
  lot.status = 'CANCELLED'
  lot.cancelReason = reason
  lot.updatedAt = model.now()
  emit('inspection_lot.cancelled', { ...lotView(lot), reason })
  return lot
}

export function setLotQuantity(
  model: QmsModel,
  lot: QmsInspectionLot,
  input: Record<string, unknown>,
): QmsInspectionLot {
  if (lot.status === 'DECIDED' || lot.status === 'CANCELLED')
    throw qmsError(409, `LOT_${lot.status}`, `inspection lot ${lot.id} is ${lot.status.toLowerCase()}`)
  let quantity: number
  try {
    quantity = parseQuantity(input.quantity, 'quantity')
  } catch (err) {
    throw qmsError(400, 'FIELD_INVALID', (err as QuantityError).message, 'quantity')
  }
  if (quantity <= 0) throw qmsError(400, 'FIELD_INVALID', 'quantity must be > 0', 'quantity')
  lot.quantity = quantity
  lot.sampleSize = optionalNumber(input, 'sampleSize') ?? lot.sampleSize
  lot.updatedAt = model.now()
  return lot
}

export interface ChangeDecisionInput extends UsageDecisionInput {
  readonly reason: string
}

export function changeUsageDecision(
  model: QmsModel,
  emit: Emit,
  lot: QmsInspectionLot,
  input: ChangeDecisionInput,
): UsageDecision {
  const previous = lot.usageDecision
  if (!previous)
    throw qmsError(409, 'NO_DECISION', `inspection lot ${lot.id} has no usage decision to change`)
  if (!input.reason) throw qmsError(400, 'FIELD_REQUIRED', 'reason is required', 'reason')
  const ud = decide(model, lot, input)
  ;(lot as { replacedDecisions?: UsageDecision[] }).replacedDecisions = [
    ...(lot.replacedDecisions ?? []),
    previous,
  ]
  lot.usageDecision = ud
  lot.updatedAt = ud.decidedAt
  emit('usage_decision.changed', {
    ...udView(ud),
    previous: udView(previous),
    reason: input.reason,
    inspectionLot: lotView(lot),
  })
  return ud
}

export function registerLotChangeRoutes(router: Router, model: QmsModel, emit: Emit): void {
  const lotOf = (id: string) => {
    const l = model.lots.get(id)
    if (!l) throw qmsError(404, 'NOT_FOUND', `inspection lot ${id} not found`)
    return l
  }
  router.on('PATCH', /^\/api\/v1\/inspection-lots\/([^/]+)$/, (req) => ({
    status: 200,
    body: lotView(setLotQuantity(model, lotOf(req.params[0]!), obj(req.json()))),
  }))
  router.on('POST', /^\/api\/v1\/inspection-lots\/([^/]+)\/cancel$/, (req) => ({
    status: 200,
    body: lotView(cancelLot(model, emit, lotOf(req.params[0]!), text(obj(req.json()), 'reason', true))),
  }))
  router.on('PUT', /^\/api\/v1\/inspection-lots\/([^/]+)\/usage-decision$/, (req) => {
    const b = obj(req.json())
    const lot = lotOf(req.params[0]!)
    const ud = changeUsageDecision(model, emit, lot, { ...parseUdInput(b), reason: text(b, 'reason', true) })
    return { status: 200, body: { ...udView(ud), quantity: formatQuantity(lot.quantity) } }
  })
}

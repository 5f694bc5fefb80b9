/**
 * Inspection lots, results and usage decisions. A usage decision may split the lot quantity over
 * dispositions (DESIGN.md §1); the lines must add up to the lot quantity exactly (fixed-point).
 */
import type { Router } from '../shared/http.ts'
import { formatQuantity, parseQuantity, type QuantityError } from '../shared/quantity.ts'
import { obj, optionalNumber, qmsError, text } from './errors.ts'
import {
  DISPOSITIONS,
  type Disposition,
  type InspectionResult,
  type QmsInspectionLot,
  type QmsModel,
  type UsageDecision,
} from './model.ts'
import { defaultSampleSize } from './sampling.ts'

export type Emit = (type: string, data: unknown) => void

function qty(v: unknown, field: string): number {
  try {
    return parseQuantity(v, field)
  } catch (err) {
    throw qmsError(400, 'FIELD_INVALID', (err as QuantityError).message, field)
  }
}

export function lotView(l: QmsInspectionLot): Record<string, unknown> {
  return {
    id: l.id,
    externalRef: l.externalRef,
    material: l.material,
    batch: l.batch,
    plant: l.plant,
    supplier: l.supplier,
    origin: l.origin,
    quantity: formatQuantity(l.quantity),
    unit: l.unit,
    sampleSize: l.sampleSize,
    specification: l.specification ?? null,
    specificationVersion: l.specificationVersion ?? null,
    status: l.status,
    resultCount: l.results.length,
    usageDecision: l.usageDecision ? udView(l.usageDecision) : null,
    createdAt: l.createdAt,
    updatedAt: l.updatedAt,
  }
}

export function udView(u: UsageDecision): Record<string, unknown> {
  return {
    ...u,
    dispositions: u.dispositions.map((d) => ({
      disposition: d.disposition,
      quantity: formatQuantity(d.quantity),
    })),
  }
}

/** the specification (and its version) the lot is inspected against, when the caller names one */
function specificationOf(input: Record<string, unknown>): {
  specification?: string
  specificationVersion?: number
} {
  const id = text(input, 'specification')
  const version = optionalNumber(input, 'specificationVersion')
  if (id === '' && version === null) return {}
  if (id === '')
    throw qmsError(
      400,
      'FIELD_REQUIRED',
      'specification is required with specificationVersion',
      'specification',
    )
  if (version === null || !Number.isInteger(version) || version < 1)
    throw qmsError(
      400,
      'FIELD_INVALID',
      'specificationVersion must be a positive integer',
      'specificationVersion',
    )
  return { specification: id, specificationVersion: version }
}

export function createLot(model: QmsModel, emit: Emit, input: Record<string, unknown>): QmsInspectionLot {
  const quantity = qty(input.quantity, 'quantity')
  if (quantity <= 0) throw qmsError(400, 'FIELD_INVALID', 'quantity must be > 0', 'quantity')
  const sampleSize = optionalNumber(input, 'sampleSize') ?? defaultSampleSize(quantity / 1000)
  const now = model.now()
  const lot: QmsInspectionLot = {
    id: model.nextId('IL'),
    externalRef: text(input, 'externalRef'),
    material: text(input, 'material', true),
    batch: text(input, 'batch', true),
    plant: text(input, 'plant'),
    supplier: text(input, 'supplier'),
    origin: text(input, 'origin') || 'GOODS_RECEIPT',
    quantity,
    unit: text(input, 'unit') || 'PC',
    sampleSize,
    ...specificationOf(input),
    status: 'OPEN',
    results: [],
    createdAt: now,
    updatedAt: now,
  }
  model.lots.set(lot.id, lot)
  emit('inspection_lot.created', lotView(lot))
  return lot
}

export function recordResult(
  model: QmsModel,
  emit: Emit,
  lot: QmsInspectionLot,
  input: Record<string, unknown>,
): InspectionResult {
  if (lot.status === 'DECIDED')
    throw qmsError(409, 'LOT_DECIDED', `results of ${lot.id} are closed by its usage decision`)
  const values = input.values
  if (
    !Array.isArray(values) ||
    values.length === 0 ||
    values.some((v) => typeof v !== 'number' || !Number.isFinite(v))
  ) {
    throw qmsError(400, 'FIELD_INVALID', 'values must be a non-empty array of numbers', 'values')
  }
  const lower = optionalNumber(input, 'lowerLimit')
  const upper = optionalNumber(input, 'upperLimit')
  const nums = values as number[]
  const ok = nums.every((v) => (lower === null || v >= lower) && (upper === null || v <= upper))
  const r: InspectionResult = {
    id: model.nextId('RS'),
    characteristic: text(input, 'characteristic', true),
    values: nums,
    unit: text(input, 'unit'),
    lowerLimit: lower,
    upperLimit: upper,
    valuation: ok ? 'ACCEPTED' : 'REJECTED',
    recordedBy: text(input, 'recordedBy') || 'inspector',
    recordedAt: model.now(),
  }
  lot.results.push(r)
  lot.status = 'IN_PROGRESS'
  lot.updatedAt = r.recordedAt
  emit('inspection_result.recorded', { inspectionLotId: lot.id, batch: lot.batch, result: r })
  return r
}

export interface UsageDecisionInput {
  decision: 'ACCEPT' | 'REJECT'
  code?: string
  /** Quantities as decimal strings; omitted → the whole lot as USE_AS_IS (accept) or SCRAP (reject). */
  dispositions?: Array<{ disposition: Disposition; quantity: string }>
  decidedBy?: string
}

export function makeUsageDecision(
  model: QmsModel,
  emit: Emit,
  lot: QmsInspectionLot,
  input: UsageDecisionInput,
): UsageDecision {
  if (lot.usageDecision)
    throw qmsError(409, 'UD_EXISTS', `inspection lot ${lot.id} already has a usage decision`)
  if (lot.status === 'CANCELLED')
    throw qmsError(409, 'LOT_CANCELLED', `inspection lot ${lot.id} was cancelled`)
  const ud = decide(model, lot, input)
  lot.usageDecision = ud
  lot.status = 'DECIDED'
  lot.updatedAt = ud.decidedAt
  emit('usage_decision.made', { ...udView(ud), inspectionLot: lotView(lot) })
  return ud
}

/** A decision's lines, checked against the lot quantity (also used when a decision is changed). */
export function decide(model: QmsModel, lot: QmsInspectionLot, input: UsageDecisionInput): UsageDecision {
  if (input.decision !== 'ACCEPT' && input.decision !== 'REJECT') {
    throw qmsError(400, 'FIELD_INVALID', 'decision must be ACCEPT or REJECT', 'decision')
  }
  const lines = (
    input.dispositions ?? [
      {
        disposition: input.decision === 'ACCEPT' ? 'USE_AS_IS' : 'SCRAP',
        quantity: formatQuantity(lot.quantity),
      },
    ]
  ).map((d, i) => {
    if (!DISPOSITIONS.includes(d.disposition)) {
      throw qmsError(
        400,
        'FIELD_INVALID',
        `dispositions[${i}].disposition must be one of ${DISPOSITIONS.join(', ')}`,
        'dispositions',
      )
    }
    const q = qty(d.quantity, `dispositions[${i}].quantity`)
    if (q <= 0)
      throw qmsError(400, 'FIELD_INVALID', `dispositions[${i}].quantity must be > 0`, 'dispositions')
    return { disposition: d.disposition, quantity: q }
  })
  const sum = lines.reduce((s, l) => s + l.quantity, 0)
  if (sum !== lot.quantity) {
    throw qmsError(
      422,
      'QUANTITY_MISMATCH',
      `dispositions add up to ${formatQuantity(sum)}, lot quantity is ${formatQuantity(lot.quantity)}`,
      'dispositions',
    )
  }
  return {
    inspectionLotId: lot.id,
    decision: input.decision,
    code: input.code ?? (input.decision === 'ACCEPT' ? 'A1' : 'R1'),
    dispositions: lines,
    decidedBy: input.decidedBy ?? 'qa.manager',
    decidedAt: model.now(),
  }
}

export function parseUdInput(b: Record<string, unknown>): UsageDecisionInput {
  const d = b.dispositions
  if (d !== undefined && (!Array.isArray(d) || d.some((x) => typeof x !== 'object' || x === null))) {
    throw qmsError(
      400,
      'FIELD_INVALID',
      'dispositions must be an array of { disposition, quantity }',
      'dispositions',
    )
  }
  return {
    decision: text(b, 'decision', true) as UsageDecisionInput['decision'],
    code: text(b, 'code') || undefined,
    dispositions: d as UsageDecisionInput['dispositions'],
    decidedBy: text(b, 'decidedBy') || undefined,
  }
}

export function registerInspectionRoutes(router: Router, model: QmsModel, emit: Emit): void {
  const lotOf = (id: string) => {
    const l = model.lots.get(id)
    if (!l) throw qmsError(404, 'NOT_FOUND', `inspection lot ${id} not found`)
    return l
  }
  router.on('POST', /^\/api\/v1\/inspection-lots$/, (req) => ({
    status: 201,
    body: lotView(createLot(model, emit, obj(req.json()))),
  }))
  router.on('GET', /^\/api\/v1\/inspection-lots$/, (req) => {
    const f = ['externalRef', 'batch', 'status', 'material'] as const
    const rows = [...model.lots.values()].filter((l) =>
      f.every((k) => !req.query.has(k) || String(l[k]) === req.query.get(k)),
    )
    return { status: 200, body: { items: rows.map(lotView), total: rows.length } }
  })
  router.on('GET', /^\/api\/v1\/inspection-lots\/([^/]+)$/, (req) => ({
    status: 200,
    body: lotView(lotOf(req.params[0]!)),
  }))
  router.on('POST', /^\/api\/v1\/inspection-lots\/([^/]+)\/results$/, (req) => ({
    status: 201,
    body: recordResult(model, emit, lotOf(req.params[0]!), obj(req.json())),
  }))
  router.on('GET', /^\/api\/v1\/inspection-lots\/([^/]+)\/results$/, (req) => ({
    status: 200,
    body: { items: lotOf(req.params[0]!).results },
  }))
  router.on('POST', /^\/api\/v1\/inspection-lots\/([^/]+)\/usage-decision$/, (req) => ({
    status: 201,
    body: udView(makeUsageDecision(model, emit, lotOf(req.params[0]!), parseUdInput(obj(req.json())))),
  }))
  router.on('GET', /^\/api\/v1\/inspection-lots\/([^/]+)\/usage-decision$/, (req) => {
    const ud = lotOf(req.params[0]!).usageDecision
    if (!ud) throw qmsError(404, 'NOT_FOUND', 'no usage decision yet')
    return { status: 200, body: udView(ud) }
  })
}

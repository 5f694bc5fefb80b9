/** Nonconformances (canonical lifecycle of quality-domain.md §5) and CAPAs. */
import type { Router } from '../shared/http.ts'
import { obj, qmsError, text } from './errors.ts'
import type { Emit } from './inspections.ts'
import {
  type Capa,
  type CapaAttachment,
  EIGHT_D,
  type EightDStep,
  NC_STATUSES,
  type NcStatus,
  type Nonconformance,
  type QmsModel,
} from './model.ts'

const NC_NEXT: Record<NcStatus, readonly NcStatus[]> = {
  OPEN: ['CONTAINED', 'UNDER_REVIEW', 'CANCELLED'],
  CONTAINED: ['UNDER_REVIEW', 'CANCELLED'],
  UNDER_REVIEW: ['DISPOSITIONED', 'CANCELLED'],
  DISPOSITIONED: ['DISPOSITION_EXECUTED', 'CANCELLED'],
  DISPOSITION_EXECUTED: ['CLOSED'],
  CLOSED: [],
  CANCELLED: [],
}

/**
 * The optional split of a disposition (`dispositions: [{ disposition, quantity, unit }]`), allowed
 * only when the status becomes DISPOSITIONED; without one the change is a bare status change.
 */
function dispositionLines(
  b: Record<string, unknown>,
  status: NcStatus,
): Nonconformance['dispositions'] | undefined {
  if (b.dispositions === undefined) return undefined
  if (status !== 'DISPOSITIONED')
    throw qmsError(
      400,
      'FIELD_INVALID',
      'dispositions are given only with status DISPOSITIONED',
      'dispositions',
    )
  if (!Array.isArray(b.dispositions) || b.dispositions.length === 0)
    throw qmsError(400, 'FIELD_INVALID', 'dispositions must be a non-empty list', 'dispositions')
  return b.dispositions.map((d, i) => {
    const line = obj(d)
    const quantity = text(line, 'quantity', true)
    if (!/^\d+(\.\d+)?$/.test(quantity))
      throw qmsError(400, 'FIELD_INVALID', 'quantity must be a decimal', `dispositions/${i}/quantity`)
    return { disposition: text(line, 'disposition', true), quantity, unit: text(line, 'unit') || 'PC' }
  })
}

/** `attachments: [{ name, contentType?, content }]` of a new CAPA (content is text). */
function capaAttachments(b: Record<string, unknown>): CapaAttachment[] | undefined {
  if (b.attachments === undefined) return undefined
  if (!Array.isArray(b.attachments))
    throw qmsError(400, 'FIELD_INVALID', 'attachments must be a list', 'attachments')
  return b.attachments.map((a, i) => {
    const line = obj(a)
    if (typeof line.content !== 'string')
      throw qmsError(400, 'FIELD_INVALID', 'content must be text', `attachments/${i}/content`)
    return {
      name: text(line, 'name', true),
      contentType: text(line, 'contentType') || 'text/plain',
      content: line.content,
    }
  })
}

export function createNonconformance(
  model: QmsModel,
  emit: Emit,
  b: Record<string, unknown>,
): Nonconformance {
  const severity = text(b, 'severity') || 'MAJOR'
  if (!['MINOR', 'MAJOR', 'CRITICAL'].includes(severity))
    throw qmsError(400, 'FIELD_INVALID', 'severity must be MINOR, MAJOR or CRITICAL', 'severity')
  const now = model.now()
  const nc: Nonconformance = {
    id: model.nextId('NC'),
    externalRef: text(b, 'externalRef'),
    inspectionLotId: text(b, 'inspectionLotId'),
    batch: text(b, 'batch'),
    title: text(b, 'title', true),
    description: text(b, 'description'),
    severity: severity as Nonconformance['severity'],
    status: 'OPEN',
    createdAt: now,
    updatedAt: now,
  }
  model.nonconformances.set(nc.id, nc)
  emit('nonconformance.created', nc)
  return nc
}

export function registerQualityRecordRoutes(router: Router, model: QmsModel, emit: Emit): void {
  const ncOf = (id: string) => {
    const nc = model.nonconformances.get(id)
    if (!nc) throw qmsError(404, 'NOT_FOUND', `nonconformance ${id} not found`)
    return nc
  }
  const capaOf = (id: string) => {
    const c = model.capas.get(id)
    if (!c) throw qmsError(404, 'NOT_FOUND', `CAPA ${id} not found`)
    return c
  }
  router.on('POST', /^\/api\/v1\/nonconformances$/, (req) => ({
    status: 201,
    body: createNonconformance(model, emit, obj(req.json())),
  }))
  router.on('GET', /^\/api\/v1\/nonconformances$/, (req) => {
    const rows = [...model.nonconformances.values()].filter(
      (n) =>
        (!req.query.has('externalRef') || n.externalRef === req.query.get('externalRef')) &&
        (!req.query.has('status') || n.status === req.query.get('status')),
    )
    return { status: 200, body: { items: rows, total: rows.length } }
  })
  router.on('GET', /^\/api\/v1\/nonconformances\/([^/]+)$/, (req) => ({
    status: 200,
    body: ncOf(req.params[0]!),
  }))
  router.on('PATCH', /^\/api\/v1\/nonconformances\/([^/]+)$/, (req) => {
    const nc = ncOf(req.params[0]!)
    const b = obj(req.json())
    const status = text(b, 'status', true) as NcStatus
    if (!NC_STATUSES.includes(status))
      throw qmsError(400, 'FIELD_INVALID', `status must be one of ${NC_STATUSES.join(', ')}`, 'status')
    const dispositions = dispositionLines(b, status)
    if (status !== nc.status) {
      if (!NC_NEXT[nc.status].includes(status))
        throw qmsError(409, 'ILLEGAL_TRANSITION', `${nc.status} → ${status} is not allowed`, 'status')
      nc.status = status
      nc.updatedAt = model.now()
      if (dispositions) {
        nc.dispositions = dispositions
        nc.dispositionedBy = text(b, 'dispositionedBy') || 'qe.sim'
      }
      emit('nonconformance.updated', nc)
      // a disposition decided with its quantity split is what the plant's systems act on
      if (dispositions) emit('nonconformance.dispositioned', nc)
    }
    return { status: 200, body: nc }
  })

  router.on('POST', /^\/api\/v1\/capas$/, (req) => {
    const b = obj(req.json())
    const type = text(b, 'type') || 'CORRECTIVE'
    if (type !== 'CORRECTIVE' && type !== 'PREVENTIVE')
      throw qmsError(400, 'FIELD_INVALID', 'type must be CORRECTIVE or PREVENTIVE', 'type')
    const ncId = text(b, 'nonconformanceId')
    if (ncId) ncOf(ncId)
    const now = model.now()
    const supplier = text(b, 'supplier')
    const externalRef = text(b, 'externalRef')
    const description = text(b, 'description')
    const attachments = capaAttachments(b)
    const capa: Capa = {
      id: model.nextId('CAPA'),
      nonconformanceId: ncId,
      type,
      title: text(b, 'title', true),
      ...(externalRef ? { externalRef } : {}),
      ...(description ? { description } : {}),
      ...(supplier ? { supplier } : {}),
      ...(attachments ? { attachments } : {}),
      status: 'OPEN',
      eightDStep: 'D0',
      createdAt: now,
      updatedAt: now,
    }
    model.capas.set(capa.id, capa)
    emit('capa.created', capa)
    return { status: 201, body: capa }
  })
  router.on('GET', /^\/api\/v1\/capas$/, (req) => {
    const rows = [...model.capas.values()].filter(
      (c) => !req.query.has('externalRef') || c.externalRef === req.query.get('externalRef'),
    )
    return { status: 200, body: { items: rows, total: rows.length } }
  })
  router.on('GET', /^\/api\/v1\/capas\/([^/]+)$/, (req) => ({ status: 200, body: capaOf(req.params[0]!) }))
  router.on('PATCH', /^\/api\/v1\/capas\/([^/]+)$/, (req) => {
    const capa = capaOf(req.params[0]!)
    const b = obj(req.json())
    const status = text(b, 'status') || capa.status
    if (status !== 'OPEN' && status !== 'COMPLETED')
      throw qmsError(400, 'FIELD_INVALID', 'status must be OPEN or COMPLETED', 'status')
    // The 8D step moves forward only; completing the CAPA ends it at D8, reopening starts at D0.
    const fallback = status === 'COMPLETED' ? 'D8' : status !== capa.status ? 'D0' : capa.eightDStep
    const step = (text(b, 'eightDStep') || fallback) as EightDStep
    if (!EIGHT_D.includes(step))
      throw qmsError(400, 'FIELD_INVALID', `eightDStep must be one of ${EIGHT_D.join(', ')}`, 'eightDStep')
    if (EIGHT_D.indexOf(step) < EIGHT_D.indexOf(capa.eightDStep) && status === capa.status)
      throw qmsError(409, 'ILLEGAL_TRANSITION', `${capa.eightDStep} → ${step} goes back`, 'eightDStep')
    const rootCause = text(b, 'rootCause')
    const changes = [
      ...(status !== capa.status ? ['status'] : []),
      ...(step !== capa.eightDStep ? ['eightDStep'] : []),
      ...(rootCause && rootCause !== capa.rootCause ? ['rootCause'] : []),
    ]
    // an unchanged CAPA is a no-op (no webhook), like the nonconformance PATCH
    if (!changes.length) return { status: 200, body: capa }
    capa.status = status
    capa.eightDStep = step
    if (rootCause) capa.rootCause = rootCause
    capa.updatedAt = model.now()
    // the webhook names what changed, so a receiver tells a step change from a reopening
    emit('capa.updated', { ...capa, changes })
    return { status: 200, body: capa }
  })
}

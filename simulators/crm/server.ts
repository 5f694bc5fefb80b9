/**
 * CRM simulator: customer complaint cases, each announced by a webhook (`complaint.created`,
 * `complaint.updated`) signed like the QMS (`X-CRM-Signature: t=…,v1=…`) and/or sent with a bearer
 * token. Complaints name the product, the customer's lot/batch and the delivery, which is what the
 * traceability workflow starts from (DESIGN.md §1).
 */
import { randomUUID } from 'node:crypto'
import { type FaultConfig, Faults } from '../shared/faults.ts'
import { HttpError, type HttpSim, Router, startHttpSim } from '../shared/http.ts'
import { readStateFile, writeStateFile } from '../shared/state-file.ts'
import { WebhookSender } from '../shared/webhooks.ts'

export interface Complaint {
  readonly caseId: string
  readonly customer: string
  readonly material: string
  readonly batch: string
  readonly deliveryDocument: string
  readonly quantityAffected: string
  readonly unit: string
  readonly description: string
  readonly severity: 'LOW' | 'MEDIUM' | 'HIGH' | 'SAFETY'
  status: 'NEW' | 'IN_PROGRESS' | 'CLOSED'
  readonly openedAt: string
  updatedAt: string
}

export type ComplaintInput = Partial<Omit<Complaint, 'caseId' | 'status' | 'openedAt' | 'updatedAt'>> &
  Pick<Complaint, 'customer' | 'material' | 'batch'>

export interface CrmOptions {
  readonly port?: number
  readonly host?: string
  readonly webhook?: { url: string; secret?: string; bearerToken?: string }
  readonly faults?: Partial<FaultConfig>
  readonly clock?: () => number
  readonly signatureClock?: () => number
  /** Keep the complaint cases in this JSON file (loaded at start, written when changed and on close). */
  readonly stateFile?: string
}

export interface CrmState {
  readonly complaints: Complaint[]
  readonly webhooks: WebhookSender['deliveries']
  readonly http: HttpSim['stats']
  readonly faultsInjected: Faults['counts']
}

export interface CrmSim {
  readonly url: string
  readonly state: CrmState
  readonly faults: Faults
  readonly webhooks: WebhookSender
  fileComplaint(input: ComplaintInput): Complaint
  close(): Promise<void>
}

const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'SAFETY'] as const

export async function startCrm(opts: CrmOptions = {}): Promise<CrmSim> {
  const clock = opts.clock ?? Date.now
  const faults = new Faults(opts.faults)
  const webhooks = new WebhookSender({
    target: opts.webhook,
    faults,
    signatureHeader: 'x-crm-signature',
    deliveryIdHeader: 'x-crm-delivery-id',
    eventTypeHeader: 'x-crm-event',
    clock: opts.signatureClock,
  })
  const complaints = new Map<string, Complaint>(
    (opts.stateFile ? (readStateFile<Complaint[]>(opts.stateFile) ?? []) : []).map((c) => [c.caseId, c]),
  )
  const emit = (type: string, c: Complaint) =>
    webhooks.send(type, { id: randomUUID(), type, occurredAt: new Date(clock()).toISOString(), data: c })

  const fileComplaint = (input: ComplaintInput): Complaint => {
    for (const f of ['customer', 'material', 'batch'] as const) {
      if (typeof input[f] !== 'string' || input[f] === '')
        throw new HttpError(400, { error: `${f} is required`, field: f })
    }
    const severity = input.severity ?? 'MEDIUM'
    if (!SEVERITIES.includes(severity))
      throw new HttpError(400, { error: `severity must be one of ${SEVERITIES.join(', ')}` })
    const now = new Date(clock()).toISOString()
    const c: Complaint = {
      caseId: `CASE-${String(complaints.size + 1).padStart(6, '0')}`,
      customer: input.customer,
      material: input.material,
      batch: input.batch,
      deliveryDocument: input.deliveryDocument ?? '',
      quantityAffected: input.quantityAffected ?? '0',
      unit: input.unit ?? 'PC',
      description: input.description ?? '',
      severity,
      status: 'NEW',
      openedAt: now,
      updatedAt: now,
    }
    complaints.set(c.caseId, c)
    emit('complaint.created', c)
    return c
  }

  const router = new Router()
  router.on('POST', /^\/api\/v1\/complaints$/, (req) => ({
    status: 201,
    body: fileComplaint(req.json() as ComplaintInput),
  }))
  router.on('GET', /^\/api\/v1\/complaints$/, () => ({
    status: 200,
    body: { items: [...complaints.values()] },
  }))
  router.on('GET', /^\/api\/v1\/complaints\/([^/]+)$/, (req) => {
    const c = complaints.get(req.params[0]!)
    if (!c) throw new HttpError(404, { error: 'case not found' })
    return { status: 200, body: c }
  })
  router.on('PATCH', /^\/api\/v1\/complaints\/([^/]+)$/, (req) => {
    const c = complaints.get(req.params[0]!)
    if (!c) throw new HttpError(404, { error: 'case not found' })
    const status = (req.json() as { status?: string }).status
    if (status !== 'NEW' && status !== 'IN_PROGRESS' && status !== 'CLOSED') {
      throw new HttpError(400, { error: 'status must be NEW, IN_PROGRESS or CLOSED' })
    }
    c.status = status
    c.updatedAt = new Date(clock()).toISOString()
    emit('complaint.updated', c)
    return { status: 200, body: c }
  })
  const state = (): CrmState => ({
    complaints: [...complaints.values()],
    webhooks: webhooks.deliveries,
    http: { ...http.stats },
    faultsInjected: { ...faults.counts },
  })
  const http = await startHttpSim({ host: opts.host, port: opts.port, router, faults, state })
  const saver = opts.stateFile ? writeStateFile(opts.stateFile, () => [...complaints.values()]) : undefined
  return {
    url: http.url,
    get state() {
      return state()
    },
    faults,
    webhooks,
    fileComplaint,
    async close() {
      await webhooks.stop()
      await http.close()
      saver?.close()
    },
  }
}

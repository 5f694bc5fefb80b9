/**
 * SaaS-style QMS simulator: REST under /api/v1 and signed webhooks
 * (`X-QMS-Signature: t=<unix>,v1=<hex HMAC-SHA256 over "${t}.${rawBody}">`, `X-QMS-Delivery-Id`).
 */
import { randomUUID } from 'node:crypto'
import { type FaultConfig, Faults } from '../shared/faults.ts'
import { type HttpSim, Router, startHttpSim } from '../shared/http.ts'
import { readStateFile, writeStateFile } from '../shared/state-file.ts'
import { WebhookSender } from '../shared/webhooks.ts'
import { qmsError } from './errors.ts'
import {
  createLot,
  type Emit,
  lotView,
  makeUsageDecision,
  recordResult,
  registerInspectionRoutes,
  type UsageDecisionInput,
} from './inspections.ts'
import {
  type ChangeDecisionInput,
  cancelLot,
  changeUsageDecision,
  registerLotChangeRoutes,
} from './lot-changes.ts'
import {
  type InspectionResult,
  type QmsDump,
  type QmsInspectionLot,
  QmsModel,
  type UsageDecision,
} from './model.ts'
import { registerQualityRecordRoutes } from './quality-records.ts'
import { registerSpecificationRoutes, type Specification } from './specifications.ts'

export interface QmsOptions {
  readonly port?: number
  readonly host?: string
  /** Webhook target; `secret` signs every delivery. */
  readonly webhook?: { url: string; secret?: string }
  /** When set, API calls need `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string
  readonly faults?: Partial<FaultConfig>
  readonly clock?: () => number
  /** Unix seconds used in signatures (tests make stale ones with it). */
  readonly signatureClock?: () => number
  /**
   * Keep the QMS's records in this JSON file (the demo's ./data/simulators/qms.json): loaded at
   * start, written when changed and on close. Default: in memory.
   */
  readonly stateFile?: string
}

/** What `stateFile` holds. */
interface QmsSaved {
  readonly model: QmsDump
  readonly specifications: Specification[]
  readonly specificationPuts: number
}

export interface QmsState {
  readonly inspectionLots: Array<Record<string, unknown>>
  readonly nonconformances: number
  readonly capas: number
  /** inspection specifications by id (current version and the versions seen), and accepted PUTs */
  readonly specifications: { readonly byId: Record<string, Specification>; readonly puts: number }
  readonly webhooks: { sent: number; deliveries: WebhookSender['deliveries'] }
  readonly http: HttpSim['stats']
  readonly faultsInjected: Faults['counts']
}

export interface QmsSim {
  readonly url: string
  readonly state: QmsState
  readonly faults: Faults
  readonly model: QmsModel
  readonly webhooks: WebhookSender
  createInspectionLot(input: Record<string, unknown>): QmsInspectionLot
  recordResult(lotId: string, input: Record<string, unknown>): InspectionResult
  /** Makes the decision as a QA user would in the UI, and sends the usage_decision.made webhook. */
  makeUsageDecision(lotId: string, input: UsageDecisionInput): UsageDecision
  /** Cancels an undecided lot as a QA user would, and sends the inspection_lot.cancelled webhook. */
  cancelInspectionLot(lotId: string, reason: string): QmsInspectionLot
  /** Replaces the lot's decision (the old one stays on record) and sends usage_decision.changed. */
  changeUsageDecision(lotId: string, input: ChangeDecisionInput): UsageDecision
  close(): Promise<void>
}

export async function startQms(opts: QmsOptions = {}): Promise<QmsSim> {
  const model = new QmsModel(opts.clock ?? Date.now)
  const saved = opts.stateFile ? readStateFile<QmsSaved>(opts.stateFile) : undefined
  if (saved) model.restore(saved.model)
  const faults = new Faults(opts.faults)
  const webhooks = new WebhookSender({
    target: opts.webhook,
    faults,
    signatureHeader: 'x-qms-signature',
    deliveryIdHeader: 'x-qms-delivery-id',
    eventTypeHeader: 'x-qms-event',
    clock: opts.signatureClock,
  })
  let sent = 0
  const emit: Emit = (type, data) => {
    sent++
    webhooks.send(type, { id: randomUUID(), type, occurredAt: model.now(), data })
  }
  const router = new Router((req, next) => {
    if (opts.apiKey && req.header('authorization') !== `Bearer ${opts.apiKey}`) {
      throw qmsError(401, 'UNAUTHORIZED', 'missing or wrong bearer token')
    }
    return next(req)
  })
  const lotOf = (id: string) => {
    const l = model.lots.get(id)
    if (!l) throw new Error(`inspection lot ${id} not found`)
    return l
  }
  registerInspectionRoutes(router, model, emit)
  registerQualityRecordRoutes(router, model, emit)
  registerLotChangeRoutes(router, model, emit)
  const specs = new Map<string, Specification>((saved?.specifications ?? []).map((x) => [x.id, x]))
  const specCounts = { puts: saved?.specificationPuts ?? 0 }
  registerSpecificationRoutes(router, specs, () => model.now(), specCounts)
  const state = (): QmsState => ({
    inspectionLots: [...model.lots.values()].map(lotView),
    nonconformances: model.nonconformances.size,
    capas: model.capas.size,
    specifications: { byId: structuredClone(Object.fromEntries(specs)), puts: specCounts.puts },
    webhooks: { sent, deliveries: webhooks.deliveries },
    http: { ...http.stats },
    faultsInjected: { ...faults.counts },
  })
  const http = await startHttpSim({ host: opts.host, port: opts.port, router, faults, state })
  const saver = opts.stateFile
    ? writeStateFile(
        opts.stateFile,
        (): QmsSaved => ({
          model: model.dump(),
          specifications: [...specs.values()],
          specificationPuts: specCounts.puts,
        }),
      )
    : undefined
  return {
    url: http.url,
    get state() {
      return state()
    },
    faults,
    model,
    webhooks,
    createInspectionLot: (input) => createLot(model, emit, input),
    recordResult: (lotId, input) => recordResult(model, emit, lotOf(lotId), input),
    makeUsageDecision: (lotId, input) => makeUsageDecision(model, emit, lotOf(lotId), input),
    cancelInspectionLot: (lotId, reason) => cancelLot(model, emit, lotOf(lotId), reason),
    changeUsageDecision: (lotId, input) => changeUsageDecision(model, emit, lotOf(lotId), input),
    async close() {
      await webhooks.stop()
      await http.close()
      saver?.close()
    },
  }
}

/**
 * qms/rest: the QmsPort over a SaaS QMS REST API (tested against simulators/qms). The QMS does not
 * deduplicate on `externalRef`, so creates are made idempotent the DESIGN §6 way: the step's key is
 * written to `externalRef` and looked up before any create and after any ambiguous failure.
 */
import { PermanentError } from '../../../engine/errors.ts'
import { formatDecimal, rescale } from '../../../model/quantity.ts'
import type { AdoptionQmsPort } from '../../../workflows/ports/adoption.ts'
import type { Created, QmsPort, SpecificationLimits } from '../../../workflows/ports/qms.ts'
import { defineConnector } from '../../sdk/define-connector.ts'
import type { EgressClient } from '../../sdk/egress.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'
import { connectorSecret } from '../../sdk/secrets.ts'
import { adoptionQms } from './adoption.ts'
import { QmsRestConfig } from './config.ts'
import { capaFrom, decisionFrom, type Json, lotFrom, ncFrom, originWord } from './mapping.ts'

class QmsApi {
  constructor(
    private readonly egress: EgressClient,
    private readonly base: string,
    private readonly auth: string | undefined,
  ) {}

  private headers(): Record<string, string> {
    return this.auth ? { authorization: this.auth } : {}
  }

  async get(path: string, context: string, traceparent?: string): Promise<Json | null> {
    const res = await this.egress.request({
      method: 'GET',
      url: `${this.base}/api/v1${path}`,
      headers: this.headers(),
      accept: [404],
      traceparent,
      context,
    })
    return res.status === 404 ? null : res.json<Json>()
  }

  async send(
    method: 'POST' | 'PATCH' | 'PUT',
    path: string,
    body: unknown,
    context: string,
    traceparent?: string,
  ) {
    const res = await this.egress.request({
      method,
      url: `${this.base}/api/v1${path}`,
      headers: this.headers(),
      json: body,
      traceparent,
      context,
    })
    return res.json<Json>()
  }

  /** Read back by externalRef, create if absent, read back again after an ambiguous failure. */
  async createOnce<T>(
    collection: string,
    key: string,
    body: Json,
    view: (o: Json) => T,
    traceparent?: string,
  ): Promise<Created<T>> {
    for (let round = 0; round < 3; round++) {
      const found = await this.get(
        `/${collection}?externalRef=${encodeURIComponent(key)}`,
        `find ${collection} ${key}`,
        traceparent,
      )
      const items = Array.isArray(found?.items) ? (found.items as Json[]) : []
      if (items.length > 0) return { record: view(items[0]!), created: round > 0 }
      try {
        return {
          record: view(
            await this.send(
              'POST',
              `/${collection}`,
              { ...body, externalRef: key },
              `create ${collection}`,
              traceparent,
            ),
          ),
          created: true,
        }
      } catch (e) {
        if (!(e instanceof EgressFailure && e.ambiguous)) throw e
      }
    }
    throw new EgressFailure(
      'QLK_EGRESS_AMBIGUOUS',
      `create ${collection} ${key}: not confirmed by read-back`,
      { ambiguous: true },
    )
  }
}

export const qmsRestConnector = defineConnector({
  kind: 'qms/rest',
  description: 'SaaS QMS over REST: inspection lots, usage decisions, nonconformances, CAPAs',
  configSchema: QmsRestConfig,
  actions: [
    'createInspectionLot',
    'getInspectionLot',
    'getUsageDecision',
    'setInspectionLotQuantity',
    'cancelInspectionLot',
    'openNonconformance',
    'setNonconformanceStatus',
    'openCorrectiveAction',
    'upsertSpecification',
    'listSpecifications',
  ],
  targets: (c) => [c.baseUrl],
  egressSettings: (c) => c.egress,
  create(config, ctx): QmsPort & AdoptionQmsPort {
    const key = connectorSecret(
      config,
      'apiKey',
      '',
      ctx.environment,
      { kind: 'qms/rest', name: ctx.name },
      true,
    )
    const auth = key === undefined ? undefined : `Bearer ${key}`
    const api = new QmsApi(ctx.egress, config.baseUrl, auth)
    const scale = config.quantityScale
    return {
      ...adoptionQms((path, context) => api.get(path, context), scale),
      createInspectionLot: (i) =>
        api.createOnce(
          'inspection-lots',
          i.idempotencyKey,
          {
            material: i.material,
            batch: i.lot,
            plant: i.plant,
            ...(i.supplier ? { supplier: i.supplier } : {}),
            origin: originWord(i.origin),
            quantity: formatDecimal(rescale(i.quantity, scale, 'quantity')),
            unit: i.quantity.uom,
            ...(i.sampleSize !== undefined ? { sampleSize: i.sampleSize } : {}),
            ...(i.specification
              ? { specification: i.specification.id, specificationVersion: i.specification.version }
              : {}),
          },
          (o) => lotFrom(o, scale),
          i.traceparent,
        ),
      async getInspectionLot(id) {
        const o = await api.get(`/inspection-lots/${encodeURIComponent(id)}`, `read inspection lot ${id}`)
        return o ? lotFrom(o, scale) : null
      },
      async getUsageDecision(id) {
        const lot = await api.get(`/inspection-lots/${encodeURIComponent(id)}`, `read inspection lot ${id}`)
        if (!lot) throw new PermanentError('QLK_REMOTE_REJECTED', `QMS inspection lot ${id} does not exist`)
        const ud = lot.usageDecision
        return typeof ud === 'object' && ud !== null ? decisionFrom(lot, ud as Json, scale) : null
      },
      async setInspectionLotQuantity({ id, quantity, sampleSize, traceparent }) {
        // Setting a quantity is a state: a retry after a lost answer sets the same value again.
        const o = await api.send(
          'PATCH',
          `/inspection-lots/${encodeURIComponent(id)}`,
          {
            quantity: formatDecimal(rescale(quantity, scale, 'quantity')),
            ...(sampleSize !== undefined ? { sampleSize } : {}),
          },
          `resize inspection lot ${id}`,
          traceparent,
        )
        return lotFrom(o, scale)
      },
      async cancelInspectionLot({ id, reason, traceparent }) {
        for (let round = 0; round < 3; round++) {
          const lot = await api.get(`/inspection-lots/${encodeURIComponent(id)}`, `read inspection lot ${id}`)
          if (!lot) throw new PermanentError('QLK_REMOTE_REJECTED', `QMS inspection lot ${id} does not exist`)
          if (lotFrom(lot, scale).status === 'cancelled') return { changed: round > 0 }
          try {
            await api.send(
              'POST',
              `/inspection-lots/${encodeURIComponent(id)}/cancel`,
              { reason: reason.slice(0, 500) },
              `cancel inspection lot ${id}`,
              traceparent,
            )
            return { changed: true }
          } catch (e) {
            if (!(e instanceof EgressFailure && e.ambiguous)) throw e
          }
        }
        throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `cancel of ${id}: not confirmed by read-back`, {
          ambiguous: true,
        })
      },
      openNonconformance: (i) =>
        api.createOnce(
          'nonconformances',
          i.idempotencyKey,
          {
            title: i.title,
            severity: i.severity.toUpperCase(),
            ...(i.description ? { description: i.description } : {}),
            ...(i.inspectionLot ? { inspectionLotId: i.inspectionLot } : {}),
            ...(i.lot ? { batch: i.lot } : {}),
          },
          ncFrom,
          i.traceparent,
        ),
      openCorrectiveAction: (i) =>
        api.createOnce(
          'capas',
          i.idempotencyKey,
          {
            type: 'CORRECTIVE',
            title: i.title,
            ...(i.description ? { description: i.description } : {}),
            ...(i.nonconformance ? { nonconformanceId: i.nonconformance } : {}),
            ...(i.supplier ? { supplier: i.supplier } : {}),
            ...(i.attachments?.length ? { attachments: i.attachments } : {}),
          },
          capaFrom,
          i.traceparent,
        ),
      async upsertSpecification({ spec, traceparent }) {
        // A version is a state: read, and PUT only a newer one (a repeated step is a no-op; an
        // older plan delivered late never replaces a newer one).
        const path = `/specifications/${encodeURIComponent(spec.id)}`
        for (let round = 0; round < 3; round++) {
          const cur = await api.get(path, `read specification ${spec.id}`, traceparent)
          const have = cur ? Number(cur.version) : 0
          if (have >= spec.version) return { applied: round > 0 && have === spec.version, current: have }
          try {
            const { audit: _, id: __, ...body } = spec
            await api.send('PUT', path, body, `put specification ${spec.id} v${spec.version}`, traceparent)
            return { applied: true, current: spec.version }
          } catch (e) {
            if (!(e instanceof EgressFailure && e.ambiguous)) throw e
          }
        }
        throw new EgressFailure(
          'QLK_EGRESS_AMBIGUOUS',
          `specification ${spec.id}: not confirmed by read-back`,
          {
            ambiguous: true,
          },
        )
      },
      async listSpecifications({ plant, material, traceparent }) {
        const q = `plant=${encodeURIComponent(plant)}&material=${encodeURIComponent(material)}`
        const found = await api.get(`/specifications?${q}`, `list specifications of ${material}`, traceparent)
        return (Array.isArray(found?.items) ? (found.items as Json[]) : []).map((o) => ({
          id: String(o.id),
          version: Number(o.version),
          ...(typeof o.route === 'string' && o.route !== '' ? { route: o.route } : {}),
          ...(typeof o.supplier === 'string' && o.supplier !== '' ? { supplier: o.supplier } : {}),
          ...(Array.isArray(o.characteristics) ? { characteristics: limitsFrom(o.characteristics) } : {}),
        }))
      },
      async setNonconformanceStatus({ id, status, traceparent }) {
        // A status is a state: read, and change only when different (a repeated step is a no-op).
        for (let round = 0; round < 3; round++) {
          const nc = await api.get(
            `/nonconformances/${encodeURIComponent(id)}`,
            `read nonconformance ${id}`,
            traceparent,
          )
          if (!nc) throw new PermanentError('QLK_REMOTE_REJECTED', `QMS nonconformance ${id} does not exist`)
          if (ncFrom(nc).status === status) return { changed: round > 0 }
          try {
            await api.send(
              'PATCH',
              `/nonconformances/${encodeURIComponent(id)}`,
              { status: status.toUpperCase() },
              `set status of ${id}`,
              traceparent,
            )
            return { changed: true }
          } catch (e) {
            if (!(e instanceof EgressFailure && e.ambiguous)) throw e
          }
        }
        throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `status of ${id}: not confirmed by read-back`, {
          ambiguous: true,
        })
      },
    }
  },
})

/** The quantitative characteristics of a listed specification and their limits (decimal strings). */
function limitsFrom(items: unknown[]): SpecificationLimits[] {
  const str = (v: unknown) =>
    typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined
  const out: SpecificationLimits[] = []
  for (const raw of items) {
    if (!raw || typeof raw !== 'object') continue
    const c = raw as Record<string, unknown>
    const id = str(c.id)
    if (!id || c.quantitative === false) continue
    const [unit, lowerLimit, upperLimit, target] = [c.unit, c.lowerLimit, c.upperLimit, c.target].map(str)
    out.push({
      id,
      ...(unit ? { unit } : {}),
      ...(lowerLimit ? { lowerLimit } : {}),
      ...(upperLimit ? { upperLimit } : {}),
      ...(target ? { target } : {}),
    })
  }
  return out
}

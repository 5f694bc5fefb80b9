import type { CloudEvent } from '../../../contracts/envelope.ts'
import { PermanentError } from '../../../engine/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { type IdMappingSettings, inboundIds } from '../../../mapping/id-mapping.ts'
import { parseDecimal, type Quantity } from '../../../model/quantity.ts'

interface LotView {
  id: string
  batch: string
  plant: string
  quantity: string
  unit: string
}

interface Decision {
  decision: 'ACCEPT' | 'REJECT'
  code: string
  dispositions: Array<{ disposition: string; quantity: string }>
  decidedBy: string
  decidedAt: string
}

interface QmsWebhook {
  id: string
  type: string
  occurredAt: string
  data: Record<string, unknown>
}

type Line = { code: string; quantity: Quantity }

/** A decision's split; a decision without split lines posts the whole lot (accept: release, reject: block). */
function linesOf(d: Decision, lot: LotView, path: string): Line[] {
  const unit = (lot.unit || 'EA').toUpperCase()
  return d.dispositions.length
    ? d.dispositions.map((x, i) => ({
        code: x.disposition,
        quantity: parseDecimal(x.quantity, 3, unit, `${path}/dispositions/${i}/quantity`),
      }))
    : [
        {
          code: d.decision === 'ACCEPT' ? 'RELEASE' : 'BLOCK',
          quantity: parseDecimal(lot.quantity, 3, unit, '/data/inspectionLot/quantity'),
        },
      ]
}

const valuation = (d: Decision) => (d.decision === 'ACCEPT' ? 'accepted' : 'rejected')

/**
 * QMS webhooks → canonical events about the lot (subject: the batch):
 * `usage_decision.made` → `qms.usage_decision.made.v1`; `usage_decision.changed` →
 * `qms.usage_decision.changed.v1` with the new and the replaced split; `inspection_lot.cancelled`
 * → `qms.inspection_lot.cancelled.v1`; `nonconformance.dispositioned` (a disposition with its
 * quantity split) → `qms.nonconformance.dispositioned.v1`; `capa.created` → `qms.capa.opened.v1`,
 * `capa.updated` to COMPLETED → `qms.capa.closed.v1` (reopened → opened again; the supplier, if
 * any, through identity mapping; the 8D step and root cause carried); `capa.updated` whose changes
 * name the 8D step but not the status → `qms.capa.step_changed.v1` (a root cause alone makes no
 * event). Other webhook types are stored raw and
 * produce no event yet. The QMS's batch numbers go through the plant's identity mapping for this
 * source when one is configured (entity `lot`).
 */
export function qmsWebhookTranslator(source: string, ids?: IdMappingSettings): Translator {
  return {
    source,
    async translate(raw, xref): Promise<CloudEvent[]> {
      const w = JSON.parse(raw.body.toString('utf8')) as QmsWebhook
      const map = inboundIds(xref, ids, raw.plant)
      const event = (type: string, subject: string, time: string, data: Record<string, unknown>) =>
        ({
          specversion: '1.0',
          id: w.id,
          source: `urn:qualink:${source}`,
          type,
          subject,
          time,
          plant: raw.plant,
          data,
        }) as CloudEvent
      if (w.type === 'usage_decision.made') {
        const d = w.data as unknown as Decision & { inspectionLotId: string; inspectionLot: LotView }
        const lot = await map('lot', d.inspectionLot.batch, '/data/inspectionLot/batch')
        return [
          event('qms.usage_decision.made.v1', lot, d.decidedAt, {
            inspectionLot: d.inspectionLotId,
            plant: raw.plant,
            lot,
            code: d.code,
            valuation: valuation(d),
            stockPostings: linesOf(d, d.inspectionLot, '/data'),
            audit: {
              timestamp: d.decidedAt,
              operator: d.decidedBy,
              sourceSystem: source,
              approvalStatus: 'approved',
            },
          }),
        ]
      }
      if (w.type === 'usage_decision.changed') {
        const d = w.data as unknown as Decision & {
          inspectionLotId: string
          inspectionLot: LotView
          previous: Decision
          reason: string
        }
        const lot = await map('lot', d.inspectionLot.batch, '/data/inspectionLot/batch')
        return [
          event('qms.usage_decision.changed.v1', lot, d.decidedAt, {
            inspectionLot: d.inspectionLotId,
            plant: raw.plant,
            lot,
            previousCode: d.previous.code,
            code: d.code,
            valuation: valuation(d),
            reason: d.reason,
            stockPostings: linesOf(d, d.inspectionLot, '/data'),
            previousStockPostings: linesOf(d.previous, d.inspectionLot, '/data/previous'),
            audit: {
              timestamp: d.decidedAt,
              operator: d.decidedBy,
              sourceSystem: source,
              approvalStatus: 'approved',
            },
          }),
        ]
      }
      if (w.type === 'nonconformance.dispositioned') {
        const nc = w.data as unknown as {
          id: string
          batch: string
          updatedAt: string
          dispositionedBy?: string
          dispositions: Array<{ disposition: string; quantity: string; unit: string }>
        }
        if (!nc.batch)
          throw new PermanentError(
            'QLK_VALIDATION',
            `/data/batch: QMS nonconformance ${nc.id} was dispositioned without a batch; a disposition needs the lot it applies to`,
          )
        const lot = await map('lot', nc.batch, '/data/batch')
        return [
          event('qms.nonconformance.dispositioned.v1', lot, nc.updatedAt, {
            disposition: {
              id: `DISP-${nc.id}`,
              plant: raw.plant,
              lot,
              nonconformance: nc.id,
              lines: nc.dispositions.map((x, i) => ({
                code: x.disposition,
                quantity: parseDecimal(
                  x.quantity,
                  3,
                  (x.unit || 'EA').toUpperCase(),
                  `/data/dispositions/${i}/quantity`,
                ),
              })),
              audit: {
                timestamp: nc.updatedAt,
                ...(nc.dispositionedBy ? { operator: nc.dispositionedBy } : {}),
                sourceSystem: source,
                approvalStatus: 'approved',
              },
            },
          }),
        ]
      }
      if (w.type === 'inspection_lot.cancelled') {
        const d = w.data as unknown as LotView & { reason: string; updatedAt: string }
        const lot = await map('lot', d.batch, '/data/batch')
        return [
          event('qms.inspection_lot.cancelled.v1', lot, d.updatedAt ?? w.occurredAt, {
            inspectionLot: d.id,
            plant: raw.plant,
            lot,
            reason: d.reason,
            audit: {
              timestamp: d.updatedAt ?? w.occurredAt,
              sourceSystem: source,
              approvalStatus: 'not_required',
            },
          }),
        ]
      }
      if (w.type === 'capa.created' || w.type === 'capa.updated') {
        const c = w.data as unknown as Capa
        // created → opened; completed → closed; reopened (OPEN again) → opened again; the 8D step
        // moved while the status stayed → step_changed. The QMS names its changes; a completion or
        // reopening moves the step too (to D8, to D0) and is reported as the status change it is.
        // A root cause alone is no event (the next step or closure carries it); its raw webhook
        // stays stored. An older QMS that names no changes is read as a status change, as before.
        const closed = c.status === 'COMPLETED'
        if (w.type === 'capa.created' && closed) return []
        const stepOnly =
          w.type === 'capa.updated' &&
          c.changes !== undefined &&
          !c.changes.includes('status') &&
          c.changes.includes('eightDStep')
        if (w.type === 'capa.updated' && c.changes && !c.changes.includes('status') && !stepOnly) return []
        const supplier = c.supplier ? await map('supplier', c.supplier, '/data/supplier') : undefined
        const time = c.updatedAt ?? c.createdAt ?? w.occurredAt
        const correctiveAction = {
          id: c.id,
          plant: raw.plant,
          kind: c.type === 'PREVENTIVE' ? 'preventive' : 'corrective',
          status: closed ? 'closed' : 'open',
          eightDStep: c.eightDStep ?? (closed ? 'D8' : 'D0'),
          title: c.title,
          nonconformances: c.nonconformanceId ? [c.nonconformanceId] : [],
          ...(supplier ? { supplier } : {}),
          ...(c.rootCause ? { rootCause: c.rootCause } : {}),
          audit: { timestamp: time, sourceSystem: source, approvalStatus: 'not_required' },
        }
        if (stepOnly) {
          if (!c.eightDStep)
            throw new PermanentError(
              'QLK_VALIDATION',
              `/data/eightDStep: QMS CAPA ${c.id} reported an 8D step change without the step it reached`,
            )
          return [event('qms.capa.step_changed.v1', c.id, time, { correctiveAction })]
        }
        return [
          closed
            ? event('qms.capa.closed.v1', c.id, time, { correctiveAction, effective: true })
            : event('qms.capa.opened.v1', c.id, time, { correctiveAction }),
        ]
      }
      return []
    },
  }
}

/** The QMS's CAPA as its capa.* webhooks carry it (simulators/qms/model.ts). */
interface Capa {
  readonly id: string
  readonly type?: string
  readonly title: string
  readonly status: 'OPEN' | 'COMPLETED'
  /** D0..D8 (older QMS versions send none) */
  readonly eightDStep?: 'D0' | 'D1' | 'D2' | 'D3' | 'D4' | 'D5' | 'D6' | 'D7' | 'D8'
  readonly rootCause?: string
  /** on capa.updated: which fields changed (status, eightDStep, rootCause) */
  readonly changes?: readonly string[]
  readonly nonconformanceId?: string
  readonly supplier?: string
  readonly createdAt?: string
  readonly updatedAt?: string
}

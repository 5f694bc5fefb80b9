import type { CloudEvent } from '../../../contracts/envelope.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { parseDecimal } from '../../../model/quantity.ts'

interface QmsWebhook {
  id: string
  type: string
  occurredAt: string
  data: {
    inspectionLotId: string
    decision: 'ACCEPT' | 'REJECT'
    code: string
    dispositions: Array<{ disposition: string; quantity: string }>
    decidedBy: string
    decidedAt: string
    inspectionLot: { batch: string; plant: string; quantity: string; unit: string }
  }
}

/**
 * QMS webhooks → canonical events. `usage_decision.made` becomes `qms.usage_decision.made.v1`
 * about the lot; a decision without split lines posts the whole lot (accept: release, reject:
 * block). Other webhook types are stored raw and produce no event yet.
 */
export function qmsWebhookTranslator(source: string): Translator {
  return {
    source,
    async translate(raw): Promise<CloudEvent[]> {
      const w = JSON.parse(raw.body.toString('utf8')) as QmsWebhook
      if (w.type !== 'usage_decision.made') return []
      const d = w.data
      const unit = (d.inspectionLot.unit || 'EA').toUpperCase()
      const lines = d.dispositions.length
        ? d.dispositions.map((x, i) => ({
            code: x.disposition,
            quantity: parseDecimal(x.quantity, 3, unit, `/data/dispositions/${i}/quantity`),
          }))
        : [
            {
              code: d.decision === 'ACCEPT' ? 'RELEASE' : 'BLOCK',
              quantity: parseDecimal(d.inspectionLot.quantity, 3, unit, '/data/inspectionLot/quantity'),
            },
          ]
      return [
        {
          specversion: '1.0',
          id: w.id,
          source: `urn:qualink:${source}`,
          type: 'qms.usage_decision.made.v1',
          subject: d.inspectionLot.batch,
          time: d.decidedAt,
          plant: raw.plant,
          data: {
            inspectionLot: d.inspectionLotId,
            plant: raw.plant,
            lot: d.inspectionLot.batch,
            code: d.code,
            valuation: d.decision === 'ACCEPT' ? 'accepted' : 'rejected',
            stockPostings: lines,
            audit: {
              timestamp: d.decidedAt,
              operator: d.decidedBy,
              sourceSystem: source,
              approvalStatus: 'approved',
            },
          },
        } as CloudEvent,
      ]
    },
  }
}

import type { CloudEvent } from '../../../contracts/envelope.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { type IdMappingSettings, inboundIds } from '../../../mapping/id-mapping.ts'
import { parseDecimal } from '../../../model/quantity.ts'

interface CrmWebhook {
  id: string
  type: string
  occurredAt: string
  data: {
    caseId: string
    customer: string
    material: string
    batch: string
    deliveryDocument?: string
    quantityAffected?: string
    unit?: string
    description?: string
    severity: 'LOW' | 'MEDIUM' | 'HIGH' | 'SAFETY'
  }
}

/** CRM priority → canonical severity: a safety case is critical, a high one major. */
const SEVERITY = { LOW: 'minor', MEDIUM: 'minor', HIGH: 'major', SAFETY: 'critical' } as const

/**
 * CRM `complaint.created` webhook → `crm.complaint.opened.v1` (other types are kept raw only).
 * Customer, material and batch go through the plant's identity mapping for this source when one
 * is configured.
 */
export function crmWebhookTranslator(source: string, ids?: IdMappingSettings): Translator {
  return {
    source,
    async translate(raw, xref): Promise<CloudEvent[]> {
      const w = JSON.parse(raw.body.toString('utf8')) as CrmWebhook
      if (w.type !== 'complaint.created') return []
      const map = inboundIds(xref, ids, raw.plant)
      const c = {
        ...w.data,
        customer: await map('customer', w.data.customer, '/data/customer'),
        material: await map('material', w.data.material, '/data/material'),
        batch: await map('lot', w.data.batch, '/data/batch'),
      }
      return [
        {
          specversion: '1.0',
          id: w.id,
          source: `urn:qualink:${source}`,
          type: 'crm.complaint.opened.v1',
          subject: c.caseId,
          time: w.occurredAt,
          plant: raw.plant,
          data: {
            complaint: {
              id: c.caseId,
              plant: raw.plant,
              customer: c.customer,
              material: c.material,
              lots: [c.batch],
              deliveries: c.deliveryDocument ? [c.deliveryDocument] : [],
              ...(c.quantityAffected
                ? {
                    quantity: parseDecimal(
                      c.quantityAffected,
                      3,
                      (c.unit ?? 'EA').toUpperCase(),
                      '/data/quantityAffected',
                    ),
                  }
                : {}),
              severity: SEVERITY[c.severity] ?? 'major',
              description: c.description ?? '',
              audit: { timestamp: w.occurredAt, sourceSystem: source, approvalStatus: 'not_required' },
            },
          },
        } as CloudEvent,
      ]
    },
  }
}

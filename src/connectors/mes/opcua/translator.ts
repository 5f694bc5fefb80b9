import type { CloudEvent } from '../../../contracts/envelope.ts'
import { QualinkError } from '../../../contracts/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { type IdMappingSettings, inboundIds } from '../../../mapping/id-mapping.ts'
import { parseJsonBody } from '../../sdk/json-body.ts'
import type { OpcUaMessage } from './message.ts'

/**
 * OPC UA source deliveries → canonical events: a sampled result becomes
 * `mes.measurement.sampled.v1` (no workflow starts on it; it is history), a completion becomes
 * `mes.operation.completed.v1` (the in-process quality check starts on it). The event id is the
 * delivery id, itself derived from (endpoint, node, source time or counter value).
 */
export function opcUaTranslator(source: string, ids?: IdMappingSettings): Translator {
  return {
    source,
    async translate(raw, xref): Promise<CloudEvent[]> {
      const m = parseJsonBody<OpcUaMessage>(raw.body, 'OPC UA delivery')
      const map = inboundIds(xref, ids, raw.plant)
      const lot = m.context.lot === undefined ? undefined : await map('lot', m.context.lot, '/context/lot')
      const envelope = {
        specversion: '1.0' as const,
        id: raw.deliveryId,
        source: `urn:qualink:${source}`,
        plant: raw.plant,
      }
      const audit = (timestamp: string) => ({
        timestamp,
        sourceSystem: source,
        approvalStatus: 'not_required',
        equipment: m.equipment,
      })
      if (m.kind === 'sample') {
        return [
          {
            ...envelope,
            type: 'mes.measurement.sampled.v1',
            subject: `${m.equipment}/${m.characteristic}`,
            time: m.takenAt,
            data: {
              plant: raw.plant,
              equipment: m.equipment,
              measurement: {
                characteristic: m.characteristic,
                value: m.value,
                unit: m.unit,
                takenAt: m.takenAt,
              },
              ...(m.summary ? { summary: m.summary } : {}),
              ...(m.context.productionOrder ? { productionOrder: m.context.productionOrder } : {}),
              ...(m.context.operation ? { operation: m.context.operation } : {}),
              ...(lot ? { lot } : {}),
              origin: { endpoint: m.endpoint, node: m.node },
              audit: audit(m.takenAt),
            },
          } as CloudEvent,
        ]
      }
      const missing = (['productionOrder', 'operation'] as const).filter((k) => !m.context[k])
      if (missing.length > 0)
        throw new QualinkError(
          'QLK_VALIDATION',
          `OPC UA completion on ${m.node} has no ${missing.join(' or ')}: its context node was unreadable or empty`,
          missing.map((k) => ({ path: `/context/${k}`, message: 'is required for an operation completion' })),
        )
      return [
        {
          ...envelope,
          type: 'mes.operation.completed.v1',
          subject: m.context.productionOrder,
          time: m.completedAt,
          data: {
            operation: {
              productionOrder: m.context.productionOrder,
              number: m.context.operation,
              workCenter: m.equipment,
            },
            plant: raw.plant,
            measurements: m.measurements.map((x) => ({ ...x })),
            consumed: [],
            produced: [],
            audit: audit(m.completedAt),
          },
        } as CloudEvent,
      ]
    },
  }
}

import type { CloudEvent } from '../../../contracts/envelope.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { type IdMappingSettings, inboundIds } from '../../../mapping/id-mapping.ts'
import { canonicalUom } from '../../../mapping/units.ts'
import type { XrefResolver } from '../../../mapping/xref.ts'
import { parseDecimal } from '../../../model/quantity.ts'
import { parseJsonBody } from '../../sdk/json-body.ts'

/** The MES's operation-completed message (ISA-95 segment response; docs/simulators.md "mes"). */
interface MesCompletion {
  messageId: string
  sequence?: number
  line: string
  operation: string
  orderId: string
  completedAt: string
  operator?: string
  consumed: Array<{ lot: string; material: string; quantity: string; unit: string }>
  produced: Array<{ lot: string; material: string; quantity: string; unit: string }>
  measurements: Array<{ characteristic: string; value: number | string; unit: string }>
}

export interface MesTranslatorOptions {
  readonly source: string
  /** map MES material codes to enterprise ids through the identity map (parks when unmapped) */
  readonly mapMaterials?: boolean
  /** the plant's identity mapping for this source (wins over `mapMaterials`) */
  readonly ids?: IdMappingSettings
}

const uom = canonicalUom

/**
 * MES completion → `mes.operation.completed.v1`. Measurements stay decimal strings and
 * quantities become fixed-point at scale 3: a float never decides conservation downstream.
 */
export function mesTranslator(o: MesTranslatorOptions): Translator {
  return {
    source: o.source,
    async translate(raw, xref: XrefResolver): Promise<CloudEvent[]> {
      const m = parseJsonBody<MesCompletion>(raw.body, 'MES message')
      const settings: IdMappingSettings | undefined =
        o.ids ??
        (o.mapMaterials ? { system: o.source, entities: ['material'], unknown: 'reject' } : undefined)
      const map = inboundIds(xref, settings, raw.plant)
      const lots = async (list: MesCompletion['consumed'], kind: string) =>
        Promise.all(
          (list ?? []).map(async (l, i) => ({
            lot: await map('lot', l.lot, `/${kind}/${i}/lot`),
            material: await map('material', l.material, `/${kind}/${i}/material`),
            quantity: parseDecimal(String(l.quantity), 3, uom(l.unit), `/${kind}/${i}/quantity`),
          })),
        )
      return [
        {
          specversion: '1.0',
          id: `${raw.deliveryId}`,
          source: `urn:qualink:${o.source}`,
          type: 'mes.operation.completed.v1',
          subject: m.orderId,
          time: m.completedAt,
          plant: raw.plant,
          ...(typeof m.sequence === 'number' ? { sequence: m.sequence } : {}),
          data: {
            operation: { productionOrder: m.orderId, number: m.operation, workCenter: m.line },
            plant: raw.plant,
            measurements: (m.measurements ?? []).map((x) => ({
              characteristic: x.characteristic.toUpperCase().replace(/[^A-Z0-9_-]/g, '_'),
              value: String(x.value),
              unit: uom(x.unit),
              takenAt: m.completedAt,
            })),
            consumed: await lots(m.consumed, 'consumed'),
            produced: await lots(m.produced, 'produced'),
            audit: {
              timestamp: m.completedAt,
              sourceSystem: o.source,
              approvalStatus: 'not_required',
              ...(m.operator ? { operator: m.operator } : {}),
              equipment: m.line,
            },
          },
        } as CloudEvent,
      ]
    },
  }
}

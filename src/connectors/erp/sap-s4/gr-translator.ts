import type { CloudEvent } from '../../../contracts/envelope.ts'
import { QualinkError } from '../../../contracts/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import {
  type IdMappingSettings,
  inboundIds,
  type MapId,
  mapOptional,
  sourcePlant,
} from '../../../mapping/id-mapping.ts'
import { parseDecimal } from '../../../model/quantity.ts'

/** The GoodsReceiptPosted webhook / feed entry (docs/simulators.md, "Goods-receipt events"). */
interface GoodsReceiptPosted {
  eventType?: 'GoodsReceiptPosted' | 'GoodsReceiptReversed'
  EventID: string
  MaterialDocumentYear: string
  MaterialDocument: string
  MaterialDocumentItem: string
  GoodsMovementType: string
  Material: string
  Plant: string
  Batch: string
  Supplier?: string
  PurchaseOrder?: string
  QuantityInEntryUnit: string
  EntryUnit: string
  InventoryStockType: string
  InspectionLot?: string
  PostingDate: number | string
  ReversedMaterialDocument?: string
  ReversedMaterialDocumentYear?: string
  ReversedMaterialDocumentItem?: string
}

/** Receipt reversal movement types (SAP pairs n / n+1: 101→102, 501→502). */
const REVERSALS = new Set(['102', '502'])

/** SAP InventoryStockType → canonical bucket ('02' quality inspection, '01' unrestricted; reference §1.5). */
const BUCKET: Record<string, string> = { '01': 'unrestricted', '02': 'qualityInspection', '07': 'blocked' }

/**
 * The receipt's plant as the Qualink plant (refused when it is another plant than the source's),
 * its material, batch and supplier in enterprise ids (src/mapping/id-mapping.ts).
 */
async function mapped(
  gr: GoodsReceiptPosted,
  map: MapId,
  at: { readonly plant: string; readonly source: string },
): Promise<GoodsReceiptPosted> {
  return {
    ...gr,
    Plant: await sourcePlant(map, gr.Plant, { ...at, field: '/Plant' }),
    Material: await map('material', gr.Material, '/Material'),
    Batch: await map('lot', gr.Batch, '/Batch'),
    Supplier: await mapOptional(map, 'supplier', gr.Supplier, '/Supplier'),
  }
}

/**
 * erp-s4 goods receipt → `erp.goods_receipt.posted.v1`, one event per receipt item; a reversal
 * (webhook `GoodsReceiptReversed`, or a feed entry with 102/502) → `erp.goods_receipt.reversed.v1`
 * naming the receipt document it cancels. Plant, material, batch and supplier go through the
 * plant's identity mapping for this source when one is configured: `lot.plant` is the Qualink
 * plant (the ERP's `Plant` mapped, identity without a mapping), and a receipt of another plant
 * than the source's is refused with QLK_PLANT_MISMATCH at `/Plant` (the raw delivery stays).
 */
export function sapS4GoodsReceiptTranslator(source: string, ids?: IdMappingSettings): Translator {
  return {
    source,
    async translate(raw, xref): Promise<CloudEvent[]> {
      const gr = await mapped(
        JSON.parse(raw.body.toString('utf8')) as GoodsReceiptPosted,
        inboundIds(xref, ids, raw.plant),
        { plant: raw.plant, source },
      )
      if (gr.eventType === 'GoodsReceiptReversed' || REVERSALS.has(gr.GoodsMovementType))
        return [reversal(gr, source, raw.plant)]
      const bucket = BUCKET[gr.InventoryStockType]
      if (!bucket) {
        throw new QualinkError('QLK_VALIDATION', `unknown InventoryStockType '${gr.InventoryStockType}'`, [
          { path: '/InventoryStockType', message: "must be '01', '02' or '07'" },
        ])
      }
      const time = new Date(
        typeof gr.PostingDate === 'number' ? gr.PostingDate : Date.parse(gr.PostingDate),
      ).toISOString()
      return [
        {
          specversion: '1.0',
          id: `${gr.MaterialDocumentYear}-${gr.MaterialDocument}-${gr.MaterialDocumentItem}`,
          source: `urn:qualink:${source}`,
          type: 'erp.goods_receipt.posted.v1',
          subject: gr.Batch,
          time,
          plant: raw.plant,
          data: {
            materialDocument: {
              id: gr.MaterialDocument,
              year: Number(gr.MaterialDocumentYear),
              item: gr.MaterialDocumentItem,
            },
            lot: { id: gr.Batch, material: gr.Material, plant: gr.Plant },
            ...(gr.Supplier ? { supplier: gr.Supplier } : {}),
            ...(gr.PurchaseOrder ? { purchaseOrder: gr.PurchaseOrder } : {}),
            quantity: parseDecimal(
              gr.QuantityInEntryUnit,
              3,
              gr.EntryUnit.toUpperCase(),
              '/QuantityInEntryUnit',
            ),
            bucket,
            ...(gr.InspectionLot ? { inspectionLot: gr.InspectionLot } : {}),
            audit: { timestamp: time, sourceSystem: source, approvalStatus: 'not_required' },
          },
        } as CloudEvent,
      ]
    },
  }
}

function reversal(gr: GoodsReceiptPosted, source: string, plant: string): CloudEvent {
  if (!gr.ReversedMaterialDocument) {
    throw new QualinkError('QLK_VALIDATION', 'a goods-receipt reversal must name the reversed document', [
      { path: '/ReversedMaterialDocument', message: 'required on a 102/502 reversal' },
    ])
  }
  const time = new Date(
    typeof gr.PostingDate === 'number' ? gr.PostingDate : Date.parse(gr.PostingDate),
  ).toISOString()
  return {
    specversion: '1.0',
    id: `${gr.MaterialDocumentYear}-${gr.MaterialDocument}-${gr.MaterialDocumentItem}`,
    source: `urn:qualink:${source}`,
    type: 'erp.goods_receipt.reversed.v1',
    subject: gr.Batch,
    time,
    plant,
    data: {
      materialDocument: {
        id: gr.MaterialDocument,
        year: Number(gr.MaterialDocumentYear),
        item: gr.MaterialDocumentItem,
      },
      reversedDocument: {
        id: gr.ReversedMaterialDocument,
        ...(gr.ReversedMaterialDocumentYear ? { year: Number(gr.ReversedMaterialDocumentYear) } : {}),
        ...(gr.ReversedMaterialDocumentItem ? { item: gr.ReversedMaterialDocumentItem } : {}),
      },
      lot: { id: gr.Batch, material: gr.Material, plant: gr.Plant },
      quantity: parseDecimal(gr.QuantityInEntryUnit, 3, gr.EntryUnit.toUpperCase(), '/QuantityInEntryUnit'),
      ...(BUCKET[gr.InventoryStockType] ? { bucket: BUCKET[gr.InventoryStockType] } : {}),
      audit: { timestamp: time, sourceSystem: source, approvalStatus: 'not_required' },
    },
  } as CloudEvent
}

import type { CloudEvent } from '../../../contracts/envelope.ts'
import { QualinkError } from '../../../contracts/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { parseDecimal } from '../../../model/quantity.ts'

/** The GoodsReceiptPosted webhook / feed entry (docs/simulators.md, "Goods-receipt events"). */
interface GoodsReceiptPosted {
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
}

/** SAP InventoryStockType → canonical bucket ('02' quality inspection, '01' unrestricted; reference §1.5). */
const BUCKET: Record<string, string> = { '01': 'unrestricted', '02': 'qualityInspection', '07': 'blocked' }

/** erp-s4 goods receipt → `erp.goods_receipt.posted.v1`, one event per receipt item. */
export function sapS4GoodsReceiptTranslator(source: string): Translator {
  return {
    source,
    async translate(raw): Promise<CloudEvent[]> {
      const gr = JSON.parse(raw.body.toString('utf8')) as GoodsReceiptPosted
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

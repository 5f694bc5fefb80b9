/**
 * Goods-receipt events, published two ways: a webhook POST per receipt item (JSON, optionally
 * HMAC-signed) and a polled feed, ZQUALINK_GR_FEED_SRV/GoodsReceiptEvents, whose cursor is
 * EventSequence (`$filter=EventSequence gt <last seen>`). The "Z" prefix marks it as a custom
 * service, which is how plants expose such feeds from S/4.
 */
import { randomUUID } from 'node:crypto'
import type { Router } from '../shared/http.ts'
import { formatQuantity } from '../shared/quantity.ts'
import type { WebhookSender } from '../shared/webhooks.ts'
import type { GoodsReceiptEvent, MaterialDocument, MaterialDocumentItem, S4Model } from './model.ts'
import { collection, dateTime, type ODataRecord, withMeta } from './odata.ts'

export const FEED_BASE = '/sap/opu/odata/sap/ZQUALINK_GR_FEED_SRV'

export function eventView(e: GoodsReceiptEvent): ODataRecord {
  return withMeta(
    FEED_BASE,
    'GoodsReceiptEvents',
    'ZQUALINK_GR_FEED_SRV.GoodsReceiptEventType',
    { EventSequence: String(e.EventSequence) },
    {
      ...e,
      PostingDate: dateTime(e.PostingDate),
    },
  )
}

/**
 * A receipt's reversal goes out the same two ways as the receipt, as a `GoodsReceiptReversed`
 * webhook and a feed entry with movement type 102/502 naming the reversed document.
 */
export function recordGoodsReceiptReversal(
  model: S4Model,
  webhooks: WebhookSender,
  reversal: MaterialDocument,
  item: MaterialDocumentItem,
): void {
  recordGoodsReceipt(model, webhooks, reversal, item, 'GoodsReceiptReversed')
}

export function recordGoodsReceipt(
  model: S4Model,
  webhooks: WebhookSender,
  doc: MaterialDocument,
  item: MaterialDocumentItem,
  eventType: 'GoodsReceiptPosted' | 'GoodsReceiptReversed' = 'GoodsReceiptPosted',
): void {
  const reversed = eventType === 'GoodsReceiptReversed'
  const e: GoodsReceiptEvent = {
    EventSequence: model.grEvents.length + 1,
    EventID: randomUUID(),
    MaterialDocumentYear: doc.MaterialDocumentYear,
    MaterialDocument: doc.MaterialDocument,
    MaterialDocumentItem: item.MaterialDocumentItem,
    GoodsMovementType: item.GoodsMovementType,
    Material: item.Material,
    Plant: item.Plant,
    StorageLocation: item.StorageLocation,
    Batch: item.Batch,
    Supplier: item.Supplier,
    PurchaseOrder: item.PurchaseOrder,
    PurchaseOrderItem: item.PurchaseOrderItem,
    ManufacturingOrder: item.ManufacturingOrder,
    QuantityInEntryUnit: formatQuantity(item.quantity),
    EntryUnit: item.EntryUnit,
    InventoryStockType: (reversed ? item.from : item.to) === 'qi' ? '02' : item.InventoryStockType,
    InspectionLot: item.InspectionLot,
    PostingDate: doc.PostingDate,
    ...(reversed
      ? {
          ReversedMaterialDocument: item.ReversedMaterialDocument,
          ReversedMaterialDocumentYear: item.ReversedMaterialDocumentYear,
          ReversedMaterialDocumentItem: item.ReversedMaterialDocumentItem,
        }
      : {}),
  }
  model.grEvents.push(e)
  webhooks.send(eventType, {
    eventType,
    ...e,
    PostingDate: new Date(e.PostingDate).toISOString(),
  })
}

export function registerFeedRoutes(router: Router, model: S4Model): void {
  const B = FEED_BASE.replace(/\//g, '\\/')
  router.on('GET', new RegExp(`^${B}/GoodsReceiptEvents$`), (req) =>
    collection(req, model.grEvents.map(eventView)),
  )
}

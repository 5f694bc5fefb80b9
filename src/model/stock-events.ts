import { QualinkError } from '../contracts/errors.ts'
import type { Disposition } from './nonconformance.ts'
import type { Quantity } from './quantity.ts'
import type { Bucket } from './stock.ts'
import {
  DISPOSITION_MOVEMENTS,
  type LotStockEvent,
  type SapMovementType,
  type StockPlace,
} from './stock-state.ts'

/** The parts of erp.* event data the lot stock machine reads (see src/contracts/events/erp.ts). */
interface DocRef {
  readonly id: string
}
type StockEventData =
  | { readonly materialDocument: DocRef; readonly quantity: Quantity; readonly bucket: Bucket }
  | { readonly materialDocument: DocRef; readonly reversedDocument: DocRef; readonly quantity: Quantity }
  | {
      readonly materialDocument: DocRef
      readonly movementType: SapMovementType
      readonly from: Bucket
      readonly to: StockPlace
      readonly quantity: Quantity
    }
  | { readonly materialDocument: DocRef; readonly cancelledDocument: DocRef }

export const STOCK_EVENT_TYPES: ReadonlySet<string> = new Set([
  'erp.goods_receipt.posted.v1',
  'erp.goods_receipt.reversed.v1',
  'erp.stock.posted.v1',
  'erp.material_document.cancelled.v1',
])

/**
 * Translates a validated canonical ERP stock event into a lot stock machine event. `sequence` is
 * the CloudEvent `sequence` extension, when the source sends one.
 */
export function lotStockEventFrom(type: string, data: StockEventData, sequence?: number): LotStockEvent {
  if (!STOCK_EVENT_TYPES.has(type)) {
    throw new QualinkError('QLK_UNKNOWN_EVENT_TYPE', `${type} is not a lot stock event`, [
      { path: '/type', message: 'must be an erp goods receipt, stock or material document event' },
    ])
  }
  const seq = sequence === undefined ? {} : { sequence }
  const documentId = data.materialDocument.id
  switch (type) {
    case 'erp.goods_receipt.posted.v1': {
      const d = data as Extract<StockEventData, { bucket: Bucket }>
      return { type: 'goods_receipt', documentId, quantity: d.quantity, to: d.bucket, ...seq }
    }
    case 'erp.goods_receipt.reversed.v1': {
      const d = data as Extract<StockEventData, { reversedDocument: DocRef }>
      return {
        type: 'goods_receipt_reversed',
        documentId,
        receiptDocumentId: d.reversedDocument.id,
        quantity: d.quantity,
        ...seq,
      }
    }
    case 'erp.stock.posted.v1': {
      const d = data as Extract<StockEventData, { movementType: SapMovementType }>
      return {
        type: 'movement',
        documentId,
        movementType: d.movementType,
        from: d.from,
        to: d.to,
        quantity: d.quantity,
        ...seq,
      }
    }
    default: {
      // erp.material_document.cancelled.v1, the only type left in STOCK_EVENT_TYPES
      const d = data as Extract<StockEventData, { cancelledDocument: DocRef }>
      return { type: 'document_cancelled', documentId, cancelledDocumentId: d.cancelledDocument.id, ...seq }
    }
  }
}

export interface PlannedPosting {
  /** index of the disposition line, part of the posting's idempotency key */
  readonly line: number
  readonly movementType: SapMovementType
  readonly from: Bucket
  readonly to: StockPlace
  readonly quantity: Quantity
  readonly targetMaterial?: string
  readonly targetLot?: string
}

/**
 * The ERP postings that execute a disposition, one per line, from `from` (QI stock by default;
 * blocked stock for an NC dispositioned after containment). A release from blocked stock is 343,
 * not 321 (321 only leaves QI stock).
 */
export function postingsForDisposition(
  d: Pick<Disposition, 'lines'>,
  from: Bucket = 'qualityInspection',
): PlannedPosting[] {
  return d.lines.flatMap((line, i) => {
    const m = DISPOSITION_MOVEMENTS[line.code]
    if (m.to === from) return []
    const movementType: SapMovementType =
      from === 'blocked' && m.to === 'unrestricted' ? '343' : m.movementType
    return [
      {
        line: i,
        movementType,
        from,
        to: m.to,
        quantity: line.quantity,
        ...(line.targetMaterial ? { targetMaterial: line.targetMaterial } : {}),
        ...(line.targetLot ? { targetLot: line.targetLot } : {}),
      },
    ]
  })
}

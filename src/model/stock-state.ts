import { QualinkError } from '../contracts/errors.ts'
import type { DispositionCode } from './nonconformance.ts'
import { formatDecimal, type Quantity, rescale } from './quantity.ts'
import {
  illegalTransition,
  nextSequence,
  type ObjectRef,
  type Outcome,
  type SequencedEvent,
  staleness,
} from './state-machine.ts'
import { type Bucket, emptyStock, isConserved, type StockVector } from './stock.ts'

/** Where a posting takes quantity from / puts it: a bucket, or out of this lot (309 transfer). */
export type StockPlace = Bucket | 'transferredOut'

export interface PostedDocument {
  readonly documentId: string
  readonly movementType: string
  readonly from?: StockPlace
  readonly to: StockPlace
  readonly units: number
  /** For a receipt: steps reversed so far (102 may reverse part of it). */
  readonly reversedUnits?: number
  readonly cancelled: boolean
}

export interface LotStockState {
  readonly ref: ObjectRef
  readonly stock: StockVector
  readonly lastSequence?: number
  /** Material documents applied to this lot, by id, so a cancellation reverses exactly them. */
  readonly documents: Readonly<Record<string, PostedDocument>>
}

export type LotStockEvent = SequencedEvent &
  (
    | {
        readonly type: 'goods_receipt'
        readonly documentId: string
        readonly quantity: Quantity
        readonly to: Bucket
      }
    | {
        readonly type: 'goods_receipt_reversed'
        readonly documentId: string
        readonly receiptDocumentId: string
        /** Partial reversal (SAP 102 for part of the item); absent = whatever is left of the receipt. */
        readonly quantity?: Quantity
      }
    | {
        readonly type: 'movement'
        readonly documentId: string
        readonly movementType: SapMovementType
        readonly quantity: Quantity
        /** Overrides the movement type's default source/target (e.g. 350 into reserves). */
        readonly from?: Bucket
        readonly to?: StockPlace
      }
    | {
        readonly type: 'document_cancelled'
        readonly documentId: string
        readonly cancelledDocumentId: string
      }
  )

/**
 * SAP movement types used by QM stock postings. Sources: reference/quality-domain.md §1.4 —
 * 321 [V], 349/350 [V], 553 [V], 331/122/309 [S], 343 [U]. `from`/`to` are the defaults for a lot in QI stock.
 */
export const SAP_MOVEMENT_TYPES = {
  '321': { from: 'qualityInspection', to: 'unrestricted', meaning: 'QI stock → unrestricted (release)' },
  '350': { from: 'qualityInspection', to: 'blocked', meaning: 'QI stock → blocked' },
  '349': { from: 'blocked', to: 'qualityInspection', meaning: 'blocked → QI stock' },
  '553': { from: 'qualityInspection', to: 'scrap', meaning: 'scrapping from QI stock' },
  '331': { from: 'qualityInspection', to: 'sample', meaning: 'withdrawal of sample from QI stock' },
  '122': { from: 'qualityInspection', to: 'returned', meaning: 'return delivery to vendor' },
  '309': {
    from: 'qualityInspection',
    to: 'transferredOut',
    meaning: 'transfer posting material to material',
  },
  // Plant to plant (erpgreat.com "SAP movement types": 301 one step, unrestricted → unrestricted of
  // the receiving plant; 303 two steps, removal into the receiving plant's stock in transfer, placed
  // later by 305). For the issuing plant's lot both leave it; the event names the receiving plant.
  '301': { from: 'unrestricted', to: 'transferredOut', meaning: 'plant to plant in one step' },
  '303': { from: 'unrestricted', to: 'transferredOut', meaning: 'plant to plant in two steps (removal)' },
  // 343 is SAP's standard blocked → unrestricted transfer posting (not in the reference table; verify per ERP).
  '343': { from: 'blocked', to: 'unrestricted', meaning: 'blocked → unrestricted' },
} as const satisfies Record<string, { from: Bucket; to: StockPlace; meaning: string }>
export type SapMovementType = keyof typeof SAP_MOVEMENT_TYPES

/**
 * Disposition code → the SAP posting that executes it from QI stock. REWORK and REPAIR keep the
 * quantity out of use (blocked) until the rework order returns it; RETAIN_SAMPLE goes to reserves
 * via 350 into a blocked storage location (§1.4 table).
 */
export const DISPOSITION_MOVEMENTS: Readonly<
  Record<DispositionCode, { movementType: SapMovementType; to: StockPlace }>
> = {
  RELEASE: { movementType: '321', to: 'unrestricted' },
  USE_AS_IS: { movementType: '321', to: 'unrestricted' },
  BLOCK: { movementType: '350', to: 'blocked' },
  REWORK: { movementType: '350', to: 'blocked' },
  REPAIR: { movementType: '350', to: 'blocked' },
  SCRAP: { movementType: '553', to: 'scrap' },
  SAMPLE_CONSUMED: { movementType: '331', to: 'sample' },
  RETAIN_SAMPLE: { movementType: '350', to: 'reserves' },
  RETURN_TO_VENDOR: { movementType: '122', to: 'returned' },
  REGRADE: { movementType: '309', to: 'transferredOut' },
}

export function newLotStock(id: string, uom: string, scale: number): LotStockState {
  return { ref: { type: 'lot', id }, stock: emptyStock(uom, scale), documents: {} }
}

function conservation(ref: ObjectRef, detail: string, path: string, message: string): QualinkError {
  return new QualinkError('QLK_CONSERVATION', `${ref.type} ${ref.id}: ${detail}`, [{ path, message }])
}

/** Converts an event quantity to the lot's steps; a different uom must be converted first (mapping/units). */
function toSteps(state: LotStockState, q: Quantity): number {
  const { stock, ref } = state
  if (q.uom !== stock.uom) {
    throw conservation(
      ref,
      `quantity in ${q.uom}, lot is kept in ${stock.uom}`,
      '/quantity/uom',
      `must be ${stock.uom}`,
    )
  }
  const r = rescale(q, stock.scale, '/quantity')
  if (r.units <= 0)
    throw conservation(ref, `quantity ${formatDecimal(q)} is not positive`, '/quantity/units', 'must be > 0')
  return r.units
}

function withdraw(stock: StockVector, ref: ObjectRef, place: StockPlace, units: number): StockVector {
  if (place === 'transferredOut') {
    if (stock.transferredOut < units) {
      throw conservation(
        ref,
        `only ${stock.transferredOut} steps were transferred out, cannot take back ${units}`,
        '/quantity',
        'exceeds transferred-out quantity',
      )
    }
    return { ...stock, transferredOut: stock.transferredOut - units }
  }
  const have = stock.buckets[place]
  if (have < units) {
    throw conservation(
      ref,
      `bucket ${place} holds ${have} steps, movement needs ${units}`,
      '/quantity',
      `exceeds ${place} stock`,
    )
  }
  return { ...stock, buckets: { ...stock.buckets, [place]: have - units } }
}

function deposit(stock: StockVector, place: StockPlace, units: number): StockVector {
  if (place === 'transferredOut') return { ...stock, transferredOut: stock.transferredOut + units }
  return { ...stock, buckets: { ...stock.buckets, [place]: stock.buckets[place] + units } }
}

function checked(ref: ObjectRef, before: StockVector, after: StockVector): StockVector {
  // Belt and braces: every branch above conserves by construction; this catches a future one that doesn't.
  if (!isConserved(after) || !Number.isSafeInteger(after.received)) {
    throw conservation(
      ref,
      `movement would break Σ buckets + transferredOut = received (was ${before.received})`,
      '/stock',
      'sum not conserved',
    )
  }
  return after
}

function isSameDocument(state: LotStockState, doc: PostedDocument, event: LotStockEvent): boolean {
  const unitsOf = (q: Quantity | undefined) =>
    q === undefined || q.uom !== state.stock.uom || q.scale > state.stock.scale
      ? undefined
      : rescale(q, state.stock.scale).units
  switch (event.type) {
    case 'goods_receipt':
      return doc.movementType === '101' && doc.to === event.to && doc.units === unitsOf(event.quantity)
    case 'goods_receipt_reversed':
      return (
        doc.movementType === '102' && (event.quantity === undefined || doc.units === unitsOf(event.quantity))
      )
    case 'movement':
      return (
        doc.movementType === event.movementType &&
        doc.from === (event.from ?? SAP_MOVEMENT_TYPES[event.movementType].from) &&
        doc.to === (event.to ?? SAP_MOVEMENT_TYPES[event.movementType].to) &&
        doc.units === unitsOf(event.quantity)
      )
    case 'document_cancelled':
      return doc.movementType.endsWith('-cancel')
  }
}

/**
 * Applies one stock event to a lot. Receipts and their reversals change `received`; every other
 * movement moves steps between places, so the sum never changes. A cancelled material document is
 * undone by the exact inverse movement (SAP's /Cancel posts the reverse document).
 */
export function applyLotStockEvent(state: LotStockState, event: LotStockEvent): Outcome<LotStockState> {
  const { ref } = state
  // Checked before the sequence: a re-read of an old document is harmless and must not park.
  const existing = state.documents[event.documentId]
  if (existing) {
    // The same material document seen again (a re-read, a reconciliation heal) changes nothing;
    // a different posting under a known document number is a data error worth stopping for.
    if (isSameDocument(state, existing, event)) return { parked: false, state }
    throw illegalTransition(
      ref,
      'posted',
      event.type,
      `material document ${event.documentId} already applied with different content`,
    )
  }
  const stale = staleness(state, event)
  if (stale) return stale
  const lastSequence = nextSequence(state, event)
  let stock: StockVector
  let doc: PostedDocument
  let documents = state.documents
  switch (event.type) {
    case 'goods_receipt': {
      const units = toSteps(state, event.quantity)
      const received = state.stock.received + units
      if (!Number.isSafeInteger(received))
        throw conservation(ref, 'received quantity overflows', '/quantity', 'too large')
      stock = deposit({ ...state.stock, received }, event.to, units)
      doc = { documentId: event.documentId, movementType: '101', to: event.to, units, cancelled: false }
      break
    }
    case 'goods_receipt_reversed': {
      const receipt = state.documents[event.receiptDocumentId]
      if (receipt?.movementType !== '101') {
        throw illegalTransition(
          ref,
          'posted',
          event.type,
          `no goods receipt ${event.receiptDocumentId} on this lot`,
        )
      }
      if (receipt.cancelled)
        throw illegalTransition(ref, 'reversed', event.type, `receipt ${receipt.documentId} already reversed`)
      const remaining = receipt.units - (receipt.reversedUnits ?? 0)
      const units = event.quantity ? toSteps(state, event.quantity) : remaining
      if (units > remaining) {
        throw conservation(
          ref,
          `reversal of ${units} steps exceeds the ${remaining} steps left of receipt ${receipt.documentId}`,
          '/quantity',
          'exceeds the unreversed receipt quantity',
        )
      }
      const taken = withdraw(state.stock, ref, receipt.to, units)
      stock = { ...taken, received: taken.received - units }
      doc = {
        documentId: event.documentId,
        movementType: '102',
        from: receipt.to,
        to: receipt.to,
        units,
        cancelled: false,
      }
      const reversedUnits = (receipt.reversedUnits ?? 0) + units
      documents = {
        ...documents,
        [receipt.documentId]: { ...receipt, reversedUnits, cancelled: reversedUnits === receipt.units },
      }
      break
    }
    case 'movement': {
      const spec = SAP_MOVEMENT_TYPES[event.movementType]
      const from = event.from ?? spec.from
      const to = event.to ?? spec.to
      if (from === to)
        throw illegalTransition(ref, from, `movement ${event.movementType}`, 'source and target are the same')
      const units = toSteps(state, event.quantity)
      stock = deposit(withdraw(state.stock, ref, from, units), to, units)
      doc = {
        documentId: event.documentId,
        movementType: event.movementType,
        from,
        to,
        units,
        cancelled: false,
      }
      break
    }
    case 'document_cancelled': {
      const original = state.documents[event.cancelledDocumentId]
      // Receipts are undone by goods_receipt_reversed; reversals and cancellations are not themselves cancelled.
      const cancellable =
        original?.from !== undefined &&
        original.movementType !== '102' &&
        !original.movementType.endsWith('-cancel')
      if (!original || !cancellable) {
        throw illegalTransition(
          ref,
          'posted',
          event.type,
          `no cancellable movement document ${event.cancelledDocumentId}`,
        )
      }
      if (original.cancelled)
        throw illegalTransition(
          ref,
          'cancelled',
          event.type,
          `document ${original.documentId} already cancelled`,
        )
      stock = deposit(withdraw(state.stock, ref, original.to, original.units), original.from, original.units)
      doc = {
        documentId: event.documentId,
        movementType: `${original.movementType}-cancel`,
        from: original.to,
        to: original.from,
        units: original.units,
        cancelled: false,
      }
      documents = { ...documents, [original.documentId]: { ...original, cancelled: true } }
      break
    }
  }
  return {
    parked: false,
    state: {
      ...state,
      stock: checked(ref, state.stock, stock),
      lastSequence,
      documents: { ...documents, [doc.documentId]: doc },
    },
  }
}

/** The lot's quantity in one bucket as a Quantity, for events and projections. */
export function bucketQuantity(state: LotStockState, bucket: Bucket): Quantity {
  return { units: state.stock.buckets[bucket], scale: state.stock.scale, uom: state.stock.uom }
}

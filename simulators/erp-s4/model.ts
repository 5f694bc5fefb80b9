/**
 * In-memory state of the S/4HANA simulator: material documents, inspection lots, usage decisions,
 * UD stock postings, production orders and outbound deliveries, over the shared stock ledger.
 */
import {
  type Bucket,
  type LotKey,
  type LotStock,
  lotId,
  type Place,
  StockLedger,
} from '../shared/stock-ledger.ts'

export interface MaterialSettings {
  /** QM active for goods receipts: receipts land in QI stock and open an inspection lot. */
  readonly inspectionRelevant: boolean
  readonly baseUnit: string
}

export interface MaterialDocumentItem {
  readonly MaterialDocumentItem: string
  readonly Material: string
  readonly Plant: string
  readonly StorageLocation: string
  readonly Batch: string
  readonly GoodsMovementType: string
  readonly InventoryStockType: string
  readonly IssuingOrReceivingStockType: string
  readonly IssgOrRcvgMaterial: string
  readonly IssgOrRcvgBatch: string
  readonly PurchaseOrder: string
  readonly PurchaseOrderItem: string
  readonly ManufacturingOrder: string
  readonly Supplier: string
  readonly GoodsMovementReasonCode: string
  readonly EntryUnit: string
  /** Thousandths. */
  readonly quantity: number
  readonly from: Place
  readonly to: Place
  readonly key: LotKey
  /** The other lot of a 309 (material-to-material) posting. */
  readonly counterKey?: LotKey
  InspectionLot: string
  GoodsMovementIsCancelled: boolean
  ReversedMaterialDocument: string
  ReversedMaterialDocumentYear: string
  ReversedMaterialDocumentItem: string
}

export interface MaterialDocument {
  readonly MaterialDocumentYear: string
  readonly MaterialDocument: string
  readonly GoodsMovementCode: string
  readonly PostingDate: number
  readonly DocumentDate: number
  readonly MaterialDocumentHeaderText: string
  readonly ReferenceDocument: string
  readonly CreationDateTime: number
  readonly items: MaterialDocumentItem[]
}

export interface UsageDecision {
  readonly InspectionLot: string
  InspLotUsageDecisionLevel: string
  InspLotUsageDecisionCodeGroup: string
  InspectionLotUsageDecisionCode: string
  InspLotUsageDecisionValuation: string
  InspectionLotQualityScore: string
  InspLotUsgeDcsnFollowUpAction: string
  InspectionLotUsageDecidedBy: string
  InspectionLotUsageDecidedOn: number
  ChangedDateTime: number
}

/** The UD posting buckets of quality-domain.md §1.4 (`InspLotQtyTo…` fields). */
export type UdBucket = 'free' | 'scrap' | 'sample' | 'blocked' | 'reserves' | 'newMaterial' | 'returned'

export interface InspectionLot {
  readonly InspectionLot: string
  readonly InspectionLotOrigin: string
  readonly InspectionLotType: string
  readonly Material: string
  readonly Plant: string
  readonly Batch: string
  readonly StorageLocation: string
  readonly Supplier: string
  readonly PurchasingDocument: string
  readonly PurchasingDocumentItem: string
  readonly ManufacturingOrder: string
  readonly MaterialDocument: string
  readonly MaterialDocumentYear: string
  readonly InspectionLotText: string
  readonly unit: string
  /** Thousandths. */
  readonly quantity: number
  readonly stockRelevant: boolean
  readonly createdAt: number
  changedAt: number
  posted: Record<UdBucket, number>
  usageDecision?: UsageDecision
}

export interface LotPosting {
  readonly InspectionLot: string
  readonly InspLotMatlDocItem: string
  readonly MaterialDocumentYear: string
  readonly MaterialDocument: string
  readonly MaterialDocumentItem: string
  readonly UsageDecisionStockType: string
  readonly bucket: UdBucket
  readonly quantity: number
  readonly StorageLocation: string
  readonly InspLotMaterialPostedTo: string
  readonly InspLotBatchTransferredTo: string
  readonly PostedAt: number
}

export interface ProductionOrder {
  readonly ManufacturingOrder: string
  readonly Material: string
  readonly ProductionPlant: string
  readonly TotalQuantity: number
  readonly ProductionUnit: string
  readonly Batch: string
  MfgOrderIsOnHold: boolean
  MfgOrderHoldReason: string
  LastChangeDateTime: number
  holdChanges: number
}

export interface OutboundDeliveryItem {
  readonly DeliveryDocumentItem: string
  readonly Material: string
  readonly Plant: string
  readonly Batch: string
  readonly quantity: number
  readonly DeliveryQuantityUnit: string
}

export interface OutboundDelivery {
  readonly DeliveryDocument: string
  readonly ShipToParty: string
  readonly SoldToParty: string
  DeliveryBlockReason: string
  LastChangeDateTime: number
  blockChanges: number
  readonly items: OutboundDeliveryItem[]
}

export interface GoodsReceiptEvent {
  readonly EventSequence: number
  readonly EventID: string
  readonly MaterialDocumentYear: string
  readonly MaterialDocument: string
  readonly MaterialDocumentItem: string
  readonly GoodsMovementType: string
  readonly Material: string
  readonly Plant: string
  readonly StorageLocation: string
  readonly Batch: string
  readonly Supplier: string
  readonly PurchaseOrder: string
  readonly PurchaseOrderItem: string
  readonly ManufacturingOrder: string
  readonly QuantityInEntryUnit: string
  readonly EntryUnit: string
  readonly InventoryStockType: string
  readonly InspectionLot: string
  readonly PostingDate: number
  /** set on a reversal (102/502): the receipt document it cancels */
  readonly ReversedMaterialDocument?: string
  readonly ReversedMaterialDocumentYear?: string
  readonly ReversedMaterialDocumentItem?: string
}

/** Everything an S4Model holds, as plain JSON (the demo's ./data/simulators/erp-s4.json). */
export interface S4Dump {
  readonly ledger: LotStock[]
  readonly documents: MaterialDocument[]
  readonly lots: InspectionLot[]
  readonly lotPostings: LotPosting[]
  readonly productionOrders: ProductionOrder[]
  readonly deliveries: OutboundDelivery[]
  readonly grEvents: GoodsReceiptEvent[]
  readonly docSeq: number
  readonly lotSeq: Record<string, number>
  readonly lastTick: number
}

export class S4Model {
  readonly ledger = new StockLedger()
  readonly documents: MaterialDocument[] = []
  readonly lots = new Map<string, InspectionLot>()
  readonly lotPostings: LotPosting[] = []
  readonly productionOrders = new Map<string, ProductionOrder>()
  readonly deliveries = new Map<string, OutboundDelivery>()
  readonly grEvents: GoodsReceiptEvent[] = []
  private docSeq = 4_900_000_000
  private lotSeq = new Map<string, number>()
  private lastTick = 0

  constructor(
    readonly materials: ReadonlyMap<string, MaterialSettings>,
    private readonly clock: () => number,
  ) {}

  /** Strictly increasing milliseconds, so every change yields a new ChangedDateTime / ETag. */
  tick(): number {
    this.lastTick = Math.max(this.clock(), this.lastTick + 1)
    return this.lastTick
  }

  nextDocumentNumber(): string {
    this.docSeq += 1
    return String(this.docSeq)
  }

  /** Lot numbers carry the origin as prefix, as SAP's default number ranges do (010000000001). */
  nextLotNumber(origin: string): string {
    const n = (this.lotSeq.get(origin) ?? 0) + 1
    this.lotSeq.set(origin, n)
    return `${origin.padStart(2, '0')}${String(n).padStart(10, '0')}`
  }

  dump(): S4Dump {
    return {
      ledger: this.ledger.dump(),
      documents: this.documents,
      lots: [...this.lots.values()],
      lotPostings: this.lotPostings,
      productionOrders: [...this.productionOrders.values()],
      deliveries: [...this.deliveries.values()],
      grEvents: this.grEvents,
      docSeq: this.docSeq,
      lotSeq: Object.fromEntries(this.lotSeq),
      lastTick: this.lastTick,
    }
  }

  /** puts back what `dump` returned, into a fresh model; numbering continues where it stopped */
  restore(d: S4Dump): void {
    this.ledger.restore(d.ledger)
    for (const x of d.documents) this.documents.push(x)
    for (const x of d.lots) this.lots.set(x.InspectionLot, x)
    for (const x of d.lotPostings) this.lotPostings.push(x)
    for (const x of d.productionOrders) this.productionOrders.set(x.ManufacturingOrder, x)
    for (const x of d.deliveries) this.deliveries.set(x.DeliveryDocument, x)
    for (const x of d.grEvents) this.grEvents.push(x)
    this.docSeq = d.docSeq
    for (const [k, v] of Object.entries(d.lotSeq)) this.lotSeq.set(k, v)
    this.lastTick = d.lastTick
  }

  material(m: string): MaterialSettings {
    return this.materials.get(m) ?? { inspectionRelevant: true, baseUnit: 'PC' }
  }

  findDocument(year: string, number: string): MaterialDocument | undefined {
    return this.documents.find((d) => d.MaterialDocumentYear === year && d.MaterialDocument === number)
  }

  /** Active (not cancelled, not reversal) document items per lot and destination bucket. */
  documentsByLotAndBucket(): Record<string, Partial<Record<Bucket, number>>> {
    const out: Record<string, Partial<Record<Bucket, number>>> = {}
    for (const d of this.documents) {
      for (const it of d.items) {
        if (it.GoodsMovementIsCancelled || it.ReversedMaterialDocument) continue
        const id = lotId(it.key)
        const per = out[id] ?? {}
        out[id] = per
        const bucket: Place = it.to === 'external' ? it.from : it.to
        if (bucket !== 'external') per[bucket] = (per[bucket] ?? 0) + 1
      }
    }
    return out
  }
}

/**
 * What a test or the demo reads of the S/4 simulator (`ErpS4Sim.state`): its documents, inspection
 * lots, stock, orders and deliveries in plain shapes, with the counts the effect checks use.
 */
import type { Faults } from '../shared/faults.ts'
import type { HttpSim } from '../shared/http.ts'
import type { Bucket } from '../shared/stock-ledger.ts'
import { toBePosted } from './inspection-lots.ts'
import type { S4Model } from './model.ts'

export interface ErpS4State {
  readonly materialDocuments: Array<{
    year: string
    number: string
    goodsMovementCode: string
    headerText: string
    referenceDocument: string
    items: Array<{
      movementType: string
      lot: string
      from: string
      to: string
      quantity: number
      cancelled: boolean
      reversal: boolean
      inspectionLot: string
    }>
  }>
  readonly inspectionLots: Array<{
    lot: string
    origin: string
    stockLot: string
    quantity: number
    posted: Record<string, number>
    toBePosted: number
    usageDecision: string | null
    stockPostingCompleted: boolean
  }>
  readonly stock: ReturnType<S4Model['ledger']['snapshot']>
  readonly productionOrders: Array<{ order: string; onHold: boolean; reason: string; holdChanges: number }>
  readonly deliveries: Array<{ delivery: string; blockReason: string; blockChanges: number }>
  readonly suppliers: Array<{ supplier: string; purchasingBlocked: boolean; blockChanges: number }>
  /** production order confirmations as posted (not deduplicated), with the order's hold at posting */
  readonly confirmations: Array<{
    order: string
    operation: string
    yieldQuantity: number
    text: string
    postedOnHold: boolean
  }>
  readonly counts: {
    materialDocuments: number
    inspectionLots: number
    usageDecisions: number
    lotPostings: number
    goodsReceiptEvents: number
    /** Active (not cancelled) document items per stock lot and destination bucket. */
    documentsByLotAndBucket: Record<string, Partial<Record<Bucket, number>>>
    conservationViolations: string[]
  }
  /** every version of every inspection plan (API_INSPECTIONPLAN_SRV), oldest first */
  readonly inspectionPlans: Array<{ plan: string; version: string; materials: string[] }>
  readonly http: HttpSim['stats']
  readonly faultsInjected: Faults['counts']
}

/** The state read from the model, less what the server keeps beside it (suppliers, confirmations, plans). */
export function snapshot(
  model: S4Model,
  http: HttpSim,
  faults: Faults,
): Omit<ErpS4State, 'suppliers' | 'confirmations' | 'inspectionPlans'> {
  const lotKey = (k: { material: string; plant: string; batch: string }) =>
    `${k.material}|${k.plant}|${k.batch}`
  return {
    materialDocuments: model.documents.map((d) => ({
      year: d.MaterialDocumentYear,
      number: d.MaterialDocument,
      goodsMovementCode: d.GoodsMovementCode,
      headerText: d.MaterialDocumentHeaderText,
      referenceDocument: d.ReferenceDocument,
      items: d.items.map((it) => ({
        movementType: it.GoodsMovementType,
        lot: lotKey(it.key),
        from: it.from,
        to: it.to,
        quantity: it.quantity,
        cancelled: it.GoodsMovementIsCancelled,
        reversal: it.ReversedMaterialDocument !== '',
        inspectionLot: it.InspectionLot,
      })),
    })),
    inspectionLots: [...model.lots.values()].map((l) => ({
      lot: l.InspectionLot,
      origin: l.InspectionLotOrigin,
      stockLot: lotKey({ material: l.Material, plant: l.Plant, batch: l.Batch }),
      quantity: l.quantity,
      posted: { ...l.posted },
      toBePosted: toBePosted(l),
      usageDecision: l.usageDecision?.InspectionLotUsageDecisionCode ?? null,
      stockPostingCompleted: l.stockRelevant && l.usageDecision !== undefined && toBePosted(l) === 0,
    })),
    stock: model.ledger.snapshot(),
    productionOrders: [...model.productionOrders.values()].map((o) => ({
      order: o.ManufacturingOrder,
      onHold: o.MfgOrderIsOnHold,
      reason: o.MfgOrderHoldReason,
      holdChanges: o.holdChanges,
    })),
    deliveries: [...model.deliveries.values()].map((d) => ({
      delivery: d.DeliveryDocument,
      blockReason: d.DeliveryBlockReason,
      blockChanges: d.blockChanges,
    })),
    counts: {
      materialDocuments: model.documents.length,
      inspectionLots: model.lots.size,
      usageDecisions: [...model.lots.values()].filter((l) => l.usageDecision).length,
      lotPostings: model.lotPostings.length,
      goodsReceiptEvents: model.grEvents.length,
      documentsByLotAndBucket: model.documentsByLotAndBucket(),
      conservationViolations: model.ledger.violations(),
    },
    http: { ...http.stats },
    faultsInjected: { ...faults.counts },
  }
}

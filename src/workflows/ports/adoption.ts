/**
 * What go-live adoption (`qualink adopt`, docs/workflows.md "Go-live adoption") reads from a
 * plant's ERP and QMS beyond ErpPort / QmsPort: the work already in flight at cut-over. Read-only;
 * no workflow uses these ports. A connector that lacks them cannot be adopted from, and adopt says
 * so instead of guessing.
 */
import type { Quantity } from '../../model/quantity.ts'
import type { NonconformanceView, QmsInspectionLotView } from './qms.ts'

/**
 * An ERP inspection lot of a goods receipt (SAP origin 01) with quantity still to post out of QI.
 * ERPNext has no inspection lot: erp/erpnext lists each Purchase Receipt row into its QI warehouse
 * with its incoming Quality Inspection as `inspectionLot` (connectors/erp/erpnext/adoption.ts
 * says how each field maps and which it cannot fill).
 */
export interface OpenErpInspectionLot {
  /** the ERP's inspection lot number */
  readonly inspectionLot: string
  /** the ERP plant, material and batch (the ERP's own codes) */
  readonly plant: string
  readonly material: string
  readonly lot: string
  readonly supplier?: string
  /** the goods receipt that opened it */
  readonly materialDocument: { readonly id: string; readonly year?: number; readonly item?: string }
  /** the inspection lot's quantity (what the receipt put into quality inspection) */
  readonly quantity: Quantity
  /** what is still to be posted out of quality inspection */
  readonly toBePosted: Quantity
  /** the ERP already holds a usage decision for it */
  readonly decidedInErp: boolean
  /** the ERP lot's free text (SAP InspectionLotText): an earlier integration may have put the QMS lot there */
  readonly text?: string
  /**
   * Set when the ERP's own records do not say what is left to post, or name no inspection to post
   * it on (ERPNext: stock left the QI warehouse by entries not naming the Quality Inspection; a
   * receipt row naming none): why. Adopt leaves such a lot for a person.
   */
  readonly unsettled?: string
}

/** A production order the ERP has on (quality) hold (ERPNext has no such hold: it lists none). */
export interface HeldProductionOrder {
  readonly order: string
  readonly plant: string
  readonly material: string
  /** the batch the order produces; '' when the ERP has none on the order */
  readonly lot: string
  readonly reason: string
  /** Set when the order's material or batch has no identity mapping (mapped-adoption.ts): why. */
  readonly unsettled?: string
}

export interface AdoptionErpPort {
  /** goods-receipt inspection lots with quantity left in QI, of one ERP plant or of all */
  listOpenInspectionLots(opts?: { readonly plant?: string }): Promise<OpenErpInspectionLot[]>
  /** production orders on hold, of one ERP plant or of all */
  listHeldProductionOrders(opts?: { readonly plant?: string }): Promise<HeldProductionOrder[]>
}

export interface QmsLotWithReference extends QmsInspectionLotView {
  /** the external reference the creator wrote on the lot ('' when none) */
  readonly externalRef: string
}

/** An open nonconformance as adoption reads it. */
export interface OpenNonconformance extends NonconformanceView {
  /** Set when its batch has no identity mapping (mapped-adoption.ts): why. Adopt lists it for a person. */
  readonly unsettled?: string
}

export interface AdoptionQmsPort {
  /** the QMS's inspection lots of a batch (every status) */
  findInspectionLots(query: {
    readonly lot: string
    readonly material?: string
  }): Promise<QmsLotWithReference[]>
  /** nonconformances not yet dispositioned (open, contained, under review) */
  listOpenNonconformances(): Promise<OpenNonconformance[]>
  /** one inspection lot (QmsPort's read): the plant of a nonconformance's inspection lot */
  getInspectionLot(id: string): Promise<QmsInspectionLotView | null>
}

export function hasAdoptionErp(port: unknown): port is AdoptionErpPort {
  const p = port as Partial<AdoptionErpPort> | undefined
  return typeof p?.listOpenInspectionLots === 'function' && typeof p.listHeldProductionOrders === 'function'
}

export function hasAdoptionQms(port: unknown): port is AdoptionQmsPort {
  const p = port as Partial<AdoptionQmsPort> | undefined
  return (
    typeof p?.findInspectionLots === 'function' &&
    typeof p.listOpenNonconformances === 'function' &&
    typeof p.getInspectionLot === 'function'
  )
}

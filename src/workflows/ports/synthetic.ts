/**
 * What a synthetic transaction (`qualink synthetic run`, docs/operations.md "Synthetic
 * transactions") needs from an ERP beyond ErpPort: to post a goods receipt of a designated test
 * material, as a supplier's delivery would, and to take it back out again. No workflow uses this
 * port; a connector that lacks it cannot run the receipt transaction, and the report says so.
 */
import type { Quantity } from '../../model/quantity.ts'
import type { LotRef } from './erp.ts'

export interface SyntheticReceiptInput {
  /** written to the ERP document's reference/header text, so the document reads as synthetic */
  readonly reference: string
  readonly lot: LotRef
  readonly quantity: Quantity
  readonly supplier?: string
}

export interface SyntheticReceipt {
  /** the goods receipt's document (SAP: material document number and year) */
  readonly document: string
  /** the ERP's inspection lot opened by the receipt into quality inspection; '' when none */
  readonly inspectionLot: string
}

export interface SyntheticErpPort {
  postGoodsReceipt(input: SyntheticReceiptInput): Promise<SyntheticReceipt>
  /**
   * Takes the received quantity back out of unrestricted stock: a return delivery to the supplier
   * (SAP: movement 122). Used instead of cancelling the receipt, which an ERP refuses once the
   * inspection lot has usage-decision stock postings (SAP QA/421).
   */
  returnGoodsReceipt(
    input: SyntheticReceiptInput & {
      readonly receipt: SyntheticReceipt
      /** where the quantity is now: released, or still in quality inspection */
      readonly from: 'unrestricted' | 'qualityInspection'
    },
  ): Promise<{ readonly document: string }>
}

export function hasSyntheticErp(port: unknown): port is SyntheticErpPort {
  const p = port as Partial<SyntheticErpPort> | undefined
  return typeof p?.postGoodsReceipt === 'function' && typeof p.returnGoodsReceipt === 'function'
}

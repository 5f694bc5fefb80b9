/**
 * ErpPort: what the quality workflows ask of an ERP, in canonical terms (src/model). Connectors
 * (erp/sap-s4, erp/erpnext, …) translate to their system; a workflow never sees SAP field names.
 *
 * Every effect takes an `idempotencyKey` (the engine's step key, derived from business identity,
 * DESIGN §6). ERPs ignore Idempotency-Key headers, so an implementation must find its own earlier
 * effect in the ERP (a reference field it wrote, or the lot's posted quantities) before posting,
 * and report `alreadyDone` when the read-back shows the effect is there.
 */
import type { DispositionCode } from '../../model/nonconformance.ts'
import type { Quantity } from '../../model/quantity.ts'
import type { Bucket } from '../../model/stock.ts'

/** A lot (batch) of one material in one plant, in the ERP's identifiers after identity mapping. */
export interface LotRef {
  readonly plant: string
  readonly material: string
  readonly lot: string
}

/**
 * Where a usage decision sends quantity out of quality-inspection stock (quality-domain.md §1.4):
 * release → unrestricted, block → blocked, scrap, return (to vendor), sample (consumed),
 * reserves (retained sample), regrade (to another material/batch).
 */
export const UD_BUCKETS = ['release', 'block', 'scrap', 'return', 'sample', 'reserves', 'regrade'] as const
export type UsageDecisionBucket = (typeof UD_BUCKETS)[number]

/** Canonical disposition code → usage-decision bucket (same table as model/stock-state.ts). */
export const DISPOSITION_BUCKET: Readonly<Record<DispositionCode, UsageDecisionBucket>> = {
  RELEASE: 'release',
  USE_AS_IS: 'release',
  BLOCK: 'block',
  REWORK: 'block',
  REPAIR: 'block',
  SCRAP: 'scrap',
  SAMPLE_CONSUMED: 'sample',
  RETAIN_SAMPLE: 'reserves',
  RETURN_TO_VENDOR: 'return',
  REGRADE: 'regrade',
}

export interface StockSplitLine {
  readonly bucket: UsageDecisionBucket
  readonly quantity: Quantity
  /** regrade only: the material and/or batch the quantity moves to */
  readonly targetMaterial?: string
  readonly targetLot?: string
}

export interface PostStockDispositionInput {
  readonly idempotencyKey: string
  /** the ERP's inspection lot number */
  readonly inspectionLot: string
  readonly lot: LotRef
  /** the split of the decided quantity; lines of one bucket are added up */
  readonly lines: readonly StockSplitLine[]
  readonly traceparent?: string
}

export interface StockPostingResult {
  /** ERP document numbers that carry the effect (new or found by read-back) */
  readonly documents: readonly string[]
  /** true when the read-back found every line already posted and nothing was sent */
  readonly alreadyDone: boolean
}

export interface RecordUsageDecisionInput {
  readonly idempotencyKey: string
  /** the plant the decision concerns: routes the call when plants run different ERPs (ports/by-plant.ts) */
  readonly plant?: string
  readonly inspectionLot: string
  readonly valuation: 'accepted' | 'rejected'
  /** the ERP's UD code (catalog 3), after code mapping */
  readonly code: string
  readonly codeGroup?: string
  readonly decidedBy?: string
  /**
   * The QMS inspection lot the decision came from. The connector writes it where the ERP keeps a
   * free text on its lot (SAP: InspectionLotText), so a later change finds exactly these lots.
   */
  readonly reference?: string
  readonly traceparent?: string
}

export interface ChangeUsageDecisionInput {
  readonly idempotencyKey: string
  /** the batch: the connector finds its inspection lots (one per receipt) carrying `previousCode` */
  readonly lot: LotRef
  readonly previousCode: string
  readonly code: string
  readonly valuation: 'accepted' | 'rejected'
  readonly codeGroup?: string
  /** the QMS inspection lot whose decision changed (see RecordUsageDecisionInput.reference) */
  readonly reference?: string
  readonly traceparent?: string
}

export interface TransferStockInput {
  readonly idempotencyKey: string
  readonly lot: LotRef
  readonly from: Bucket
  readonly to: Bucket
  readonly quantity: Quantity
  /** free text for the ERP user (reason, NC number); the connector may shorten it */
  readonly reason?: string
  readonly traceparent?: string
}

export interface FindTransferInput {
  readonly idempotencyKey: string
  readonly lot: LotRef
  readonly traceparent?: string
}

export interface LotStockReading {
  readonly lot: LotRef
  /** buckets the ERP reports as physical stock; others (scrap, returned, sample) have left stock */
  readonly quantities: Readonly<Partial<Record<Bucket, Quantity>>>
}

export interface HoldInput {
  readonly idempotencyKey: string
  /** the plant of the order or delivery: routes the call when plants run different ERPs */
  readonly plant?: string
  readonly onHold: boolean
  readonly reason?: string
  readonly traceparent?: string
}

export interface ConfirmOperationInput {
  readonly idempotencyKey: string
  /** the plant of the order: routes the call when plants run different ERPs */
  readonly plant?: string
  readonly order: string
  readonly operation: string
  /** the good quantity the MES reported produced by the operation */
  readonly yieldQuantity: Quantity
  readonly traceparent?: string
}

export interface SupplierBlockInput {
  readonly idempotencyKey: string
  /** the plant whose policy asks for it: routes the call when plants run different ERPs */
  readonly plant?: string
  readonly supplier: string
  /** true: no new purchase orders to this supplier (SAP A_Supplier.PurchasingIsBlocked) */
  readonly blocked: boolean
  readonly reason?: string
  readonly traceparent?: string
}

export interface StateChangeResult {
  /** false when the ERP already was in the requested state (read first) */
  readonly changed: boolean
}

export interface ErpPort {
  /** Records the usage decision on the ERP's inspection lot (SAP: A_InspLotUsageDecision). */
  recordUsageDecision(input: RecordUsageDecisionInput): Promise<StateChangeResult>
  /**
   * Changes a recorded usage decision's code and valuation (no stock moves: the workflow posts
   * compensating transfers). Optional: an ERP without a usage-decision record has nothing to change.
   */
  changeUsageDecision?(input: ChangeUsageDecisionInput): Promise<StateChangeResult>
  /** Posts the decided split out of QI stock (SAP: UD stock posting). A separate call from the UD. */
  postStockDisposition(input: PostStockDispositionInput): Promise<StockPostingResult>
  readLotStock(lot: LotRef, opts?: { readonly traceparent?: string }): Promise<LotStockReading>
  /**
   * What the ERP still has to post out of quality inspection for one of its inspection lots (SAP:
   * InspLotQtyToBePosted); null when the ERP cannot tell. Optional: without it a posting is
   * confirmed by the lot's QI stock, which a later receipt of the same batch also fills.
   */
  readInspectionLotRemainder?(
    inspectionLot: string,
    opts?: { readonly plant?: string; readonly traceparent?: string },
  ): Promise<Quantity | null>
  /** One transfer posting between stock types of a lot (e.g. unrestricted → blocked on a complaint). */
  transferStock(input: TransferStockInput): Promise<StockPostingResult>
  /**
   * The documents of the transfer posted with this idempotency key, reversed ones excluded; none
   * when there is none (SAP: the key's reference in the header text, read back). Optional: a step
   * that re-reads a lot's stock after its process died tells its own earlier transfer from
   * another's by it; without it such a transfer is not reported (the ERP still holds it once).
   */
  findTransfer?(input: FindTransferInput): Promise<readonly string[]>
  setProductionOrderHold(input: HoldInput & { readonly order: string }): Promise<StateChangeResult>
  setDeliveryBlock(
    input: Omit<HoldInput, 'onHold'> & { readonly delivery: string; readonly blocked: boolean },
  ): Promise<StateChangeResult>
  /**
   * Sets or clears the supplier master's purchasing block (supplier quality status; SAP:
   * API_BUSINESS_PARTNER A_Supplier.PurchasingIsBlocked). Read first; `changed: false` when it
   * already was so. Optional: an ERP without it makes the supplier-quality workflow dead-letter.
   */
  setSupplierPurchasingBlock?(input: SupplierBlockInput): Promise<StateChangeResult>
  /**
   * Confirms an operation's yield on the production order (SAP: API_PROD_ORDER_CONFIRMATION_2_SRV
   * ProdnOrdConf2). Not deduplicated by the ERP: the connector writes the key's reference into
   * the confirmation text and reads it back before posting. Optional.
   */
  confirmOperation?(
    input: ConfirmOperationInput,
  ): Promise<{ readonly document: string; readonly alreadyDone: boolean }>
}

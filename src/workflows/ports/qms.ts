/**
 * QmsPort: what the quality workflows ask of a QMS, canonical (src/model). Creating records is
 * made idempotent the same way as ERP effects: the key is written to the record's external
 * reference and looked up before any create.
 */
import type { InspectionLotStatus, InspectionSpecification } from '../../model/inspection.ts'
import type { DispositionCode, NonconformanceStatus } from '../../model/nonconformance.ts'
import type { Quantity } from '../../model/quantity.ts'

export interface CreateInspectionLotInput {
  readonly idempotencyKey: string
  readonly plant: string
  readonly material: string
  readonly lot: string
  readonly quantity: Quantity
  /** units to inspect (from the sampling plan); the QMS picks one when absent */
  readonly sampleSize?: number
  readonly supplier?: string
  /** SAP-style origin code (01 goods receipt, 04 production receipt, …) */
  readonly origin?: string
  /** the inspection specification (plan revision) the lot is inspected against */
  readonly specification?: SpecificationRef
  readonly traceparent?: string
}

/** One revision of an inspection specification, and the scope it applies to. */
export interface SpecificationRef {
  readonly id: string
  readonly version: number
  readonly route?: string
  readonly supplier?: string
  /** the revision's quantitative characteristics and their limits, when the QMS lists them */
  readonly characteristics?: readonly SpecificationLimits[]
}

/** One characteristic's limits in a revision (SAP A_InspectionCharacteristic field meanings). */
export interface SpecificationLimits {
  readonly id: string
  readonly unit?: string
  readonly lowerLimit?: string
  readonly upperLimit?: string
  readonly target?: string
}

export interface QmsInspectionLotView {
  readonly id: string
  readonly plant: string
  readonly material: string
  readonly lot: string
  readonly quantity: Quantity
  readonly sampleSize: number
  readonly status: InspectionLotStatus
  /** the specification revision the QMS holds for the lot, when it was named at creation */
  readonly specification?: { readonly id: string; readonly version: number }
}

export interface Created<T> {
  readonly record: T
  /** false when the read-back found the record made by an earlier attempt */
  readonly created: boolean
}

export interface UsageDecisionView {
  readonly inspectionLot: string
  readonly valuation: 'accepted' | 'rejected'
  readonly code: string
  readonly lines: ReadonlyArray<{ readonly code: DispositionCode; readonly quantity: Quantity }>
  readonly decidedBy: string
  readonly decidedAt: string
}

export interface OpenNonconformanceInput {
  readonly idempotencyKey: string
  readonly plant: string
  readonly title: string
  readonly description?: string
  readonly severity: 'minor' | 'major' | 'critical'
  readonly inspectionLot?: string
  readonly lot?: string
  readonly traceparent?: string
}

export interface NonconformanceView {
  readonly id: string
  readonly title: string
  readonly severity: 'minor' | 'major' | 'critical'
  readonly status: NonconformanceStatus
  readonly inspectionLot?: string
  readonly lot?: string
}

export interface OpenCorrectiveActionInput {
  readonly idempotencyKey: string
  readonly plant: string
  readonly title: string
  /** the problem description (8D D2) */
  readonly description?: string
  /** the nonconformance the CAPA is linked to (quality-domain.md §5: NC → optional link → CAPA) */
  readonly nonconformance?: string
  readonly supplier?: string
  /** documents attached to the CAPA as it is opened (e.g. a complaint's trace as JSON) */
  readonly attachments?: ReadonlyArray<{
    readonly name: string
    readonly contentType: string
    readonly content: string
  }>
  readonly traceparent?: string
}

export interface CorrectiveActionView {
  readonly id: string
  readonly title: string
  readonly status: 'open' | 'completed'
  readonly nonconformance?: string
  /** names of the attached documents */
  readonly attachments: readonly string[]
}

export interface SetInspectionLotQuantityInput {
  readonly id: string
  /** the lot's whole quantity after the change (a state, not an increment: repeating it is harmless) */
  readonly quantity: Quantity
  /** units to inspect for the new quantity (from the sampling plan) */
  readonly sampleSize?: number
  readonly traceparent?: string
}

export interface QmsPort {
  createInspectionLot(input: CreateInspectionLotInput): Promise<Created<QmsInspectionLotView>>
  getInspectionLot(id: string): Promise<QmsInspectionLotView | null>
  /** resizes an undecided lot (a further partial receipt); refused once the lot is decided */
  setInspectionLotQuantity(input: SetInspectionLotQuantityInput): Promise<QmsInspectionLotView>
  /** cancels an undecided lot; no change when it already is cancelled */
  cancelInspectionLot(input: {
    readonly id: string
    readonly reason: string
    readonly traceparent?: string
  }): Promise<{ readonly changed: boolean }>
  /** null while no decision has been made */
  getUsageDecision(inspectionLot: string): Promise<UsageDecisionView | null>
  openNonconformance(input: OpenNonconformanceInput): Promise<Created<NonconformanceView>>
  /** opens a corrective action (CAPA), idempotent on the key like openNonconformance */
  openCorrectiveAction(input: OpenCorrectiveActionInput): Promise<Created<CorrectiveActionView>>
  /** moves the NC along its lifecycle; no change when it already is in `status` */
  setNonconformanceStatus(input: {
    readonly id: string
    readonly status: NonconformanceStatus
    readonly traceparent?: string
  }): Promise<{ readonly changed: boolean }>
  /**
   * Makes `spec` the QMS's current version of the inspection specification when it is newer than
   * what the QMS holds (read first); an equal or newer version there is left alone. Optional.
   */
  upsertSpecification?(input: {
    readonly spec: InspectionSpecification
    readonly traceparent?: string
  }): Promise<{ readonly applied: boolean; readonly current: number }>
  /**
   * The QMS's current specifications of a material in a plant (every scope: any route and
   * supplier), so a workflow can pick the one a lot is inspected against. Optional.
   */
  listSpecifications?(input: {
    readonly plant: string
    readonly material: string
    readonly traceparent?: string
  }): Promise<readonly SpecificationRef[]>
}

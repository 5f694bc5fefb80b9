/** QMS simulator state: inspection lots with results and usage decisions, nonconformances, CAPAs. */

export const DISPOSITIONS = ['USE_AS_IS', 'REWORK', 'REPAIR', 'REGRADE', 'SCRAP', 'RETURN_TO_VENDOR'] as const
export type Disposition = (typeof DISPOSITIONS)[number]

export interface InspectionResult {
  readonly id: string
  readonly characteristic: string
  readonly values: number[]
  readonly unit: string
  readonly lowerLimit: number | null
  readonly upperLimit: number | null
  readonly valuation: 'ACCEPTED' | 'REJECTED'
  readonly recordedBy: string
  readonly recordedAt: string
}

export interface UsageDecision {
  readonly inspectionLotId: string
  readonly decision: 'ACCEPT' | 'REJECT'
  readonly code: string
  /** Quantities in thousandths; their sum is the lot quantity. */
  readonly dispositions: Array<{ disposition: Disposition; quantity: number }>
  readonly decidedBy: string
  readonly decidedAt: string
}

export interface QmsInspectionLot {
  readonly id: string
  readonly externalRef: string
  readonly material: string
  readonly batch: string
  readonly plant: string
  readonly supplier: string
  readonly origin: string
  quantity: number
  readonly unit: string
  sampleSize: number
  /** the inspection specification (plan revision) the lot is inspected against, when named */
  readonly specification?: string
  readonly specificationVersion?: number
  status: 'OPEN' | 'IN_PROGRESS' | 'DECIDED' | 'CANCELLED'
  readonly results: InspectionResult[]
  usageDecision?: UsageDecision
  /** decisions replaced by a change, oldest first (a change never erases the record) */
  readonly replacedDecisions?: UsageDecision[]
  cancelReason?: string
  readonly createdAt: string
  updatedAt: string
}

export const NC_STATUSES = [
  'OPEN',
  'CONTAINED',
  'UNDER_REVIEW',
  'DISPOSITIONED',
  'DISPOSITION_EXECUTED',
  'CLOSED',
  'CANCELLED',
] as const
export type NcStatus = (typeof NC_STATUSES)[number]

export interface Nonconformance {
  readonly id: string
  readonly externalRef: string
  readonly inspectionLotId: string
  readonly batch: string
  readonly title: string
  readonly description: string
  readonly severity: 'MINOR' | 'MAJOR' | 'CRITICAL'
  status: NcStatus
  /** the quantity split decided when it was dispositioned (like a usage decision's) */
  dispositions?: Array<{ disposition: string; quantity: string; unit: string }>
  dispositionedBy?: string
  readonly createdAt: string
  updatedAt: string
}

export interface Capa {
  readonly id: string
  readonly nonconformanceId: string
  readonly type: 'CORRECTIVE' | 'PREVENTIVE'
  readonly title: string
  /** the caller's business key (Qualink's step key); the QMS does not deduplicate on it */
  readonly externalRef?: string
  /** D2 problem description */
  readonly description?: string
  /** a supplier corrective action names the supplier (its quality status follows the CAPA) */
  readonly supplier?: string
  /** documents attached at creation (e.g. a complaint's trace), kept as given */
  readonly attachments?: CapaAttachment[]
  status: 'OPEN' | 'COMPLETED'
  /** 8D discipline the team is working (D0 plan … D8 recognise the team; quality-domain.md §5) */
  eightDStep: EightDStep
  /** found in D4 (root cause and escape point) */
  rootCause?: string
  readonly createdAt: string
  updatedAt: string
}

export interface CapaAttachment {
  readonly name: string
  readonly contentType: string
  /** the document itself (text; JSON as a string) */
  readonly content: string
}

export const EIGHT_D = ['D0', 'D1', 'D2', 'D3', 'D4', 'D5', 'D6', 'D7', 'D8'] as const
export type EightDStep = (typeof EIGHT_D)[number]

/** Everything a QmsModel holds, as plain JSON (the demo's ./data/simulators/qms.json). */
export interface QmsDump {
  readonly lots: QmsInspectionLot[]
  readonly nonconformances: Nonconformance[]
  readonly capas: Capa[]
  readonly seq: Record<string, number>
}

export class QmsModel {
  readonly lots = new Map<string, QmsInspectionLot>()
  readonly nonconformances = new Map<string, Nonconformance>()
  readonly capas = new Map<string, Capa>()
  private readonly seq = new Map<string, number>()

  constructor(readonly clock: () => number) {}

  nextId(prefix: string): string {
    const n = (this.seq.get(prefix) ?? 0) + 1
    this.seq.set(prefix, n)
    return `${prefix}-${String(n).padStart(6, '0')}`
  }

  dump(): QmsDump {
    return {
      lots: [...this.lots.values()],
      nonconformances: [...this.nonconformances.values()],
      capas: [...this.capas.values()],
      seq: Object.fromEntries(this.seq),
    }
  }

  /** puts back what `dump` returned, into a fresh model; ids continue where they stopped */
  restore(d: QmsDump): void {
    for (const x of d.lots) this.lots.set(x.id, x)
    for (const x of d.nonconformances) this.nonconformances.set(x.id, x)
    for (const x of d.capas) this.capas.set(x.id, x)
    for (const [k, v] of Object.entries(d.seq)) this.seq.set(k, v)
  }

  now(): string {
    return new Date(this.clock()).toISOString()
  }
}

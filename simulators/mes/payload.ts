/**
 * The operation-completed message the MES simulator publishes. Shaped after ISA-95 / B2MML
 * OpSegmentResponse with MaterialActual (MaterialUse Consumed / Produced) and measurements as
 * TestResult-like entries (quality-domain.md §3.1).
 */
export interface LotQuantity {
  readonly lot: string
  readonly material: string
  readonly quantity: string
  readonly unit: string
}

export interface Measurement {
  readonly characteristic: string
  readonly value: number
  readonly unit: string
  readonly lowerLimit?: number
  readonly upperLimit?: number
  readonly sampleIndex?: number
}

export interface OperationCompleted {
  /** Unique per message; a duplicate publish carries the same id. */
  readonly messageId: string
  /** Per-simulator publish counter, for consumers that detect reordering. */
  readonly sequence: number
  readonly site: string
  readonly area: string
  readonly line: string
  readonly operation: string
  readonly orderId: string
  readonly segmentState: 'Completed'
  readonly startedAt: string
  readonly completedAt: string
  readonly operator: string
  readonly consumed: LotQuantity[]
  readonly produced: LotQuantity[]
  readonly measurements: Measurement[]
}

export function completedTopic(
  prefix: string,
  site: string,
  area: string,
  line: string,
  operation: string,
): string {
  for (const [name, v] of Object.entries({ site, area, line, operation })) {
    if (!v || /[/+#]/.test(v))
      throw new Error(`MES topic level ${name} '${v}' must be non-empty and free of / + #`)
  }
  return `${prefix}/${site}/${area}/${line}/${operation}/completed`
}

/**
 * The raw delivery body the OPC UA source stores (JSON): a sampled result or a completion, already
 * reduced from the node's raw values. Values are decimal strings, times RFC 3339.
 */
export interface OpcUaContext {
  readonly productionOrder?: string
  readonly operation?: string
  readonly lot?: string
}

export interface OpcUaSampleMessage {
  readonly kind: 'sample'
  readonly endpoint: string
  readonly node: string
  readonly equipment: string
  readonly characteristic: string
  readonly unit: string
  readonly value: string
  readonly takenAt: string
  readonly summary?: {
    readonly count: number
    readonly mean: string
    readonly min: string
    readonly max: string
    readonly from: string
    readonly to: string
  }
  readonly context: OpcUaContext
}

export interface OpcUaCompletionMessage {
  readonly kind: 'completion'
  readonly endpoint: string
  readonly node: string
  readonly equipment: string
  readonly completedAt: string
  readonly context: OpcUaContext
  readonly measurements: ReadonlyArray<{
    readonly characteristic: string
    readonly unit: string
    readonly value: string
    readonly takenAt: string
  }>
}

export type OpcUaMessage = OpcUaSampleMessage | OpcUaCompletionMessage

/**
 * Technical metrics hooks of one connector's egress. src/observability/connector-metrics.ts binds
 * them to prom-client; connectors never import prom-client (DESIGN §4 dependency rules).
 */
export type CircuitState = 'closed' | 'open' | 'half-open'
export type CallOutcome = 'ok' | 'retryable' | 'permanent'

export interface EgressCall {
  readonly connector: string
  /** scheme://host:port */
  readonly target: string
  readonly method: string
  /** HTTP status, absent when no answer arrived */
  readonly status?: number
  readonly outcome: CallOutcome
  /** QLK_ code for failures */
  readonly code?: string
  readonly durationMs: number
}

export interface RateLimitWait {
  readonly connector: string
  readonly target: string
  readonly waitMs: number
  /** 'bucket': our own configured rate; 'retry-after': the remote asked (429/503 Retry-After) */
  readonly reason: 'bucket' | 'retry-after'
}

export interface EgressMetrics {
  call(c: EgressCall): void
  rateLimitWait(w: RateLimitWait): void
  circuitState(e: { readonly connector: string; readonly target: string; readonly state: CircuitState }): void
}

export const noopMetrics: EgressMetrics = {
  call: () => {},
  rateLimitWait: () => {},
  circuitState: () => {},
}

/** Keeps everything in arrays: for tests, the CLI's diagnostics and as a binding example. */
export class RecordingMetrics implements EgressMetrics {
  readonly calls: EgressCall[] = []
  readonly waits: RateLimitWait[] = []
  readonly states: Array<{ connector: string; target: string; state: CircuitState }> = []
  call(c: EgressCall): void {
    this.calls.push(c)
  }
  rateLimitWait(w: RateLimitWait): void {
    this.waits.push(w)
  }
  circuitState(e: { connector: string; target: string; state: CircuitState }): void {
    this.states.push({ ...e })
  }
}

/** What an ingress subscription did with one value it received (OPC UA: ingress/opcua). */
export type IngressValueOutcome =
  | 'accepted'
  | 'sampled'
  | 'completion'
  | 'bad-quality'
  | 'repeat'
  | 'store-failed'
export type IngressLinkState = 'connected' | 'reconnecting' | 'down'

/** Technical metrics hooks of a subscribed ingress source (bound to prom-client like the egress ones). */
export interface IngressMetrics {
  value(e: { readonly source: string; readonly outcome: IngressValueOutcome; readonly count?: number }): void
  link(e: { readonly source: string; readonly target: string; readonly state: IngressLinkState }): void
}

export const noopIngressMetrics: IngressMetrics = { value: () => {}, link: () => {} }

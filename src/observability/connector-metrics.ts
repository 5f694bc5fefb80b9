import client from 'prom-client'
import type {
  CallOutcome,
  CircuitState,
  EgressCall,
  EgressMetrics,
  IngressLinkState,
  IngressMetrics,
  IngressValueOutcome,
  RateLimitWait,
} from '../connectors/sdk/metrics.ts'

/**
 * The connector SDK's egress hooks (src/connectors/sdk/metrics.ts) bound to prom-client, plus
 * the last-known state per connector and target that the dashboard's Connectors page shows.
 * One instance per process, created before the connectors (they are built from qualink.yaml
 * before the server starts) and handed to KernelMetrics, which exports it on /metrics.
 */
export const CIRCUIT_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 }

const LINK_VALUE: Readonly<Record<IngressLinkState, number>> = { connected: 0, reconnecting: 1, down: 2 }

// A connector call takes milliseconds to a timeout (≤ the lease, 30 s by default).
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export interface TargetState {
  readonly target: string
  calls: number
  errors: number
  lastCallAtMs?: number
  lastOutcome?: CallOutcome
  lastError?: {
    readonly atMs: number
    readonly code: string
    readonly status?: number
    readonly method: string
  }
  circuit: CircuitState
  circuitSinceMs?: number
  rateLimitWaits: number
  lastRateLimit?: { readonly atMs: number; readonly waitMs: number; readonly reason: RateLimitWait['reason'] }
}

export interface ConnectorState {
  readonly name: string
  kind?: string
  readonly targets: Map<string, TargetState>
}

export type ConnectorHealth = 'idle' | 'ok' | 'degraded' | 'down'

/** Pure: open circuit ⇒ down; half-open, or a last call that failed ⇒ degraded; no calls ⇒ idle. */
export function connectorHealth(c: { readonly targets: ReadonlyMap<string, TargetState> }): ConnectorHealth {
  const ts = [...c.targets.values()]
  if (ts.some((t) => t.circuit === 'open')) return 'down'
  if (ts.some((t) => t.circuit === 'half-open' || (t.lastOutcome !== undefined && t.lastOutcome !== 'ok')))
    return 'degraded'
  return ts.some((t) => t.calls > 0) ? 'ok' : 'idle'
}

export class ConnectorMetrics implements EgressMetrics, IngressMetrics {
  readonly registry = new client.Registry()
  private readonly state = new Map<string, ConnectorState>()
  private readonly now: () => number

  readonly calls = new client.Counter({
    name: 'qualink_connector_calls_total',
    help: 'Egress calls per connector and target by outcome (ok, retryable, permanent)',
    labelNames: ['connector', 'target', 'outcome'] as const,
    registers: [this.registry],
  })
  readonly errors = new client.Counter({
    name: 'qualink_connector_errors_total',
    help: 'Failed egress calls per connector and target by class (retryable, permanent) and QLK code',
    labelNames: ['connector', 'target', 'class', 'code'] as const,
    registers: [this.registry],
  })
  readonly duration = new client.Histogram({
    name: 'qualink_connector_call_duration_seconds',
    help: 'Egress call latency per connector and target, answered or not',
    labelNames: ['connector', 'target'] as const,
    buckets: CALL_BUCKETS,
    registers: [this.registry],
  })
  readonly circuit = new client.Gauge({
    name: 'qualink_connector_circuit_state',
    help: 'Circuit breaker state per connector and target: 0 closed, 1 half-open, 2 open',
    labelNames: ['connector', 'target'] as const,
    registers: [this.registry],
  })
  readonly waits = new client.Counter({
    name: 'qualink_connector_rate_limit_waits_total',
    help: 'Egress calls that waited for the rate limit: our own bucket, or the remote’s Retry-After',
    labelNames: ['connector', 'target', 'reason'] as const,
    registers: [this.registry],
  })
  readonly waitSeconds = new client.Counter({
    name: 'qualink_connector_rate_limit_wait_seconds_total',
    help: 'Time egress calls spent waiting for the rate limit',
    labelNames: ['connector', 'target', 'reason'] as const,
    registers: [this.registry],
  })

  readonly ingressValues = new client.Counter({
    name: 'qualink_ingress_values_total',
    help: 'Values a subscribed ingress source (OPC UA) received, by outcome: accepted, sampled, completion, bad-quality, repeat, store-failed',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  })
  readonly ingressLink = new client.Gauge({
    name: 'qualink_ingress_link_state',
    help: 'Link of a subscribed ingress source to its server: 0 connected, 1 reconnecting, 2 down',
    labelNames: ['source', 'target'] as const,
    registers: [this.registry],
  })

  constructor(opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now
  }

  /** Its prom-client metrics, for a registry that exports them beside others. */
  metrics(): client.Metric[] {
    return [
      this.calls,
      this.errors,
      this.duration,
      this.circuit,
      this.waits,
      this.waitSeconds,
      this.ingressValues,
      this.ingressLink,
    ]
  }

  /** A configured connector, listed (idle) before its first call. */
  declare(name: string, kind?: string): void {
    const c = this.connector(name)
    if (kind) c.kind = kind
  }

  private connector(name: string): ConnectorState {
    let c = this.state.get(name)
    if (!c) {
      c = { name, targets: new Map() }
      this.state.set(name, c)
    }
    return c
  }

  private target(connector: string, target: string): TargetState {
    const c = this.connector(connector)
    let t = c.targets.get(target)
    if (!t) {
      t = { target, calls: 0, errors: 0, circuit: 'closed', rateLimitWaits: 0 }
      c.targets.set(target, t)
      this.circuit.set({ connector, target }, 0)
    }
    return t
  }

  call(e: EgressCall): void {
    const labels = { connector: e.connector, target: e.target }
    this.calls.inc({ ...labels, outcome: e.outcome })
    this.duration.observe(labels, e.durationMs / 1000)
    const t = this.target(e.connector, e.target)
    const at = this.now()
    t.calls++
    t.lastCallAtMs = at
    t.lastOutcome = e.outcome
    if (e.outcome !== 'ok') {
      const code = e.code ?? 'QLK_UNKNOWN'
      this.errors.inc({ ...labels, class: e.outcome, code })
      t.errors++
      t.lastError = { atMs: at, code, status: e.status, method: e.method }
    }
  }

  rateLimitWait(w: RateLimitWait): void {
    const labels = { connector: w.connector, target: w.target, reason: w.reason }
    this.waits.inc(labels)
    this.waitSeconds.inc(labels, w.waitMs / 1000)
    const t = this.target(w.connector, w.target)
    t.rateLimitWaits++
    t.lastRateLimit = { atMs: this.now(), waitMs: w.waitMs, reason: w.reason }
  }

  circuitState(e: {
    readonly connector: string
    readonly target: string
    readonly state: CircuitState
  }): void {
    const t = this.target(e.connector, e.target)
    t.circuit = e.state
    t.circuitSinceMs = this.now()
    this.circuit.set({ connector: e.connector, target: e.target }, CIRCUIT_VALUE[e.state])
  }

  value(e: {
    readonly source: string
    readonly outcome: IngressValueOutcome
    readonly count?: number
  }): void {
    this.ingressValues.inc({ source: e.source, outcome: e.outcome }, e.count ?? 1)
  }

  link(e: { readonly source: string; readonly target: string; readonly state: IngressLinkState }): void {
    this.ingressLink.set({ source: e.source, target: e.target }, LINK_VALUE[e.state])
  }

  /** Every connector known to this process, by name, with its targets. */
  snapshot(): ReadonlyArray<Readonly<ConnectorState> & { readonly health: ConnectorHealth }> {
    return [...this.state.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => ({
        ...c,
        targets: new Map([...c.targets].map(([k, v]) => [k, { ...v }])),
        health: connectorHealth(c),
      }))
  }
}

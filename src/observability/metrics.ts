import client from 'prom-client'
import type { EngineMetrics } from '../engine/engine.ts'
import type { EngineCounts, EngineStore } from '../store/engine-types.ts'
import type { SqlExecutor } from '../store/sql-executor.ts'
import type { WriteQueueMetrics } from '../store/write-queue.ts'
import { registerBusinessMetrics } from './business-metrics.ts'
import { ConnectorMetrics } from './connector-metrics.ts'
import { DuplicateEvents } from './duplicates.ts'
import { registerEdiMetrics } from './edi-metrics.ts'
import { registerKpiGauges } from './kpis-metrics.ts'
import { perScrape } from './per-scrape.ts'
import { isLatency, type SloDecision, type SloObjective } from './slo.ts'

/**
 * Kernel metrics. Names and labels are part of the product: docs/metrics.md lists them and a
 * test checks that list against this registry.
 */
export class KernelMetrics {
  readonly registry = new client.Registry()
  readonly ingestEvents = new client.Counter({
    name: 'qualink_ingest_events_total',
    help: 'Events received on the ingest API by outcome (stored, duplicate, rejected)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  })
  readonly ingestDuration = new client.Histogram({
    name: 'qualink_ingest_request_duration_seconds',
    help: 'Ingest request latency from parse to the committed answer',
    labelNames: ['mode'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  })
  readonly writeQueueDepth = new client.Gauge({
    name: 'qualink_write_queue_depth',
    help: 'Requests waiting for the next group commit',
    registers: [this.registry],
  })
  readonly groupSize = new client.Histogram({
    name: 'qualink_group_commit_events',
    help: 'Events per group-commit transaction',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
    registers: [this.registry],
  })
  readonly commitDuration = new client.Histogram({
    name: 'qualink_commit_duration_seconds',
    help: 'Duration of one write-path transaction by result',
    labelNames: ['result'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  })
  readonly auditSealed = new client.Counter({
    name: 'qualink_audit_sealed_total',
    help: 'Audit rows chained by the sealer in this process',
    registers: [this.registry],
  })

  readonly workflowOutcomes = new client.Counter({
    name: 'qualink_workflow_outcomes_total',
    help: 'Run executions by outcome (completed, suspended, retry, dead_letter, cancelled, lease_lost)',
    labelNames: ['workflow', 'outcome'] as const,
    registers: [this.registry],
  })
  readonly leaseTakeovers = new client.Counter({
    name: 'qualink_lease_takeovers_total',
    help: 'Runs claimed after their previous worker’s lease expired unreleased (a worker died)',
    labelNames: ['workflow'] as const,
    registers: [this.registry],
  })
  readonly sloBreached = new client.Gauge({
    name: 'qualink_slo_breached',
    help: 'Whether an SLO is breached in a plant (1) or met (0), as of its last evaluation',
    labelNames: ['slo', 'plant'] as const,
    registers: [this.registry],
  })
  readonly sloValue = new client.Gauge({
    name: 'qualink_slo_indicator_value',
    help: 'The SLO indicator as last evaluated: seconds for a latency leg, a count otherwise',
    labelNames: ['slo', 'plant'] as const,
    registers: [this.registry],
  })
  /** the objectives this deployment declares (shown on the overview), set at start */
  sloObjectives: readonly SloObjective[] = []
  private engineStore: EngineStore | undefined
  private readonly counts = perScrape(
    async (): Promise<EngineCounts | undefined> => this.engineStore?.engineCounts(),
  )

  private readonly runs = new client.Gauge({
    name: 'qualink_runs',
    help: 'Workflow runs by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
    collect: async () => {
      const c = await this.counts()
      this.runs.reset()
      for (const [status, n] of Object.entries(c?.runsByStatus ?? {})) this.runs.set({ status }, n)
    },
  })
  private readonly deadLettersOpen: client.Gauge = new client.Gauge({
    name: 'qualink_dead_letters_open',
    help: 'Dead letters awaiting replay or discard',
    registers: [this.registry],
    collect: async (): Promise<void> => this.deadLettersOpen.set((await this.counts())?.openDeadLetters ?? 0),
  })
  private readonly blockedKeys: client.Gauge = new client.Gauge({
    name: 'qualink_blocked_keys',
    help: 'Keys blocked behind a dead-lettered run (poison policy block)',
    registers: [this.registry],
    collect: async (): Promise<void> => this.blockedKeys.set((await this.counts())?.blockedKeys ?? 0),
  })
  private readonly runsDue: client.Gauge = new client.Gauge({
    name: 'qualink_runs_due',
    help: 'Runs due now and not yet claimed: the engine queue depth',
    registers: [this.registry],
    collect: async (): Promise<void> => this.runsDue.set((await this.counts())?.dueNow ?? 0),
  })

  private sql: SqlExecutor | undefined
  /** duplicates absorbed at ingress, by plant and event type */
  readonly duplicates: DuplicateEvents

  /**
   * `connectors`: the egress hooks the process's connectors were built with (their metrics are
   * exported here); a fresh, empty one when the process has none.
   */
  constructor(readonly connectors: ConnectorMetrics = new ConnectorMetrics()) {
    registerBusinessMetrics(this.registry, () => this.sql)
    registerKpiGauges(this.registry, () => this.sql)
    registerEdiMetrics(this.registry, () => this.sql)
    this.duplicates = new DuplicateEvents(this.registry, () => this.sql)
    for (const m of connectors.metrics()) this.registry.registerMetric(m)
  }

  /** Run gauges and business gauges are read from the store at scrape time. */
  observeEngine(store: EngineStore, sql?: SqlExecutor): void {
    this.engineStore = store
    this.sql = sql
  }

  engine(): EngineMetrics {
    return {
      onOutcome: (workflow, outcome) => this.workflowOutcomes.inc({ workflow, outcome }),
      onTakeover: (workflow) => this.leaseTakeovers.inc({ workflow }),
    }
  }

  sloDecision(d: SloDecision): void {
    const labels = { slo: d.objective.name, plant: d.plant }
    this.sloBreached.set(labels, d.state === 'breached' ? 1 : 0)
    if (d.value === undefined) this.sloValue.remove(labels)
    else this.sloValue.set(labels, isLatency(d.objective.indicator) ? d.value / 1000 : d.value)
  }

  writeQueue(): WriteQueueMetrics {
    return {
      onCommit: (_requests, events, seconds, ok) => {
        this.groupSize.observe(events)
        this.commitDuration.observe({ result: ok ? 'ok' : 'failed' }, seconds)
      },
      onDepth: (d) => this.writeQueueDepth.set(d),
    }
  }
}

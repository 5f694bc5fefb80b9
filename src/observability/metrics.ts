import client from 'prom-client'
import type { WriteQueueMetrics } from '../store/write-queue.ts'

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

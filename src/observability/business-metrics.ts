import client from 'prom-client'
import { DRIFT_AGE_BUCKETS, driftAgeBucket } from '../projections/drift-store.ts'
import type { SqlExecutor } from '../store/sql-executor.ts'
import { registerLegHistogram } from './business-legs.ts'
import { failedDispositionUpdates, inspectionsAwaitingCreation } from './business-queries.ts'
import { openHolds } from './kpis-queries.ts'
import { perScrape } from './per-scrape.ts'

/**
 * Metrics in the plant's language, read from the runs table at scrape time (one query): lots
 * waiting for a usage decision, production orders on quality hold, deliveries waiting for
 * release, complaints under investigation, and how long the oldest of each has waited.
 */
export const WAITING: ReadonlyArray<{ workflow: string; metric: string; help: string }> = [
  {
    workflow: 'supplier-receipt-inspection',
    metric: 'qualink_lots_awaiting_usage_decision',
    help: 'Received lots in quality inspection whose usage decision is pending',
  },
  {
    workflow: 'in-process-quality-check',
    metric: 'qualink_orders_on_quality_hold',
    help: 'Production orders on quality hold until their nonconformance is dispositioned',
  },
  {
    workflow: 'finished-goods-release',
    metric: 'qualink_lots_awaiting_release',
    help: 'Finished lots whose delivery block waits for release checkpoints',
  },
  {
    workflow: 'complaint-traceability',
    metric: 'qualink_complaints_open',
    help: 'Customer complaints whose investigation is running',
  },
]

/** Active runs per workflow and plant with the oldest one's last change (the quality backlog). */
export function qualityBacklog(
  sql: SqlExecutor,
): Promise<Array<{ workflow: string; plant: string; n: number; oldest: number }>> {
  return sql
    .all(
      `SELECT workflow, plant, COUNT(*) AS n, MIN(updated_at_ms) AS oldest FROM workflow_runs
        WHERE status IN ('pending', 'waiting') GROUP BY workflow, plant`,
    )
    .then((rows) =>
      rows.map((r) => ({
        workflow: String(r.workflow),
        plant: String(r.plant),
        n: Number(r.n),
        oldest: Number(r.oldest),
      })),
    )
}

export function registerBusinessMetrics(registry: client.Registry, sql: () => SqlExecutor | undefined): void {
  const rows = perScrape(async () => {
    const x = sql()
    return x ? qualityBacklog(x) : []
  })
  const now = () => Date.now()
  for (const w of WAITING) {
    const count: client.Gauge<'plant'> = new client.Gauge({
      name: w.metric,
      help: w.help,
      labelNames: ['plant'] as const,
      registers: [registry],
      collect: async (): Promise<void> => {
        count.reset()
        for (const r of await rows()) if (r.workflow === w.workflow) count.set({ plant: r.plant }, r.n)
      },
    })
    const age: client.Gauge<'plant'> = new client.Gauge({
      name: `${w.metric}_oldest_age_seconds`,
      help: `Age of the oldest of: ${w.help.toLowerCase()}`,
      labelNames: ['plant'] as const,
      registers: [registry],
      collect: async (): Promise<void> => {
        age.reset()
        for (const r of await rows())
          if (r.workflow === w.workflow) age.set({ plant: r.plant }, Math.max(0, (now() - r.oldest) / 1000))
      },
    })
  }
  const drift = perScrape(async () => {
    const x = sql()
    return x ? openDriftByAge(x, now()) : []
  })
  const open: client.Gauge<'plant' | 'kind'> = new client.Gauge({
    name: 'qualink_drift_open',
    help: 'Lots where the ERP disagrees with the QMS decision (reconciliation), by kind',
    labelNames: ['plant', 'kind'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      open.reset()
      for (const r of await drift()) open.inc({ plant: r.plant, kind: r.kind }, r.n)
    },
  })
  const byAge: client.Gauge<'plant' | 'age'> = new client.Gauge({
    name: 'qualink_drift_open_by_age',
    help: 'Open drift by how long it is open: lt_1h, 1h_1d, 1d_7d, ge_7d',
    labelNames: ['plant', 'age'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      byAge.reset()
      for (const r of await drift()) byAge.inc({ plant: r.plant, age: r.age }, r.n)
    },
  })
  const oldestDrift: client.Gauge<'plant'> = new client.Gauge({
    name: 'qualink_drift_open_oldest_age_seconds',
    help: 'How long the oldest open drift of the plant is open',
    labelNames: ['plant'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      oldestDrift.reset()
      const oldest = new Map<string, number>()
      for (const r of await drift()) oldest.set(r.plant, Math.min(r.oldest, oldest.get(r.plant) ?? r.oldest))
      for (const [plant, since] of oldest) oldestDrift.set({ plant }, Math.max(0, (now() - since) / 1000))
    },
  })
  const awaiting = perScrape(async () => {
    const x = sql()
    return x ? inspectionsAwaitingCreation(x) : []
  })
  const awaitingCount: client.Gauge<'plant'> = new client.Gauge({
    name: 'qualink_inspections_awaiting_creation',
    help: 'Goods receipts whose inspection lot does not exist in the QMS yet',
    labelNames: ['plant'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      awaitingCount.reset()
      for (const r of await awaiting()) awaitingCount.set({ plant: r.plant }, r.n)
    },
  })
  const awaitingAge: client.Gauge<'plant'> = new client.Gauge({
    name: 'qualink_inspections_awaiting_creation_oldest_age_seconds',
    help: 'Age of the oldest goods receipt whose inspection lot does not exist in the QMS yet',
    labelNames: ['plant'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      awaitingAge.reset()
      for (const r of await awaiting())
        awaitingAge.set({ plant: r.plant }, Math.max(0, (now() - r.oldest) / 1000))
    },
  })
  const failed: client.Gauge<'plant' | 'workflow'> = new client.Gauge({
    name: 'qualink_disposition_updates_failed',
    help: 'Quality decisions that dead-lettered on their way to the ERP (open dead letters after a usage decision or NC disposition)',
    labelNames: ['plant', 'workflow'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      const x = sql()
      failed.reset()
      for (const r of x ? await failedDispositionUpdates(x, { open: true }) : [])
        failed.set({ plant: r.plant, workflow: r.workflow }, r.n)
    },
  })
  registerHoldAge(registry, sql, now)
  registerLegHistogram(registry, sql)
}

/** What is on hold, by the workflow holding it (the overview's hold-aging chart reads the same). */
export const HOLD_KIND: Readonly<Record<string, string>> = {
  'supplier-receipt-inspection': 'quality-inspection',
  'in-process-quality-check': 'order-hold',
}

/**
 * Lots on hold by plant, kind and age bucket (DRIFT_AGE_BUCKETS), aged from the journaled step
 * that placed the hold. One read of the active runs and their journal rows per scrape (the
 * runs table's partial index on active runs; not the event log).
 */
function registerHoldAge(registry: client.Registry, sql: () => SqlExecutor | undefined, now: () => number) {
  const holds = perScrape(async () => {
    const x = sql()
    return x ? openHolds(x) : []
  })
  const byAge: client.Gauge<'plant' | 'hold' | 'age'> = new client.Gauge({
    name: 'qualink_lots_on_hold_by_age',
    help: 'Lots on quality hold (received lots awaiting their usage decision, production orders on hold) by how long: lt_1h, 1h_1d, 1d_7d, ge_7d',
    labelNames: ['plant', 'hold', 'age'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      byAge.reset()
      const t = now()
      for (const h of await holds()) {
        const hold = HOLD_KIND[h.workflow] ?? h.workflow
        // every bucket of a plant and kind with holds is exported, so an emptied bucket reads 0
        for (const b of DRIFT_AGE_BUCKETS) byAge.inc({ plant: h.plant, hold, age: b.label }, 0)
        byAge.inc({ plant: h.plant, hold, age: driftAgeBucket(Math.max(0, t - h.sinceMs)) })
      }
    },
  })
}

/** Open drift per plant, kind and age bucket (DRIFT_AGE_BUCKETS), with the oldest one's start. */
export async function openDriftByAge(
  sql: SqlExecutor,
  nowMs: number,
): Promise<Array<{ plant: string; kind: string; age: string; n: number; oldest: number }>> {
  const [a, b, c] = DRIFT_AGE_BUCKETS.slice(0, 3).map((x) => nowMs - x.maxMs)
  const [la, lb, lc, ld] = DRIFT_AGE_BUCKETS.map((x) => x.label)
  const rows = await sql.all(
    `SELECT plant, kind, CASE WHEN since_ms > ? THEN '${la}' WHEN since_ms > ? THEN '${lb}'
       WHEN since_ms > ? THEN '${lc}' ELSE '${ld}' END AS age_bucket, COUNT(*) AS n, MIN(since_ms) AS oldest
     FROM drift WHERE status = 'open' GROUP BY plant, kind, age_bucket`,
    [a, b, c],
  )
  return rows.map((r) => ({
    plant: String(r.plant),
    kind: String(r.kind),
    age: String(r.age_bucket),
    n: Number(r.n),
    oldest: Number(r.oldest),
  }))
}

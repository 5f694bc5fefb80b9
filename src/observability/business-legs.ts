import client from 'prom-client'
import type { SqlExecutor } from '../store/sql-executor.ts'
import { type LegRow, legsCompleted } from './business-queries.ts'

// Business time runs from seconds (an automatic hold) to days (a usage decision awaiting a lab).
export const LEG_BUCKETS = [
  1,
  5,
  15,
  60,
  300,
  900,
  1800,
  3600,
  4 * 3600,
  8 * 3600,
  86_400,
  3 * 86_400,
  7 * 86_400,
]

/**
 * PostgreSQL assigns journal times at insert, not commit, so a leg may become visible with a
 * time a little before the newest one already seen: each read looks back this far and skips
 * the legs it already observed (a transaction open longer than this would be missed).
 */
const LOOKBACK_MS = 5 * 60_000

/**
 * Every leg completed while the process runs, observed once into a histogram at scrape time. The
 * first scrape starts at its own time (less the look-back), not at the beginning of history: a
 * histogram starting at the historical total would read as a counter reset with a burst, and
 * reading 200,000 historical legs took ~1 s on SQLite (600,000 journal rows, measured with a
 * throw-away script on this machine; a later scrape's scan took 50-70 ms there, since
 * run_journal has no index on completion time). Every process of a scaled-out deployment reports
 * the same legs, so aggregate across instances with max, not sum.
 */
export class LegObserver {
  private cursorMs: number | undefined
  private readonly seen = new Map<string, number>()

  constructor(
    private readonly onLeg: (leg: LegRow) => void,
    private readonly now: () => number = Date.now,
  ) {}

  async poll(sql: SqlExecutor): Promise<void> {
    this.cursorMs ??= this.now()
    const since = Math.max(0, this.cursorMs - LOOKBACK_MS)
    for (const r of await legsCompleted(sql, since)) {
      if (this.seen.has(r.key)) continue
      this.seen.set(r.key, r.doneMs)
      this.cursorMs = Math.max(this.cursorMs, r.doneMs)
      this.onLeg(r)
    }
    for (const [k, at] of this.seen) if (at < since) this.seen.delete(k)
  }
}

export function registerLegHistogram(registry: client.Registry, sql: () => SqlExecutor | undefined): void {
  let polling: Promise<void> | undefined
  const legs: client.Histogram<'plant' | 'leg'> = new client.Histogram({
    name: 'qualink_business_leg_duration_seconds',
    help: 'Business latency per workflow leg: trigger received (goods receipt, MES completion) to the ERP/QMS effect confirmed',
    labelNames: ['plant', 'leg'] as const,
    buckets: LEG_BUCKETS,
    registers: [registry],
    collect: async (): Promise<void> => {
      const x = sql()
      if (!x) return
      // Two concurrent scrapes share one read, so no leg is observed twice.
      polling ??= observer.poll(x).finally(() => (polling = undefined))
      await polling
    },
  })
  const observer = new LegObserver((r) =>
    legs.observe({ plant: r.plant, leg: r.leg }, Math.max(0, (r.doneMs - r.startedMs) / 1000)),
  )
}

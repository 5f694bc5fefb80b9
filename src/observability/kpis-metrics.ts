import client from 'prom-client'
import type { SqlExecutor } from '../store/sql-executor.ts'
import { type DurationKpi, windowSummary } from './kpis.ts'
import { kpiSamples } from './kpis-queries.ts'
import { perScrape } from './per-scrape.ts'

/**
 * The outcome KPIs as gauges over a trailing window, read at scrape time. Durations over 7 days:
 * releases and NC dispositions come a few a day per plant and CAPAs a few a month, so a shorter
 * window would mostly be empty. Counts over 24 hours: dead letters and heals are incidents an
 * on-call person acts on today. The daily series for reports are GET /v1/kpis.
 */
export const DURATION_WINDOW_MS = 7 * 86_400_000
export const COUNT_WINDOW_MS = 86_400_000

export const KPI_LABEL: Record<DurationKpi, string> = {
  lotRelease: 'lot-release',
  ncContainment: 'nc-containment',
  capaResponse: 'capa-response',
}

export function registerKpiGauges(
  registry: client.Registry,
  sql: () => SqlExecutor | undefined,
  now: () => number = Date.now,
): void {
  const samples = perScrape(async () => {
    const x = sql()
    const t = now()
    return x ? { t, ...(await kpiSamples(x, { fromMs: t - DURATION_WINDOW_MS, toMs: t + 1 })) } : undefined
  })
  const durations: client.Gauge<'plant' | 'kpi' | 'quantile'> = new client.Gauge({
    name: 'qualink_kpi_duration_seconds',
    help: 'Outcome KPI durations over the last 7 days (nearest-rank p50 and p90): lot release cycle, NC containment, supplier CAPA response',
    labelNames: ['plant', 'kpi', 'quantile'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      durations.reset()
      const s = await samples()
      if (!s) return
      for (const r of windowSummary(s.durations, s.t - DURATION_WINDOW_MS)) {
        durations.set({ plant: r.plant, kpi: KPI_LABEL[r.kpi], quantile: '0.5' }, r.p50)
        durations.set({ plant: r.plant, kpi: KPI_LABEL[r.kpi], quantile: '0.9' }, r.p90)
      }
    },
  })
  const count: client.Gauge<'plant' | 'kpi'> = new client.Gauge({
    name: 'qualink_kpi_duration_count',
    help: 'Lots released, NCs dispositioned and supplier CAPAs closed in the last 7 days',
    labelNames: ['plant', 'kpi'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      count.reset()
      const s = await samples()
      if (!s) return
      for (const r of windowSummary(s.durations, s.t - DURATION_WINDOW_MS))
        count.set({ plant: r.plant, kpi: KPI_LABEL[r.kpi] }, r.count)
    },
  })
  const healed: client.Gauge<'plant'> = new client.Gauge({
    name: 'qualink_kpi_drift_healed_last_day',
    help: 'Manual corrections: drift the reconciliation healed in the last 24 hours',
    labelNames: ['plant'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      healed.reset()
      const s = await samples()
      for (const c of s?.counts ?? [])
        if (c.kpi === 'driftHealed' && c.atMs >= s!.t - COUNT_WINDOW_MS) healed.inc({ plant: c.plant })
    },
  })
  const dead: client.Gauge<'plant' | 'workflow'> = new client.Gauge({
    name: 'qualink_kpi_dead_letters_opened_last_day',
    help: 'Integration incidents: dead letters opened in the last 24 hours',
    labelNames: ['plant', 'workflow'] as const,
    registers: [registry],
    collect: async (): Promise<void> => {
      dead.reset()
      const s = await samples()
      for (const c of s?.counts ?? [])
        if (c.kpi === 'deadLetters' && c.atMs >= s!.t - COUNT_WINDOW_MS)
          dead.inc({ plant: c.plant, workflow: c.workflow ?? 'unknown' })
    },
  })
}

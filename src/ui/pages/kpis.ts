import {
  IN_PROCESS_WORKFLOW,
  LEGS,
  legsCompleted,
  RECEIPT_WORKFLOW,
} from '../../observability/business-queries.ts'
import {
  AGE_BUCKETS,
  bucketCounts,
  type CountDay,
  type DurationDay,
  LATENCY_BUCKETS,
  type PlantKpis,
} from '../../observability/kpis.ts'
import { openHolds } from '../../observability/kpis-queries.ts'
import type { ServerContext } from '../../server/context.ts'
import { kpiReport } from '../../server/routes/kpis.ts'
import { type Scope, scopeIncludes } from '../../store/types.ts'
import { barChart, sparkline } from '../charts.ts'
import { type Html, html } from '../html.ts'

const LATENCY_DAYS = 7

const HOLDS = [
  { chart: 'hold-aging-orders', workflow: IN_PROCESS_WORKFLOW, title: 'Orders on quality hold by age' },
  { chart: 'hold-aging-lots', workflow: RECEIPT_WORKFLOW, title: 'Lots awaiting a usage decision by age' },
] as const

/** Orders on quality hold and lots awaiting a usage decision, by how long each has been held. */
export async function holdAgingCharts(ctx: ServerContext, scope: Scope, now: number): Promise<Html> {
  const holds = (await openHolds(ctx.store.sql)).filter((h) => scopeIncludes(scope, h.plant))
  return html`${HOLDS.map((h) => {
    const ages = holds.filter((x) => x.workflow === h.workflow).map((x) => Math.max(0, now - x.sinceMs))
    return html`<div class="card">${barChart(
      h.chart,
      `${h.title} (${ages.length})`,
      bucketCounts(AGE_BUCKETS, (b) => b.maxMs, ages),
    )}<div class="label">${h.title.toLowerCase()}</div></div>`
  })}`
}

/** One bar chart per business latency leg, over the last days' completed legs. */
export async function latencyCharts(ctx: ServerContext, scope: Scope, now: number): Promise<Html> {
  const legs = (await legsCompleted(ctx.store.sql, now - LATENCY_DAYS * 86_400_000)).filter((l) =>
    scopeIncludes(scope, l.plant),
  )
  return html`${LEGS.map((l) => {
    const secs = legs.filter((x) => x.leg === l.leg).map((x) => Math.max(0, (x.doneMs - x.startedMs) / 1000))
    return html`<div class="card">${barChart(
      `latency-${l.leg}`,
      `${l.leg}, last ${LATENCY_DAYS} days (${secs.length})`,
      bucketCounts(LATENCY_BUCKETS, (b) => b.maxS, secs),
    )}<div class="label">business latency ${l.leg}</div></div>`
  })}`
}

const hours = (s: number | null) => {
  if (s === null) return '–'
  if (s < 120) return `${Math.round(s)} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`
  return `${(s / 86_400).toFixed(1)} d`
}

function durationRow(plant: string, key: string, label: string, days: readonly DurationDay[]): Html {
  const n = days.reduce((sum, d) => sum + d.count, 0)
  const last = [...days].reverse().find((d) => d.count > 0)
  return html`<tr data-kpi="${key}"><td>${label}</td><td>${sparkline(
    `${plant}-${key}`,
    `${label}, ${plant}: daily p50`,
    days.map((d) => d.p50Seconds),
  )}</td><td class="num">${n}</td><td>${last ? html`${last.day}: p50 ${hours(last.p50Seconds)}, p90 ${hours(last.p90Seconds)}` : 'none in range'}</td></tr>`
}

function countRow(plant: string, key: string, label: string, days: readonly CountDay[]): Html {
  const n = days.reduce((sum, d) => sum + d.count, 0)
  const max = days.reduce((m, d) => (d.count > m.count ? d : m), { day: '', count: 0 })
  return html`<tr data-kpi="${key}"><td>${label}</td><td>${sparkline(
    `${plant}-${key}`,
    `${label}, ${plant}: per day`,
    days.map((d) => d.count),
  )}</td><td class="num">${n}</td><td>${max.count ? html`most on ${max.day}: ${max.count}` : 'none in range'}</td></tr>`
}

function plantSection(p: PlantKpis): Html {
  const byWorkflow = Object.entries(p.deadLettersByWorkflow)
  return html`<h2 class="section" data-plant="${p.plant}">Plant ${p.plant}</h2>
<table><thead><tr><th>KPI</th><th>Per day</th><th>In range</th><th>Latest</th></tr></thead><tbody>
${durationRow(p.plant, 'lot-release', 'Lot release cycle time (goods receipt → ERP posting confirmed)', p.lotRelease)}
${durationRow(p.plant, 'nc-containment', 'Nonconformance containment (NC opened → dispositioned)', p.ncContainment)}
${durationRow(p.plant, 'capa-response', 'Supplier response on corrective actions (CAPA opened → closed)', p.capaResponse)}
${countRow(p.plant, 'drift-healed', 'Manual corrections (drift healed)', p.driftHealed)}
${countRow(p.plant, 'dead-letters', 'Integration incidents (dead letters opened)', p.deadLetters)}
${byWorkflow.map(([w, days]) => countRow(p.plant, `dead-letters-${w}`, `… of ${w}`, days))}
</tbody></table>`
}

export async function kpisPage(
  ctx: ServerContext,
  headers: Record<string, string | string[] | undefined>,
  q: { plant?: string; from?: string; to?: string },
): Promise<Html> {
  const r = await kpiReport(ctx.store, ctx.scopeOf(headers), q)
  return html`<form method="get" action="/ui/kpis" class="filters">
  <label>Plant <input name="plant" value="${q.plant ?? ''}" maxlength="64"></label>
  <label>From <input name="from" type="date" value="${r.from}"></label>
  <label>To <input name="to" type="date" value="${r.to}"></label>
  <button type="submit">Show</button>
</form>
<p>Daily series ${r.from} to ${r.to} (UTC days; a duration counts on the day it ended). Durations are nearest-rank medians per day; a gap is a day without any. Also as JSON: <a href="/v1/kpis?from=${r.from}&amp;to=${r.to}${q.plant ? html`&amp;plant=${encodeURIComponent(q.plant)}` : ''}">/v1/kpis</a>.</p>
${r.outOfScope.samples ? html`<p class="muted" data-out-of-scope="${r.outOfScope.samples}">${r.outOfScope.samples} records in ${r.outOfScope.plants} plant(s) outside your scope are not shown.</p>` : ''}
${r.plants.length ? r.plants.map(plantSection) : html`<p>No plant in your scope has KPI data in this range.</p>`}`
}

import { qualityBacklog } from '../../observability/business-metrics.ts'
import {
  failedDispositionUpdates,
  inspectionsAwaitingCreation,
} from '../../observability/business-queries.ts'
import type { ServerContext } from '../../server/context.ts'
import { scopeIncludes } from '../../store/types.ts'
import { type Html, html } from '../html.ts'
import { holdAgingCharts, latencyCharts } from './kpis.ts'
import { sloSection } from './slo-status.ts'

async function ingestOutcome(ctx: ServerContext, outcome: string): Promise<number> {
  const m = await ctx.metrics.ingestEvents.get()
  return m.values.filter((v) => v.labels.outcome === outcome).reduce((n, v) => n + v.value, 0)
}

const QUALITY_CARDS = [
  { workflow: 'supplier-receipt-inspection', label: 'lots awaiting a usage decision' },
  { workflow: 'in-process-quality-check', label: 'orders on quality hold' },
  { workflow: 'finished-goods-release', label: 'lots awaiting release' },
  { workflow: 'complaint-traceability', label: 'complaints under investigation' },
] as const

function ageText(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${Math.round(s / 3600)} h`
}

/** The live part of the overview, refreshed by htmx every few seconds. */
export async function overviewCards(
  ctx: ServerContext,
  headers: Record<string, string | string[] | undefined>,
): Promise<Html> {
  const scope = ctx.scopeOf(headers)
  const counts = await ctx.store.eventCounts(scope)
  const total = counts.reduce((n, c) => n + c.count, 0)
  const unsealed = await ctx.store.countUnsealedAudit()
  const head = await ctx.store.chainHead()
  const rejected = await ingestOutcome(ctx, 'rejected')
  const duplicates = await ingestOutcome(ctx, 'duplicate')
  const engine = await ctx.store.engine.engineCounts()
  const backlog = (await qualityBacklog(ctx.store.sql)).filter((r) => scopeIncludes(scope, r.plant))
  const now = Date.now()
  const quality = QUALITY_CARDS.map((c) => {
    const rows = backlog.filter((r) => r.workflow === c.workflow)
    const n = rows.reduce((sum, r) => sum + r.n, 0)
    const oldest = rows.length ? Math.min(...rows.map((r) => r.oldest)) : now
    return { ...c, n, age: n ? ageText(now - oldest) : '' }
  })
  const awaiting = (await inspectionsAwaitingCreation(ctx.store.sql)).filter((r) =>
    scopeIncludes(scope, r.plant),
  )
  const notInQms = awaiting.reduce((sum, r) => sum + r.n, 0)
  const oldestNotInQms = awaiting.length ? ageText(now - Math.min(...awaiting.map((r) => r.oldest))) : ''
  const failed = (await failedDispositionUpdates(ctx.store.sql, { open: true }))
    .filter((r) => scopeIncludes(scope, r.plant))
    .reduce((sum, r) => sum + r.n, 0)
  return html`<h2 class="section">Quality</h2>
<div class="cards">
${quality.map(
  (q) =>
    html`<a class="card" href="/ui/runs?workflow=${q.workflow}"><div class="value ${q.n ? 'warn' : ''}">${q.n}</div><div class="label">${q.label}${q.age ? html`<br>oldest ${q.age}` : ''}</div></a>`,
)}
  <a class="card" href="/ui/runs?workflow=supplier-receipt-inspection"><div class="value ${notInQms ? 'warn' : ''}">${notInQms}</div><div class="label">inspections not yet in the QMS${oldestNotInQms ? html`<br>oldest ${oldestNotInQms}` : ''}</div></a>
  <a class="card ${failed ? 'alert' : ''}" href="/ui/exceptions"><div class="value ${failed ? 'bad' : ''}">${failed}</div><div class="label">failed disposition updates<br>awaiting replay or discard</div></a>
</div>
${await sloSection(ctx, scope)}
<h2 class="section">Workflows</h2>
<div class="cards">
  <a class="card" href="/ui/runs?status=waiting"><div class="value">${engine.runsByStatus.waiting ?? 0}</div><div class="label">runs waiting</div></a>
  <a class="card" href="/ui/runs?status=pending"><div class="value">${engine.dueNow}</div><div class="label">runs due now</div></a>
  <a class="card ${engine.openDeadLetters ? 'alert' : ''}" href="/ui/exceptions"><div class="value ${engine.openDeadLetters ? 'bad' : ''}">${engine.openDeadLetters}</div><div class="label">open dead letters</div></a>
  <a class="card" href="/ui/runs?status=failed"><div class="value ${engine.blockedKeys ? 'warn' : ''}">${engine.blockedKeys}</div><div class="label">keys blocked by a failed run</div></a>
</div>
<h2 class="section">Ingest and audit</h2>
<div class="cards">
  <div class="card"><div class="value">${total}</div><div class="label">events in the log</div></div>
  <div class="card"><div class="value">${duplicates}</div><div class="label">duplicate deliveries absorbed</div></div>
  <div class="card"><div class="value ${rejected ? 'warn' : ''}">${rejected}</div><div class="label">events refused (bad input)</div></div>
  <div class="card"><div class="value">${head?.pos ?? 0}</div><div class="label">audit entries chained</div></div>
  <div class="card"><div class="value ${unsealed > 100 ? 'warn' : ''}">${unsealed}</div><div class="label">audit entries awaiting seal</div></div>
  <div class="card"><div class="value">${ctx.queue.depth}</div><div class="label">write queue depth</div></div>
  <div class="card"><div class="value">${await ingestOutcome(ctx, 'stored')}</div><div class="label">events stored since start</div></div>
</div>
<h2 class="section">Events by plant and type</h2>
<table><thead><tr><th>Plant</th><th>Event type</th><th>Count</th></tr></thead><tbody>
${counts.map((c) => html`<tr><td>${c.plant}</td><td><a href="/ui/events?type=${encodeURIComponent(c.type)}">${c.type}</a></td><td>${c.count}</td></tr>`)}
</tbody></table>`
}

export async function overviewPage(
  ctx: ServerContext,
  headers: Record<string, string | string[] | undefined>,
): Promise<Html> {
  const scope = ctx.scopeOf(headers)
  const now = await ctx.store.now()
  // The charts read days of journal, so they are drawn once per page load, not every 3 s.
  return html`<div hx-get="/ui/partials/overview" hx-trigger="every 3s" hx-swap="innerHTML">${await overviewCards(ctx, headers)}</div>
<h2 class="section">Charts</h2>
<div class="cards charts">
  ${await holdAgingCharts(ctx, scope, now)}
  ${await latencyCharts(ctx, scope, now)}
</div>
<p><a href="/ui/kpis">Outcome KPIs per plant and day</a></p>`
}

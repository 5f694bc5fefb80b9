import { formatValue, isLatency, type SloObjective } from '../../observability/slo.ts'
import type { ServerContext } from '../../server/context.ts'
import { type Scope, scopeIncludes } from '../../store/types.ts'
import { age } from '../format.ts'
import { type Html, html } from '../html.ts'

interface Status {
  readonly objective: SloObjective
  readonly plant: string
  readonly breached: boolean
  readonly sinceMs: number | undefined
  readonly value: number | undefined
}

/**
 * Each objective in each visible plant with its state from the audit trail (the last
 * `slo.breached`/`slo.recovered`, as the evaluator itself reads it), so every process shows the
 * same, and the last evaluated value where this process holds the evaluator's lease.
 */
async function statuses(ctx: ServerContext, scope: Scope): Promise<Status[]> {
  const values = (await ctx.metrics.sloValue.get()).values
  const out: Status[] = []
  for (const objective of ctx.metrics.sloObjectives) {
    for (const plant of objective.plants.filter((p) => scopeIncludes(scope, p))) {
      const [row] = await ctx.store.sql.all(
        `SELECT action, at_ms FROM audit_log WHERE plant = ? AND subject = ? AND action IN ('slo.breached', 'slo.recovered')
          ORDER BY seq DESC LIMIT 1`,
        [plant, `slo:${objective.name}`],
      )
      const v = values.find((x) => x.labels.slo === objective.name && x.labels.plant === plant)?.value
      out.push({
        objective,
        plant,
        breached: row?.action === 'slo.breached',
        sinceMs: row ? Number(row.at_ms) : undefined,
        // the gauge holds seconds for latency legs; formatValue takes milliseconds
        value: v === undefined ? undefined : isLatency(objective.indicator) ? v * 1000 : v,
      })
    }
  }
  return out
}

export async function sloSection(ctx: ServerContext, scope: Scope): Promise<Html> {
  if (ctx.metrics.sloObjectives.length === 0) return html``
  const rows = await statuses(ctx, scope)
  const now = Date.now()
  const breached = rows.filter((r) => r.breached).length
  return html`<h2 class="section">Service-level objectives</h2>
<p class="muted">${breached ? `${breached} breached` : 'All met'}; each breach and recovery is sent once through the plant's notify connector (docs/operations.md, SLOs).</p>
<table class="slos"><thead><tr><th>Objective</th><th>Plant</th><th>State</th><th>Indicator</th><th>Last value</th><th>Objective</th><th>Window</th></tr></thead><tbody>
${rows.map(
  (
    r,
  ) => html`<tr data-slo="${r.objective.name}" data-plant="${r.plant}"><td>${r.objective.name}</td><td>${r.plant}</td>
<td>${r.breached ? html`<span class="badge bad">breached</span>` : html`<span class="badge ok">met</span>`}${r.sinceMs === undefined ? '' : html` <span class="muted">for ${age(r.sinceMs, now)}</span>`}</td>
<td><code>${r.objective.indicator}</code></td><td>${formatValue(r.objective.indicator, r.value)}</td>
<td>≤ ${formatValue(r.objective.indicator, r.objective.threshold)}</td><td>${age(now - r.objective.windowMs, now)}</td></tr>`,
)}
</tbody></table>`
}

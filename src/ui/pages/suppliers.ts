import { formatDecimal } from '../../model/quantity.ts'
import { listScorecards } from '../../projections/supplier-scorecard.ts'
import type { ServerContext } from '../../server/context.ts'
import { type Html, html } from '../html.ts'
import { lotHref } from './lots.ts'

type Headers = Record<string, string | string[] | undefined>

/** Supplier scorecards: the projection GET /v1/suppliers/:id/scorecard reads, per plant and material. */
export async function suppliersPage(ctx: ServerContext, headers: Headers): Promise<Html> {
  const { rows, blocked } = await listScorecards(ctx.store, ctx.scopeOf(headers), ctx.capaPolicy)
  const capas =
    blocked.length === 0
      ? html`<p class="muted">No open supplier corrective actions.</p>`
      : html`<table class="supplier-capas"><thead><tr><th>Supplier</th><th>Plant</th><th>Status</th><th>Open CAPAs</th></tr></thead><tbody>
${blocked.map(
  (b) => html`<tr><td><code>${b.supplier}</code></td><td>${b.plant}</td>
<td><span class="badge ${b.qualityStatus === 'released' ? 'info' : 'bad'}">${b.qualityStatus}</span></td>
<td>${b.capas.map((c) => html`<div><code>${c.capa}</code> ${c.title} <span class="muted">since ${c.openedAt}</span></div>`)}</td></tr>`,
)}
</tbody></table>`
  const table =
    rows.length === 0
      ? html`<p class="muted">No supplier lots received yet.</p>`
      : html`<table class="scorecards"><thead><tr><th>Supplier</th><th>Material</th><th>Plant</th><th class="num">Lots</th><th class="num">Accepted</th><th class="num">Rejected</th><th class="num">ppm</th><th>Last decision</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td><code>${r.supplier}</code></td><td>${r.material}</td><td>${r.plant}</td>
<td class="num">${r.lotsReceived}</td><td class="num">${r.lotsAccepted}</td><td class="num">${r.lotsRejected}</td>
<td class="num">${r.ppm ?? '—'}${r.rejected ? html` <span class="muted">(${formatDecimal(r.rejected)} ${r.rejected.uom})</span>` : ''}</td>
<td>${r.lastDecision ? html`<code>${r.lastDecision.code}</code> ${r.lastDecision.valuation} · <a href="${lotHref(r.lastDecision.lot)}"><code>${r.lastDecision.lot}</code></a>` : html`<span class="muted">—</span>`}</td></tr>`,
)}
</tbody></table>`
  return html`<section class="panel"><h2>Supplier corrective actions</h2>${capas}</section>
<section class="panel"><h2>Scorecards</h2>${table}</section>`
}

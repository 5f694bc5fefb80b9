import { listDrift } from '../../projections/reconciliation.ts'
import type { ServerContext } from '../../server/context.ts'
import { age, jsonInline, when } from '../format.ts'
import { type Html, html } from '../html.ts'
import { lotHref } from './lots.ts'

type Headers = Record<string, string | string[] | undefined>

export async function driftPage(ctx: ServerContext, headers: Headers): Promise<Html> {
  const open = await listDrift(ctx.store, ctx.scopeOf(headers), 'open')
  const now = Date.now()
  if (open.length === 0)
    return html`<div class="banner ok" role="status"><strong>No open drift.</strong> The QMS and the ERP agree on every reconciled lot.</div>`
  return html`<div class="banner bad" role="status"><strong>${open.length}</strong> lot${open.length === 1 ? '' : 's'} where the QMS and the ERP disagree.</div>
<table class="drift"><thead><tr><th>Kind</th><th>Lot</th><th>Plant</th><th>Since</th><th>Detail</th><th>QMS view</th><th>ERP view</th></tr></thead><tbody>
${open.map(
  (
    d,
  ) => html`<tr><td><code class="code">${d.kind}</code></td><td><a href="${lotHref(d.lot)}"><code>${d.lot}</code></a></td>
<td>${d.plant}</td><td>${when(d.sinceMs)} <span class="muted">(${age(d.sinceMs, now)})</span></td><td>${d.detail}</td>
<td>${jsonInline(d.qmsView)}</td><td>${jsonInline(d.erpView)}</td></tr>`,
)}
</tbody></table>`
}

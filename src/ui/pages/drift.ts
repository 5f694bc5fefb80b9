import { listDrift } from '../../projections/reconciliation.ts'
import { hasRole } from '../../server/auth.ts'
import type { ServerContext } from '../../server/context.ts'
import { activeOperation, recentOperations } from '../../store/operations.ts'
import { age, jsonInline, when } from '../format.ts'
import { type Html, html } from '../html.ts'
import { lotHref } from './lots.ts'
import { operationProgress } from './operation-progress.ts'

type Headers = Record<string, string | string[] | undefined>

/**
 * "Reconcile now" for the integration admin: the pass runs where the reconciliation lease is
 * held, soon after the click; the pass asked for (or the one running) shows its progress here.
 */
async function reconcileSection(ctx: ServerContext, headers: Headers): Promise<Html> {
  if (!ctx.reconcileConfigured)
    return html`<p class="hint">Reconciliation is not configured on this deployment (it needs an ERP connector and a top-level <code>reconciliation: { interval }</code> in qualink.yaml).</p>`
  const scope = ctx.scopeOf(headers)
  const shown =
    (await activeOperation(ctx.store, scope, 'reconciliation')) ??
    (await recentOperations(ctx.store, scope, 'reconciliation', 1))[0]
  const admin = hasRole(ctx.authenticator.principal(headers), 'admin')
  const button = admin
    ? html`<form method="post" action="/ui/drift/reconcile" hx-post="/ui/drift/reconcile" hx-target="#reconcile-status" hx-swap="innerHTML" hx-disabled-elt="find button">
<button type="submit" class="primary">Reconcile now</button></form>`
    : html`<p class="muted">Reconcile now: needs the admin role.</p>`
  return html`<section class="panel reconcile"><h2>Reconciliation</h2>
<p class="hint">Passes run on their schedule; “Reconcile now” asks for one at once. It compares every finished receipt inspection’s decision with the ERP stock.</p>
${button}<div class="msg" id="reconcile-msg" role="alert"></div>
<div id="reconcile-status" aria-live="polite">${shown ? operationProgress(shown) : ''}</div>
</section>`
}

export async function driftPage(ctx: ServerContext, headers: Headers): Promise<Html> {
  const open = await listDrift(ctx.store, ctx.scopeOf(headers), 'open')
  const now = Date.now()
  const reconcile = await reconcileSection(ctx, headers)
  if (open.length === 0)
    return html`<div class="banner ok" role="status"><strong>No open drift.</strong> The QMS and the ERP agree on every reconciled lot.</div>
${reconcile}`
  return html`<div class="banner bad" role="status"><strong>${open.length}</strong> lot${open.length === 1 ? '' : 's'} where the QMS and the ERP disagree.</div>
${reconcile}
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

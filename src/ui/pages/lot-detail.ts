import { verifyAuditAround } from '../../audit/verify.ts'
import { QualinkError } from '../../contracts/errors.ts'
import { lotStatus, type PendingItem } from '../../projections/lot-status.ts'
import { trace } from '../../projections/trace.ts'
import { hasRole } from '../../server/auth.ts'
import type { ServerContext } from '../../server/context.ts'
import type { AuditRow } from '../../store/types.ts'
import { age, badge, jsonInline, when } from '../format.ts'
import { genealogySvg } from '../genealogy-svg.ts'
import { type Html, html } from '../html.ts'
import { lotExports } from './lot-downloads.ts'
import { erpView, genealogyTree, qmsView, timeline } from './lot-parts.ts'

type Headers = Record<string, string | string[] | undefined>

const TRACE_DEPTH = 5
const TRACE_LIMIT = 500
/** events read per lot; the page shows the newest of them */
const EVENT_LIMIT = 1000
const SHOWN = 200
/** audit entries of the lot whose stretch of the chain the page verifies */
const VERIFIED = 10_000

function pendingTable(items: readonly PendingItem[], now: number): Html {
  if (items.length === 0) return html`<p class="muted">Nothing pending for this lot.</p>`
  return html`<table class="pending"><thead><tr><th>Workflow</th><th>Status</th><th>Waiting for</th><th>Since</th><th>Last error</th></tr></thead><tbody>
${items.map(
  (
    r,
  ) => html`<tr><td><a href="/ui/runs/${encodeURIComponent(r.runId)}">${r.workflow}</a></td><td>${badge(r.status)}</td>
<td>${r.waitingFor ? html`<code>${r.waitingFor.event ?? r.waitingFor.kind}</code>` : r.lastStep ? html`after <code>${r.lastStep}</code>` : html`<span class="muted">—</span>`}</td>
<td>${when(r.sinceMs)} <span class="muted">(${age(r.sinceMs, now)})</span></td>
<td>${r.lastErrorCode ? html`<code class="code">${r.lastErrorCode}</code>` : html`<span class="muted">—</span>`}</td></tr>`,
)}
</tbody></table>`
}

function auditTable(rows: readonly AuditRow[]): Html {
  if (rows.length === 0) return html`<p class="muted">No audit entries for this lot.</p>`
  return html`<table class="audit"><thead><tr><th>Seq</th><th>Action</th><th>Actor</th><th>At</th></tr></thead><tbody>
${rows.map((a) => html`<tr><td>${a.seq}</td><td>${a.action}</td><td>${a.actor}</td><td>${when(a.atMs)}</td></tr>`)}
</tbody></table>`
}

export async function lotDetailPage(ctx: ServerContext, headers: Headers, id: string): Promise<Html> {
  await ctx.catchUpProjections()
  const scope = ctx.scopeOf(headers)
  // The same per-lot projection as GET /v1/lots/:id/status (QMS decision, ERP stock, pending, drift).
  const status = await lotStatus(ctx.store, scope, id)
  // Outside the caller's plants a lot is as unknown as one never seen: no existence oracle.
  if (!status) throw new QualinkError('QLK_NOT_FOUND', `lot ${id} not found`)
  // The audit trail is the auditor's to read (as /ui/audit and the evidence bundle): other roles
  // see the lot without its audit entries, and the chain is verified only for whoever sees them:
  // the lot's stretch of it, up to the anchor after its last entry (the whole chain: /ui/audit).
  const auditor = hasRole(ctx.authenticator.principal(headers), 'auditor')
  const [decision, events, audit, back, fwd] = await Promise.all([
    status.qms ? ctx.store.getEventBySeq(scope, status.qms.eventSeq) : undefined,
    ctx.store.listEvents(scope, { subject: id, limit: EVENT_LIMIT }),
    auditor ? ctx.store.listAudit(scope, { subject: id, limit: VERIFIED }) : [],
    trace(ctx.store, scope, id, { direction: 'backward', depth: TRACE_DEPTH, limit: TRACE_LIMIT }),
    trace(ctx.store, scope, id, { direction: 'forward', depth: TRACE_DEPTH, limit: TRACE_LIMIT }),
  ])
  const chain = auditor
    ? await verifyAuditAround(
        ctx.store,
        ctx.anchors,
        audit.map((r) => r.seq),
      )
    : undefined
  const now = Date.now()
  const newest = events.slice(-SHOWN).reverse()
  const lotDrift = status.drift
  const chainBanner = !chain
    ? ''
    : chain.ok
      ? html`<div class="banner ok" role="status"><strong>Chain intact.</strong> ${chain.entries} entr${chain.entries === 1 ? 'y' : 'ies'} of this lot verified in ${chain.checked} link${chain.checked === 1 ? '' : 's'} of the chain, ${chain.anchor ? `up to the anchor at link ${chain.anchor.pos}` : 'not anchored yet'}${chain.unsealedEntries ? `; ${chain.unsealedEntries} awaiting the sealer` : ''}. The whole chain: <a href="/ui/audit">Audit</a>.</div>`
      : html`<div class="banner bad" role="alert"><strong>Chain broken at link ${chain.firstBroken?.pos ?? '?'}.</strong> ${chain.firstBroken?.reason ?? ''}</div>`
  return html`<p class="crumbs"><a href="/ui/lots">Lots</a> › <code>${id}</code></p>
<table class="facts-table lot-facts"><tbody>
<tr><th>Material</th><td>${status.material ?? '—'}</td></tr>
<tr><th>Plant</th><td>${status.plant}</td></tr>
<tr><th>Supplier</th><td>${status.supplier ?? '—'}</td></tr>
</tbody></table>
${lotDrift.length > 0 ? html`<p class="banner bad">The QMS and the ERP disagree on this lot: see Drift below.</p>` : ''}
<div class="columns">
<section class="panel qms-view"><h2>QMS view</h2>${qmsView(decision)}</section>
<section class="panel erp-view"><h2>ERP view</h2>${erpView({ ...status, stock: status.erp.stock })}</section>
</div>
<div class="columns">
<section class="panel"><h2>Pending</h2>${pendingTable(status.pending, now)}</section>
<section class="panel"><h2>Drift</h2>${
    lotDrift.length === 0
      ? html`<p class="muted">No open drift.</p>`
      : html`<table class="drift"><thead><tr><th>Kind</th><th>Since</th><th>Detail</th><th>QMS</th><th>ERP</th></tr></thead><tbody>
${lotDrift.map((d) => html`<tr><td><code class="code">${d.kind}</code></td><td>${when(d.sinceMs)}</td><td>${d.detail}</td><td>${jsonInline(d.qmsView)}</td><td>${jsonInline(d.erpView)}</td></tr>`)}
</tbody></table>`
  }</section>
</div>
<section class="panel genealogy-panel"><h2>Genealogy</h2>
<div class="genealogy-picture">${genealogySvg(back, fwd)}</div>
<div class="columns">${back ? genealogyTree(back) : ''}${fwd ? genealogyTree(fwd) : ''}</div></section>
<section class="panel"><h2>Timeline</h2>${timeline(newest)}${events.length > SHOWN ? html`<p class="note">The newest ${SHOWN} of ${events.length} events.</p>` : ''}</section>
<section class="panel"><h2>Audit</h2>${auditor ? html`${chainBanner}${auditTable(audit.slice(0, SHOWN))}` : html`<p class="muted">Audit entries are shown to auditors.</p>`}</section>
${lotExports(ctx, headers, id)}`
}

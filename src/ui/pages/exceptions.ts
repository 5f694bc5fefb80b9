import type { ServerContext } from '../../server/context.ts'
import { connectorFilter, NO_CONNECTOR } from '../../store/dead-letters.ts'
import type { DeadLetter } from '../../store/engine-types.ts'
import { activeOperation } from '../../store/operations.ts'
import { age, badge, field, query } from '../format.ts'
import { type Html, html } from '../html.ts'
import { operationProgress } from './operation-progress.ts'

type Headers = Record<string, string | string[] | undefined>

export interface ExceptionsFilter {
  readonly errorCode: string
  readonly workflow: string
  readonly plant: string
  /** a connector instance name, or NO_CONNECTOR */
  readonly connector: string
}

export { NO_CONNECTOR }

export function exceptionsFilterOf(q: Record<string, unknown>): ExceptionsFilter {
  return {
    errorCode: field(q.errorCode, 64),
    workflow: field(q.workflow, 64),
    plant: field(q.plant, 64),
    connector: field(q.connector, 64),
  }
}

/** The dashboard lists at most this many open dead letters; the API pages through more. */
export const LIST_LIMIT = 1000

export async function openDeadLetters(
  ctx: ServerContext,
  headers: Headers,
  f: Partial<ExceptionsFilter> = {},
): Promise<DeadLetter[]> {
  const list = await ctx.store.engine.listDeadLetters(ctx.scopeOf(headers), {
    status: 'open',
    errorCode: f.errorCode || undefined,
    workflow: f.workflow || undefined,
    connector: connectorFilter(f.connector),
    limit: LIST_LIMIT,
  })
  return list.filter((d) => !f.plant || d.plant === f.plant)
}

const connectorOf = (d: DeadLetter) => d.connector ?? NO_CONNECTOR

/** Replay and discard controls; `view` says which fragment the answer replaces. */
export function deadLetterActions(dl: DeadLetter, view: 'row' | 'detail'): Html {
  const target = view === 'row' ? `#dl-${dl.id}` : '#dl-actions'
  const base = `/ui/exceptions/${dl.id}`
  return html`<div class="actions">
<form method="post" action="${base}/replay" hx-post="${base}/replay" hx-target="${target}" hx-swap="outerHTML" hx-disabled-elt="find button">
<input type="hidden" name="view" value="${view}"><button type="submit" class="primary">Replay</button></form>
<form class="discard" method="post" action="${base}/discard" hx-post="${base}/discard" hx-target="${target}" hx-swap="outerHTML">
<input type="hidden" name="view" value="${view}">
<input name="reason" required minlength="3" maxlength="500" placeholder="reason to discard" aria-label="Reason to discard dead letter ${dl.id}">
<button type="submit" class="danger">Discard</button></form>
<div class="msg" id="dl-${dl.id}-msg" role="alert"></div>
</div>`
}

export function deadLetterRow(dl: DeadLetter, now: number, note?: Html): Html {
  return html`<tr id="dl-${dl.id}" class="${dl.status === 'open' ? '' : 'resolved'}">
<td><a href="/ui/exceptions/${dl.id}"><code>${dl.key}</code></a></td>
<td>${dl.workflow}</td><td>${dl.plant}</td>
<td class="connector">${dl.connector ? html`<code>${dl.connector}</code>${dl.target ? html`<div class="error-text">${dl.target}</div>` : ''}` : html`<span class="muted">—</span>`}</td>
<td><code class="code">${dl.errorCode}</code><div class="error-text">${dl.error}</div></td>
<td class="num">${dl.attempts}</td><td title="${new Date(dl.createdAtMs).toISOString()}">${age(dl.createdAtMs, now)}</td>
<td>${dl.status === 'open' ? deadLetterActions(dl, 'row') : html`${badge(dl.status)} ${note ?? ''}`}</td>
</tr>`
}

export function deadLetterTable(list: readonly DeadLetter[], now: number): Html {
  if (list.length === 0)
    return html`<p class="empty">No open dead letters match. Nothing needs attention.</p>`
  return html`<table class="dead-letters"><thead><tr><th>Run key</th><th>Workflow</th><th>Plant</th>
<th>Connector</th><th>Error</th><th>Attempts</th><th>Age</th><th>Actions</th></tr></thead><tbody>
${list.map((dl) => deadLetterRow(dl, now))}
</tbody></table>
${list.length >= LIST_LIMIT ? html`<p class="note">Showing the first ${LIST_LIMIT}; narrow the filter or use <code>GET /v1/dead-letters</code>.</p>` : ''}`
}

function countBy(list: readonly DeadLetter[], pick: (d: DeadLetter) => string): Array<[string, number]> {
  const m = new Map<string, number>()
  for (const d of list) m.set(pick(d), (m.get(pick(d)) ?? 0) + 1)
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}

function groupPanel(
  title: string,
  name: keyof ExceptionsFilter,
  rows: Array<[string, number]>,
  f: ExceptionsFilter,
): Html {
  return html`<section class="panel group"><h3>${title}</h3>
${rows.length === 0 ? html`<p class="empty">none open</p>` : ''}
<ul>${rows.map(
    ([value, n]) =>
      html`<li class="${f[name] === value ? 'selected' : ''}"><a href="/ui/exceptions${query({ ...f, [name]: value })}">${value}</a><span class="count">${n}</span></li>`,
  )}</ul></section>`
}

function select(name: string, label: string, values: readonly string[], selected: string): Html {
  return html`<label>${label} <select name="${name}"><option value="">any</option>
${values.map((v) => html`<option value="${v}" ${v === selected ? html`selected` : ''}>${v}</option>`)}</select></label>`
}

export async function exceptionsPage(
  ctx: ServerContext,
  headers: Headers,
  f: ExceptionsFilter,
): Promise<Html> {
  const now = Date.now()
  const all = await openDeadLetters(ctx, headers)
  const shown = await openDeadLetters(ctx, headers, f)
  // The facets a dead letter is grouped and filtered by: filter key, label, open count per value.
  const facets: Record<keyof ExceptionsFilter, { label: string; rows: Array<[string, number]> }> = {
    errorCode: { label: 'Error code', rows: countBy(all, (d) => d.errorCode) },
    workflow: { label: 'Workflow', rows: countBy(all, (d) => d.workflow) },
    plant: { label: 'Plant', rows: countBy(all, (d) => d.plant) },
    connector: { label: 'Connector', rows: countBy(all, connectorOf) },
  }
  const selects = (...names: Array<keyof ExceptionsFilter>) =>
    names.map((n) =>
      select(
        n,
        facets[n].label,
        facets[n].rows.map(([v]) => v),
        f[n],
      ),
    )
  const filtered = Boolean(f.errorCode || f.workflow || f.plant || f.connector)
  // a bulk replay still under way (started here, in another tab or by a colleague) keeps its bar
  const replaying = await activeOperation(ctx.store, ctx.scopeOf(headers), 'bulk-replay')
  return html`<p class="lead"><strong>${all.length}</strong> open dead letter${all.length === 1 ? '' : 's'}${filtered ? html` · <strong>${shown.length}</strong> match the filter · <a href="/ui/exceptions">clear filter</a>` : ''}</p>
<div class="groups">
${(['errorCode', 'workflow', 'plant', 'connector'] as const).map((n) => groupPanel(`By ${facets[n].label.toLowerCase()}`, n, facets[n].rows, f))}
</div>
<form class="toolbar" method="get" action="/ui/exceptions">
${selects('errorCode', 'workflow', 'plant', 'connector')}
<button type="submit">Filter</button>
</form>
<section class="panel bulk"><h2>Bulk replay</h2>
<p class="hint">Preview what a replay would re-run, then confirm. Replayed runs resume at their failed step; completed steps are not repeated.</p>
<form class="toolbar" method="post" action="/ui/exceptions/bulk/preview" hx-post="/ui/exceptions/bulk/preview" hx-target="#bulk-result" hx-swap="innerHTML">
${selects('errorCode', 'workflow', 'connector')}
<button type="submit">Preview</button>
</form>
<div id="bulk-result" aria-live="polite">${replaying ? operationProgress(replaying, now) : ''}</div>
</section>
<div id="dl-table" hx-get="/ui/partials/exceptions${query({ ...f })}" hx-trigger="qlk-dead-letters-changed from:body" hx-swap="innerHTML">
${deadLetterTable(shown, now)}
</div>`
}

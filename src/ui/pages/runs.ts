import type { ServerContext } from '../../server/context.ts'
import type { RunRow, RunStatus } from '../../store/engine-types.ts'
import { age, badge } from '../format.ts'
import { type Html, html } from '../html.ts'

type Headers = Record<string, string | string[] | undefined>

export const RUN_STATUSES: readonly RunStatus[] = [
  'pending',
  'waiting',
  'completed',
  'failed',
  'dead',
  'cancelled',
]
const LIMIT = 200

export interface RunsFilter {
  readonly workflow: string
  readonly status: string
  readonly key: string
}

function runRow(r: RunRow, now: number): Html {
  return html`<tr><td><a href="/ui/runs/${encodeURIComponent(r.id)}"><code>${r.key}</code></a></td>
<td>${r.workflow} <span class="muted">v${r.version}</span></td><td>${r.plant}</td>
<td>${badge(r.status)}${r.cancelRequested ? html` <span class="badge warn">cancel requested</span>` : ''}</td>
<td class="num">${r.attempts}</td>
<td>${r.lastErrorCode ? html`<code class="code">${r.lastErrorCode}</code>` : html`<span class="muted">—</span>`}</td>
<td title="${new Date(r.createdAtMs).toISOString()}">${age(r.createdAtMs, now)}</td>
<td title="${new Date(r.updatedAtMs).toISOString()}">${age(r.updatedAtMs, now)} ago</td></tr>`
}

export async function runsPage(ctx: ServerContext, headers: Headers, f: RunsFilter): Promise<Html> {
  const status = RUN_STATUSES.find((s) => s === f.status)
  const runs = await ctx.store.engine.listRuns(ctx.scopeOf(headers), {
    workflow: f.workflow || undefined,
    status,
    key: f.key || undefined,
    limit: LIMIT,
  })
  const counts = await ctx.store.engine.engineCounts()
  const workflows = [...new Set(runs.map((r) => r.workflow))].sort()
  const now = Date.now()
  return html`<div class="chips">${RUN_STATUSES.map(
    (s) =>
      html`<a class="chip ${s === status ? 'selected' : ''}" href="/ui/runs?status=${s}">${s} <span class="count">${counts.runsByStatus[s] ?? 0}</span></a>`,
  )}</div>
<form class="toolbar" method="get" action="/ui/runs">
<label>Workflow <input name="workflow" list="workflow-names" value="${f.workflow}" placeholder="any"></label>
<datalist id="workflow-names">${workflows.map((w) => html`<option value="${w}"></option>`)}</datalist>
<label>Status <select name="status"><option value="">any</option>
${RUN_STATUSES.map((s) => html`<option value="${s}" ${s === status ? html`selected` : ''}>${s}</option>`)}</select></label>
<label>Key <input name="key" value="${f.key}" placeholder="exact run key"></label>
<button type="submit">Filter</button> <a href="/ui/runs">clear</a>
</form>
${
  runs.length === 0
    ? html`<p class="empty">No runs match.</p>`
    : html`<table class="runs"><thead><tr><th>Key</th><th>Workflow</th><th>Plant</th><th>Status</th><th>Attempts</th>
<th>Last error</th><th>Age</th><th>Updated</th></tr></thead><tbody>
${runs.map((r) => runRow(r, now))}
</tbody></table>`
}
<p class="note">${runs.length === LIMIT ? `Showing the latest ${LIMIT}; narrow the filter.` : `${runs.length} runs.`}</p>`
}

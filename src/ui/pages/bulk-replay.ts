import type { DeadLetter } from '../../store/engine-types.ts'
import { age } from '../format.ts'
import { type Html, html } from '../html.ts'

export interface BulkFilter {
  readonly errorCode: string
  readonly workflow: string
  /** a connector instance name, or '(none)' for failures no connector caused */
  readonly connector?: string
}

function describe(f: BulkFilter): string {
  const parts = [
    f.errorCode && `error ${f.errorCode}`,
    f.workflow && `workflow ${f.workflow}`,
    f.connector && `connector ${f.connector}`,
  ].filter(Boolean)
  return parts.length ? parts.join(', ') : 'all open dead letters'
}

/**
 * The dry run: what a replay would re-run. Confirming replays exactly these ids, not whatever
 * matches the filter by then, so nothing the operator has not seen is re-run.
 */
export function bulkPreview(f: BulkFilter, matching: readonly DeadLetter[], now = Date.now()): Html {
  if (matching.length === 0)
    return html`<p class="empty">Dry run: no open dead letter matches ${describe(f)}. Nothing would run.</p>`
  return html`<div class="preview">
<p><strong>Dry run:</strong> ${matching.length} dead letter${matching.length === 1 ? '' : 's'} match ${describe(f)} and would be replayed.</p>
<table><thead><tr><th>Run key</th><th>Workflow</th><th>Plant</th><th>Error</th><th>Age</th></tr></thead><tbody>
${matching.map(
  (d) =>
    html`<tr><td><a href="/ui/exceptions/${d.id}"><code>${d.key}</code></a></td><td>${d.workflow}</td><td>${d.plant}</td><td><code class="code">${d.errorCode}</code></td><td>${age(d.createdAtMs, now)}</td></tr>`,
)}
</tbody></table>
<form method="post" action="/ui/exceptions/bulk/replay" hx-post="/ui/exceptions/bulk/replay" hx-target="#bulk-result" hx-swap="innerHTML" hx-indicator="#bulk-progress" hx-disabled-elt="find button">
${matching.map((d) => html`<input type="hidden" name="id" value="${d.id}">`)}
<button type="submit" class="primary">Replay ${matching.length}</button>
<span id="bulk-progress" class="htmx-indicator progress">Starting the replay of ${matching.length}…</span>
</form></div>`
}

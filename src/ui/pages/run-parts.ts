import type { ServerContext } from '../../server/context.ts'
import type { JournalEntry, RunRow, WaitRow } from '../../store/engine-types.ts'
import { type Scope, type StoredEvent, scopeIncludes } from '../../store/types.ts'
import { badge, jsonBlock, jsonInline, when } from '../format.ts'
import { type Html, html } from '../html.ts'

/** The event that started the run, if the caller may see its plant. */
export async function triggerEvent(
  ctx: ServerContext,
  scope: Scope,
  run: RunRow,
): Promise<StoredEvent | undefined> {
  if (run.triggerEventSeq === null) return undefined
  const e = await ctx.store.engine.getEventBySeqInternal(run.triggerEventSeq)
  return e && scopeIncludes(scope, e.plant) ? e : undefined
}

export function journalTable(journal: readonly JournalEntry[]): Html {
  if (journal.length === 0) return html`<p class="empty">No step has completed yet.</p>`
  return html`<table class="journal"><thead><tr><th>#</th><th>Kind</th><th>Name</th><th>Occurrence</th>
<th>Idempotency key</th><th>Result</th><th>Code version</th><th>Completed</th></tr></thead><tbody>
${journal.map(
  (j) => html`<tr><td class="num">${j.position}</td><td>${j.kind}</td><td><strong>${j.name}</strong></td>
<td class="num">${j.occurrence}</td><td><code class="key">${j.idempotencyKey ?? '—'}</code></td>
<td>${jsonInline(j.result)}</td><td class="num">v${j.codeVersion}</td><td>${when(j.completedAtMs)}</td></tr>`,
)}
</tbody></table>`
}

export function waitsTable(waits: readonly WaitRow[]): Html {
  if (waits.length === 0) return html`<p class="empty">The run has not waited.</p>`
  return html`<table class="waits"><thead><tr><th>#</th><th>Kind</th><th>Event family</th><th>Subject</th>
<th>Status</th><th>Timeout</th><th>Matched event</th></tr></thead><tbody>
${waits.map(
  (w) => html`<tr><td class="num">${w.position}</td><td>${w.kind}</td><td>${w.eventFamily ?? '—'}</td>
<td>${w.subject ?? '—'}</td><td>${badge(w.status)}</td><td>${when(w.timeoutAtMs)}</td>
<td>${w.eventSeq === null ? '—' : html`<a href="/ui/events?subject=${encodeURIComponent(w.subject ?? '')}">#${w.eventSeq}</a>`}</td></tr>`,
)}
</tbody></table>`
}

export function eventSection(event: StoredEvent | undefined): Html {
  if (!event) return html`<p class="empty">No trigger event (or it belongs to a plant you cannot see).</p>`
  return html`<p class="meta">#${event.seq} · ${event.type} · from <code>${event.source}</code> · ${when(event.recordedAtMs)}</p>
${jsonBlock(event.envelope)}`
}

export function runSummary(run: RunRow): Html {
  return html`<dl class="facts">
<dt>Run</dt><dd><a href="/ui/runs/${encodeURIComponent(run.id)}"><code>${run.id}</code></a></dd>
<dt>Workflow</dt><dd>${run.workflow} v${run.version}</dd>
<dt>Key</dt><dd><code>${run.key}</code></dd>
<dt>Plant</dt><dd>${run.plant}</dd>
<dt>Status</dt><dd>${badge(run.status)}${run.cancelRequested ? html` <span class="badge warn">cancel requested</span>` : ''}</dd>
<dt>Attempts</dt><dd>${run.attempts}</dd>
<dt>Last error</dt><dd>${run.lastErrorCode ? html`<code class="code">${run.lastErrorCode}</code> ${run.lastError}` : '—'}</dd>
<dt>Created</dt><dd>${when(run.createdAtMs)}</dd>
<dt>Updated</dt><dd>${when(run.updatedAtMs)}</dd>
<dt>Due</dt><dd>${when(run.dueAtMs)}</dd>
${run.cancelReason ? html`<dt>Cancel reason</dt><dd>${run.cancelReason}</dd>` : ''}
${run.completedAtMs ? html`<dt>Completed</dt><dd>${when(run.completedAtMs)}</dd><dt>Result</dt><dd>${jsonInline(run.result)}</dd>` : ''}
</dl>`
}

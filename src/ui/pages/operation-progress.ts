import type { Operation } from '../../store/operations.ts'
import { age, when } from '../format.ts'
import { type Html, html } from '../html.ts'

interface ReplaySummary {
  readonly requested: number
  readonly replayed: number
  readonly refused: number
  readonly gone: number
  readonly refusals: ReadonlyArray<{ readonly key: string; readonly detail: string }>
}

export const isFinished = (op: Operation) => op.status !== 'pending' && op.status !== 'running'

const LABEL: Record<Operation['kind'], string> = {
  'bulk-replay': 'Bulk replay',
  reconciliation: 'Reconciliation pass',
}

function counts(op: Operation): Html {
  const of = op.total === null ? '' : html` of ${op.total}`
  return html`<span class="op-counts"><strong class="op-done">${op.done}</strong>${of} done${op.failed ? html`, <strong class="op-failed">${op.failed}</strong> failed` : ''}</span>`
}

function replayOutcome(op: Operation): Html {
  const s = op.result as ReplaySummary | null
  if (!s) return html`<p>${op.message ?? ''}</p>`
  const shown = s.refusals.length
  return html`<p><strong>Replayed ${s.replayed} of ${s.requested}.</strong>
${s.refused ? html` ${s.refused} refused.` : ''}
${s.gone ? html` ${s.gone} already resolved by someone else.` : ''}
The engine picks replayed runs up now; a run that fails again returns to this list.</p>
${
  shown
    ? html`<ul class="refused">${s.refusals.map((r) => html`<li><code>${r.key}</code>: ${r.detail}</li>`)}</ul>${s.refused > shown ? html`<p class="note">The first ${shown} of ${s.refused} refusals.</p>` : ''}`
    : ''
}`
}

function outcome(op: Operation): Html {
  if (op.status === 'interrupted' || op.status === 'failed')
    return html`<p><strong>${LABEL[op.kind]} ${op.status}.</strong> ${op.message ?? ''}</p>`
  if (op.kind === 'bulk-replay') return replayOutcome(op)
  return html`<p><strong>Reconciliation pass completed ${when(op.finishedAtMs ?? op.updatedAtMs)}.</strong> ${op.message ?? ''}. <a href="/ui/drift">Refresh the drift list</a></p>`
}

/**
 * An operation's progress. While it runs, the fragment asks for itself again every second
 * (htmx polling, hx-swap outerHTML); the finished fragment carries no trigger, so polling stops
 * with the outcome on screen. `<progress>` without a value is the browser's "under way" bar.
 */
export function operationProgress(op: Operation, now = Date.now()): Html {
  const id = `op-${op.id}`
  if (isFinished(op)) {
    const drift = (op.result as { openDrift?: number } | null)?.openDrift ?? 0
    const tone = op.status === 'completed' && op.failed === 0 && drift === 0 ? 'ok' : 'warn'
    return html`<div id="${id}" class="operation result ${tone}" role="status" data-status="${op.status}">
<progress max="${op.total ?? op.done}" value="${op.done}" aria-label="${LABEL[op.kind]}">${op.done}</progress> ${counts(op)}
${outcome(op)}</div>`
  }
  const waiting =
    op.status === 'pending'
      ? html`Waiting for the process that runs reconciliation to take it (asked ${age(op.startedAtMs, now)} ago).`
      : html`${LABEL[op.kind]} under way, started by ${op.actor} ${age(op.startedAtMs, now)} ago.`
  const bar =
    op.total === null
      ? html`<progress aria-label="${LABEL[op.kind]}"></progress>`
      : html`<progress max="${op.total}" value="${op.done}" aria-label="${LABEL[op.kind]}">${op.done}</progress>`
  return html`<div id="${id}" class="operation running" role="status" data-status="${op.status}"
 hx-get="/ui/partials/operations/${op.id}" hx-trigger="every 1s" hx-swap="outerHTML">
<p>${waiting}</p>${bar} ${counts(op)}</div>`
}

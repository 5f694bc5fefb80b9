import type { RecordVersion } from '../../signatures/records.ts'
import type { Signature } from '../../signatures/signature-store.ts'
import type { DeadLetter } from '../../store/engine-types.ts'
import { age, when } from '../format.ts'
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
 * The two-person rule on the dashboard: above `over` dead letters the exact set previewed needs
 * `approved` signatures of two different people before it is replayed (the same rule, version and
 * signatures as POST /v1/signatures + POST /v1/dead-letters/replay).
 */
export interface BulkSigning {
  readonly over: number
  readonly version: RecordVersion
  /** approved signatures on this version, oldest first */
  readonly approvals: readonly Signature[]
  /** the signer field's default: the signed-in person */
  readonly signer: string
  /** the signed-in person may start the replay (operator) */
  readonly canReplay: boolean
}

const filterFields = (f: BulkFilter) =>
  html`<input type="hidden" name="errorCode" value="${f.errorCode}"><input type="hidden" name="workflow" value="${f.workflow}"><input type="hidden" name="connector" value="${f.connector ?? ''}">`

function replayForm(f: BulkFilter, matching: readonly DeadLetter[], version?: RecordVersion): Html {
  return html`<form method="post" action="/ui/exceptions/bulk/replay" hx-post="/ui/exceptions/bulk/replay" hx-target="#bulk-result" hx-swap="innerHTML" hx-indicator="#bulk-progress" hx-disabled-elt="find button">
${matching.map((d) => html`<input type="hidden" name="id" value="${d.id}">`)}${version ? html`${filterFields(f)}<input type="hidden" name="version" value="${version.hash}">` : ''}
<button type="submit" class="primary">Replay ${matching.length}</button>
<span id="bulk-progress" class="htmx-indicator progress">Starting the replay of ${matching.length}…</span>
</form>`
}

function signingPanel(f: BulkFilter, matching: readonly DeadLetter[], s: BulkSigning): Html {
  const people = [...new Map(s.approvals.map((a) => [a.signerId, a])).values()]
  const complete = people.length >= 2
  const signed =
    people.length === 0
      ? html`nobody yet`
      : html`${people.map((a, i) => html`${i > 0 ? ', ' : ''}${a.printedName} (<code>${a.signerId}</code>, ${when(a.signedAtMs)})`)}`
  return html`<div class="signing" data-version="${s.version.hash}" data-status="${complete ? 'signed' : 'awaiting-signatures'}">
<p>More than ${s.over} dead letters: two different approvers sign exactly this set before it is replayed (version <code>${s.version.hash.slice(0, 12)}</code>). Signed: ${signed}.</p>
${
  complete
    ? s.canReplay
      ? replayForm(f, matching, s.version)
      : html`<p class="note">Both signatures are in: an operator replays it from this page (preview the same filter).</p>`
    : html`<form class="sign" method="post" action="/ui/exceptions/bulk/sign" hx-post="/ui/exceptions/bulk/sign" hx-target="#bulk-result" hx-swap="innerHTML" hx-disabled-elt="find button">
${filterFields(f)}<input type="hidden" name="version" value="${s.version.hash}">
<label>Signer <input name="signer" value="${s.signer}" required maxlength="64" autocomplete="username"></label>
<label>Password <input name="password" type="password" required maxlength="1024" autocomplete="current-password"></label>
<label class="meaning"><input type="checkbox" name="meaning" value="approved" required> I approve replaying exactly these ${matching.length} dead letters</label>
<button type="submit" class="primary">Sign${people.length === 1 ? ' as the second approver' : ''}</button>
</form>`
}
<div id="bulk-sign-msg" aria-live="polite"></div></div>`
}

/**
 * The dry run: what a replay would re-run. Confirming replays exactly these ids, not whatever
 * matches the filter by then, so nothing the operator has not seen is re-run.
 */
export function bulkPreview(
  f: BulkFilter,
  matching: readonly DeadLetter[],
  now = Date.now(),
  signing?: BulkSigning,
): Html {
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
${signing ? signingPanel(f, matching, signing) : replayForm(f, matching)}</div>`
}

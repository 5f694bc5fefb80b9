import type { MassReleaseView } from '../../signatures/mass-release.ts'
import type { RecordVersion } from '../../signatures/records.ts'
import type { Signature } from '../../signatures/signature-store.ts'
import { badge, query, when } from '../format.ts'
import { type Html, html } from '../html.ts'
import { lotHref } from './lots.ts'

/** A released lot as the progress table shows it (its plant comes from its run). */
export interface ReleasedView {
  readonly lot: string
  /** the release event's id, which the lot's run names as its trigger */
  readonly event: string
  readonly duplicate?: boolean
}

/** What the progress table shows of a run. */
export interface RunBrief {
  readonly id: string
  readonly plant: string
  readonly status: string
}

/** What the next signature means: the requester's `approved`, the second person's `released`. */
export type NextMeaning = 'approved' | 'released'

export function nextMeaning(signed: readonly Signature[]): NextMeaning | null {
  const people = new Set(signed.map((s) => s.signerId)).size
  return people === 0 ? 'approved' : people === 1 ? 'released' : null
}

function signatureList(signed: readonly Signature[]): Html {
  if (signed.length === 0) return html`<p class="muted">Not signed yet.</p>`
  return html`<ul class="signatures">${signed.map(
    (s) =>
      html`<li><strong>${s.printedName}</strong> (<code>${s.signerId}</code>) signed “${s.meaning}” ${when(s.signedAtMs)}</li>`,
  )}</ul>`
}

/**
 * The link a requester hands the second approver: the same lots, so the same version. Commas,
 * not spaces: a `+` would not survive the login's return address (safeNext) for a signed-out approver.
 */
export function handoverHref(lots: readonly string[]): string {
  return `/ui/mass-release${query({ lots: lots.join(',') })}`
}

/**
 * The signature form: signer id and password re-entered (21 CFR 11.200(a)), and the meaning
 * confirmed (11.50). It carries the exact selection and the version shown, so a signature is
 * bound to what the signer saw; the server refuses it if the lots' decisions moved since.
 */
export function signForm(
  view: MassReleaseView,
  version: RecordVersion,
  meaning: NextMeaning,
  signer: string,
): Html {
  const n = view.eligible.length
  const text =
    meaning === 'approved'
      ? `I request the release of these ${n} lot${n === 1 ? '' : 's'} (meaning: approved).`
      : `As a second, different approver I release these ${n} lot${n === 1 ? '' : 's'} (meaning: released).`
  return html`<form class="sign" method="post" action="/ui/mass-release/sign" hx-post="/ui/mass-release/sign" hx-target="#mr-result" hx-swap="innerHTML" hx-disabled-elt="find button">
${view.selection.lots.map((l) => html`<input type="hidden" name="lot" value="${l}">`)}
<input type="hidden" name="version" value="${version.hash}">
<h3>${meaning === 'approved' ? 'First signature: the requester' : 'Second signature: a different approver'}</h3>
<div class="toolbar">
<label>Signer <input name="signer" value="${signer}" required maxlength="64" autocomplete="username"></label>
<label>Password <input name="password" type="password" required maxlength="1024" autocomplete="current-password"></label>
</div>
<label class="block"><input type="checkbox" name="meaning" value="${meaning}" required> ${text}</label>
<button type="submit" class="primary">${meaning === 'approved' ? 'Sign request' : 'Sign and release'}</button>
<div class="msg" id="mr-sign-msg" role="alert"></div>
</form>`
}

/** The dry run: what would be released, what is refused and why, and who signed this version. */
export function previewFragment(
  view: MassReleaseView,
  version: RecordVersion,
  signed: readonly Signature[],
  signer: string,
): Html {
  const n = view.eligible.length
  const meaning = nextMeaning(signed)
  return html`<div class="preview" data-version="${version.hash}">
<p><strong>Dry run:</strong> ${n} lot${n === 1 ? '' : 's'} would be released${view.refused.length ? html`, ${view.refused.length} refused` : ''}${view.unknown ? html`, ${view.unknown} not found in your plants (not named)` : ''}. Version <code title="${version.hash}">${version.hash.slice(0, 12)}</code>.</p>
${
  n
    ? html`<table class="eligible"><thead><tr><th>Lot</th><th>Plant</th><th>Material</th><th>Decision</th></tr></thead><tbody>
${view.eligible.map((l) => html`<tr><td><a href="${lotHref(l.lot)}"><code>${l.lot}</code></a></td><td>${l.plant}</td><td>${l.material}</td><td><code class="code">${l.decision.code}</code> ${l.decision.valuation}</td></tr>`)}
</tbody></table>`
    : ''
}
${
  view.refused.length
    ? html`<h3>Refused</h3><table class="refused"><thead><tr><th>Lot</th><th>Plant</th><th>Code</th><th>Why</th></tr></thead><tbody>
${view.refused.map((r) => html`<tr><td><code>${r.lot}</code></td><td>${r.plant}</td><td><code class="code">${r.code}</code></td><td>${r.reason}</td></tr>`)}
</tbody></table>`
    : ''
}
<h3>Signatures on this version</h3>
${signatureList(signed)}
${
  n === 0
    ? html`<p class="empty">Nothing to release: no lot of the selection has an accepting decision.</p>`
    : meaning === null
      ? html`<p class="ok">Already signed by two approvers and released: signing again only re-runs the idempotent release.</p>${signForm(view, version, 'released', signer)}`
      : signForm(view, version, meaning, meaning === 'approved' ? signer : '')
}
</div>`
}

/** After the first signature: who signed, the form for the second, and the link to hand over. */
export function awaitingFragment(
  view: MassReleaseView,
  version: RecordVersion,
  signed: readonly Signature[],
): Html {
  return html`<div class="result warn" role="status" data-status="awaiting-second-signature">
<p><strong>Signed; awaiting a second, different approver.</strong> Nothing is released until a second person signs this exact version.</p>
<p>Would release: ${view.eligible.map((l, i) => html`${i ? ', ' : ''}<code>${l.lot}</code>`)}${view.refused.length ? html` · refused: ${view.refused.map((r, i) => html`${i ? ', ' : ''}<code>${r.lot}</code>`)}` : ''}</p>
${signatureList(signed)}
<p>The second approver may sign here, or open <a href="${handoverHref(view.selection.lots)}">this selection</a> in their own session.</p>
</div>
${signForm(view, version, 'released', '')}`
}

/** After the second signature: the lots released, each with its lot-release run as it progresses. */
export function releasedFragment(
  version: RecordVersion,
  signed: readonly Signature[],
  released: readonly ReleasedView[],
  runs: ReadonlyMap<string, RunBrief>,
): Html {
  const again = released.filter((r) => r.duplicate).length
  return html`<div class="result ok" role="status" data-status="released">
<p><strong>Released ${released.length} lot${released.length === 1 ? '' : 's'}.</strong>${again ? html` ${again} had been released by an earlier execution of the same signatures; no second run was started.` : ''}</p>
${signatureList(signed)}
${runProgress(version.hash, released, runs)}
</div>`
}

const FINAL = new Set(['completed', 'failed', 'dead', 'cancelled'])

/**
 * One row per released lot with its run's status; polls itself every 2 s until every run has
 * finished (the replaced element drops the trigger, so polling stops by itself).
 */
export function runProgress(
  hash: string,
  released: readonly ReleasedView[],
  runs: ReadonlyMap<string, RunBrief>,
): Html {
  const done = released.every((r) => FINAL.has(runs.get(r.event)?.status ?? ''))
  const poll = `/ui/partials/mass-release/runs${query({ version: hash })}&${released.map((r) => `lot=${encodeURIComponent(r.lot)}`).join('&')}`
  const attrs = done ? html`` : html` hx-get="${poll}" hx-trigger="every 2s" hx-swap="outerHTML"`
  return html`<div class="run-progress" data-done="${done ? 'true' : 'false'}"${attrs}>
<table><thead><tr><th>Lot</th><th>Plant</th><th>Run</th><th>Status</th></tr></thead><tbody>
${released.map((r) => {
  const run = runs.get(r.event)
  return html`<tr data-lot="${r.lot}"><td><code>${r.lot}</code></td><td>${run?.plant ?? ''}</td><td>${run ? html`<a href="/ui/runs/${encodeURIComponent(run.id)}"><code>${run.id}</code></a>` : html`<span class="muted">starting…</span>`}</td><td>${run ? badge(run.status) : badge('pending')}</td></tr>`
})}
</tbody></table>
${done ? html`<p class="note">Every run has finished.</p>` : html`<p class="note">Runs in progress; this table refreshes itself.</p>`}
</div>`
}

import type { ServerContext } from '../../server/context.ts'
import { LOT_RELEASE } from '../../server/mass-release-flow.ts'
import { MASS_RELEASE_MAX_LOTS } from '../../signatures/mass-release.ts'
import { field } from '../format.ts'
import { type Html, html } from '../html.ts'
import { type LotListRow, lotHref, recentLots } from './lots.ts'

type Headers = Record<string, string | string[] | undefined>

export interface MassReleaseFilter {
  readonly plant: string
  readonly material: string
  /** lots typed or handed over (the link a requester sends the second approver) */
  readonly lots: string
}

export function massReleaseFilterOf(q: Record<string, unknown>): MassReleaseFilter {
  return {
    plant: field(q.plant, 64),
    material: field(q.material, 64),
    lots: field(q.lots, 200 * 130),
  }
}

/** Lots looked at for the candidate list: the most recently active ones of the filter. */
const CANDIDATE_WINDOW = 1000
const HELD = ['blocked', 'qualityInspection'] as const

/**
 * Candidates: the caller's lots (of the filter's plant and material) whose projected stock is
 * blocked or in quality inspection and whose newest QMS decision accepts them. The preview
 * re-reads every lot, so this list only proposes; it never decides.
 */
export async function massReleaseCandidates(
  ctx: ServerContext,
  headers: Headers,
  f: MassReleaseFilter,
): Promise<LotListRow[]> {
  await ctx.catchUpProjections()
  const lots = await recentLots(ctx, headers, '', {
    plant: f.plant,
    material: f.material,
    limit: CANDIDATE_WINDOW,
  })
  return lots
    .filter((l) => l.qms?.valuation === 'accepted')
    .filter((l) => HELD.some((b) => (l.stock[b]?.units ?? 0) > 0))
    .slice(0, MASS_RELEASE_MAX_LOTS)
}

function held(l: LotListRow): string {
  return HELD.filter((b) => (l.stock[b]?.units ?? 0) > 0)
    .map((b) => (b === 'qualityInspection' ? 'QI' : b))
    .join(', ')
}

/** Candidates start ticked, unless the page was opened on a handed-over list (that list is the selection). */
function candidateTable(list: readonly LotListRow[], ticked: boolean): Html {
  if (list.length === 0)
    return html`<p class="empty">No lot of this filter is in blocked or QI stock with an accepting decision. Type lot numbers below instead.</p>`
  return html`<table class="candidates"><thead><tr><th><span class="sr-only">Select</span></th><th>Lot</th><th>Plant</th><th>Material</th><th>Decision</th><th>Held in</th></tr></thead><tbody>
${list.map(
  (l) =>
    html`<tr><td><input type="checkbox" name="lot" value="${l.lot}" ${ticked ? html`checked` : ''} aria-label="Select lot ${l.lot}"></td><td><a href="${lotHref(l.lot)}"><code>${l.lot}</code></a></td><td>${l.plant}</td><td>${l.material ?? ''}</td><td><code class="code">${l.qms?.code ?? ''}</code></td><td>${held(l)}</td></tr>`,
)}
</tbody></table>`
}

/** The plants the caller may pick: their own, or (all plants) every plant that has lots. */
async function plantsOf(ctx: ServerContext, headers: Headers): Promise<string[]> {
  const scope = ctx.scopeOf(headers)
  if (!('allPlants' in scope)) return [...scope.plants].sort()
  const rows = await ctx.store.sql.all('SELECT DISTINCT plant FROM lots ORDER BY plant')
  return rows.map((r) => String(r.plant))
}

export async function massReleasePage(
  ctx: ServerContext,
  headers: Headers,
  f: MassReleaseFilter,
): Promise<Html> {
  const plants = await plantsOf(ctx, headers)
  const candidates = await massReleaseCandidates(ctx, headers, f)
  const off = ctx.workflows.includes(LOT_RELEASE)
    ? ''
    : html`<p class="banner bad">The <code>${LOT_RELEASE}</code> workflow is not enabled here (workflows.${LOT_RELEASE} in qualink.yaml): you can preview, but signing is refused and nothing is released.</p>`
  return html`${off}<p class="lead">Release lots held in blocked or QI stock whose QMS decision accepts them. Two different quality approvers sign: the requester, then a second approver; each re-enters their password. Each released lot then runs its own <a href="/ui/runs?workflow=lot-release">lot-release</a> workflow, which moves the blocked stock the ERP holds to unrestricted.</p>
<form class="toolbar" method="get" action="/ui/mass-release">
<label>Plant <select name="plant"><option value="">any of mine</option>
${plants.map((p) => html`<option value="${p}" ${p === f.plant ? html`selected` : ''}>${p}</option>`)}</select></label>
<label>Material <input name="material" value="${f.material}" maxlength="64" placeholder="any"></label>
<button type="submit">Filter</button>
</form>
<section class="panel mass-release"><h2>Selection</h2>
<form method="post" action="/ui/mass-release/preview" hx-post="/ui/mass-release/preview" hx-target="#mr-result" hx-swap="innerHTML" hx-disabled-elt="find button">
${candidateTable(candidates, !f.lots)}
<label class="block">Lot numbers (one per line, or separated by commas or spaces; at most ${MASS_RELEASE_MAX_LOTS} in all)
<textarea name="lots" rows="3" maxlength="${200 * 130}" placeholder="e.g. 0000123456">${f.lots}</textarea></label>
<button type="submit" class="primary">Preview</button>
</form>
<div id="mr-result" aria-live="polite"></div>
</section>`
}

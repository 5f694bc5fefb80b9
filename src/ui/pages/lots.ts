import type { ServerContext } from '../../server/context.ts'
import { scopeIncludes } from '../../store/types.ts'
import { type Html, html } from '../html.ts'

type Headers = Record<string, string | string[] | undefined>

const LIMIT = 50

export interface LotListRow {
  readonly lot: string
  readonly plant: string
  readonly material: string | null
  readonly supplier: string | null
}

export function lotHref(lot: string): string {
  return `/ui/lots/${encodeURIComponent(lot)}`
}

/** `%` and `_` in a search are literal characters of a lot id, not wildcards. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/**
 * The most recently active lots, optionally those whose id contains `search`. The plant scope
 * is applied in SQL so that lots of other plants do not use up the page's 50 rows.
 */
export async function recentLots(
  ctx: ServerContext,
  headers: Headers,
  search: string,
): Promise<LotListRow[]> {
  const scope = ctx.scopeOf(headers)
  const where: string[] = []
  const params: unknown[] = []
  if (search) {
    where.push("lot LIKE ? ESCAPE '\\'")
    params.push(likePattern(search))
  }
  if (!('allPlants' in scope)) {
    if (scope.plants.length === 0) return []
    where.push(`plant IN (${scope.plants.map(() => '?').join(', ')})`)
    params.push(...scope.plants)
  }
  const rows = await ctx.store.sql.all(
    `SELECT lot, plant, material, supplier FROM lots ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_event_seq DESC LIMIT ${LIMIT}`,
    params,
  )
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v))
  return rows
    .map((r) => ({
      lot: String(r.lot),
      plant: String(r.plant),
      material: text(r.material),
      supplier: text(r.supplier),
    }))
    .filter((r) => scopeIncludes(scope, r.plant))
}

export async function lotsPage(ctx: ServerContext, headers: Headers, search: string): Promise<Html> {
  await ctx.catchUpProjections()
  const lots = await recentLots(ctx, headers, search)
  const table =
    lots.length === 0
      ? html`<p class="muted">${search ? 'No lot matches this search.' : 'No lots yet.'}</p>`
      : html`<table class="lots"><thead><tr><th>Lot</th><th>Plant</th><th>Material</th><th>Supplier</th></tr></thead><tbody>
${lots.map(
  (l) =>
    html`<tr><td><a href="${lotHref(l.lot)}"><code>${l.lot}</code></a></td><td>${l.plant}</td><td>${l.material ?? '—'}</td><td>${l.supplier ?? '—'}</td></tr>`,
)}
</tbody></table>`
  return html`<form class="toolbar" method="get" action="/ui/lots">
<input name="lot" value="${search}" placeholder="lot id" aria-label="Lot id" maxlength="200">
<button type="submit">Search</button></form>
<section class="panel"><h2>${search ? 'Matching lots' : 'Recently active lots'}</h2>${table}
<p class="note">${lots.length === LIMIT ? `Showing the ${LIMIT} most recently active.` : `${lots.length} lot${lots.length === 1 ? '' : 's'}.`}</p></section>`
}

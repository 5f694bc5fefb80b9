import type { Quantity } from '../../model/quantity.ts'
import {
  DECISION_TYPES,
  decisionView,
  PENDING_RUN_STATUSES,
  type QmsDecisionView,
} from '../../projections/lot-status.ts'
import type { ServerContext } from '../../server/context.ts'
import { scopeIncludes } from '../../store/types.ts'
import { type Html, html } from '../html.ts'
import { qty } from './lot-parts.ts'

type Headers = Record<string, string | string[] | undefined>

const LIMIT = 50

export interface LotListRow {
  readonly lot: string
  readonly plant: string
  readonly material: string | null
  readonly supplier: string | null
  /** the newest usage decision, as on the lot page and GET /v1/lots/:id/status */
  readonly qms: QmsDecisionView | null
  /** the lot's stock by bucket as projected from the ERP's events */
  readonly stock: Readonly<Record<string, Quantity>>
  /** runs about the lot not yet completed or cancelled */
  readonly pending: number
  /** open QMS–ERP drift entries */
  readonly drift: number
}

export function lotHref(lot: string): string {
  return `/ui/lots/${encodeURIComponent(lot)}`
}

/** `%` and `_` in a search are literal characters of a lot id, not wildcards. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/**
 * The most recently active lots (50, or `limit`), optionally those whose id contains `search` or
 * of one plant and material. The plant scope
 * is applied in SQL so that lots of other plants do not use up the page's 50 rows.
 */
export async function recentLots(
  ctx: ServerContext,
  headers: Headers,
  search: string,
  opts: { readonly plant?: string; readonly material?: string; readonly limit?: number } = {},
): Promise<LotListRow[]> {
  const scope = ctx.scopeOf(headers)
  const where: string[] = []
  const params: unknown[] = []
  if (search) {
    where.push("lot LIKE ? ESCAPE '\\'")
    params.push(likePattern(search))
  }
  if (opts.plant) {
    where.push('plant = ?')
    params.push(opts.plant)
  }
  if (opts.material) {
    where.push('material = ?')
    params.push(opts.material)
  }
  if (!('allPlants' in scope)) {
    if (scope.plants.length === 0) return []
    where.push(`plant IN (${scope.plants.map(() => '?').join(', ')})`)
    params.push(...scope.plants)
  }
  // One statement: the page's lots first (newest activity), then per lot its newest decision,
  // pending runs and open drift, so the list costs the same whatever it shows (no query per row).
  const lots = `SELECT lot, plant, material, supplier, stock, last_event_seq FROM lots
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_event_seq DESC LIMIT ${Math.trunc(opts.limit ?? LIMIT)}`
  const rows = await ctx.store.sql.all(
    `SELECT l.*, d.envelope AS ud_envelope, d.type AS ud_type, d.time AS ud_time FROM (
       SELECT x.*,
         (SELECT MAX(e.seq) FROM events e WHERE e.plant = x.plant AND e.subject = x.lot
             AND e.type IN (${DECISION_TYPES.map(() => '?').join(', ')})) AS ud_seq,
         (SELECT COUNT(*) FROM workflow_runs r WHERE r.run_key = x.lot AND r.plant = x.plant
             AND r.status IN (${PENDING_RUN_STATUSES.map(() => '?').join(', ')})) AS pending,
         (SELECT COUNT(*) FROM drift f WHERE f.lot = x.lot AND f.status = 'open') AS drift
       FROM (${lots}) x) l
     LEFT JOIN events d ON d.seq = l.ud_seq
     ORDER BY l.last_event_seq DESC`,
    [...DECISION_TYPES, ...PENDING_RUN_STATUSES, ...params],
  )
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v))
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>
  return rows
    .map((r) => ({
      lot: String(r.lot),
      plant: String(r.plant),
      material: text(r.material),
      supplier: text(r.supplier),
      qms:
        r.ud_seq === null || r.ud_seq === undefined || r.ud_envelope === null
          ? null
          : decisionView({
              envelope: json(r.ud_envelope),
              time: String(r.ud_time),
              type: String(r.ud_type),
              seq: Number(r.ud_seq),
            }),
      stock: json(r.stock) as Record<string, Quantity>,
      pending: Number(r.pending),
      drift: Number(r.drift),
    }))
    .filter((r) => scopeIncludes(scope, r.plant))
}

function decisionCell(d: QmsDecisionView | null): Html {
  if (!d) return html`<span class="muted">none yet</span>`
  const tone = d.valuation === 'accepted' ? 'ok' : d.valuation === 'rejected' ? 'bad' : 'info'
  return html`<code class="code">${d.code}</code> <span class="badge ${tone}">${d.valuation}</span>${d.changed ? html` <span class="muted">changed</span>` : ''}`
}

function stockCell(stock: Readonly<Record<string, Quantity>>): Html {
  const buckets = Object.entries(stock)
    .filter(([, q]) => q.units !== 0)
    .sort(([a], [b]) => a.localeCompare(b))
  if (buckets.length === 0) return html`<span class="muted">—</span>`
  return html`${buckets.map(([b, q], i) => html`${i ? ', ' : ''}${b} ${qty(q)}`)}`
}

export async function lotsPage(ctx: ServerContext, headers: Headers, search: string): Promise<Html> {
  await ctx.catchUpProjections()
  const lots = await recentLots(ctx, headers, search)
  const table =
    lots.length === 0
      ? html`<p class="muted">${search ? 'No lot matches this search.' : 'No lots yet.'}</p>`
      : html`<table class="lots"><thead><tr><th>Lot</th><th>Plant</th><th>Material</th><th>Supplier</th>
<th>QMS decision</th><th>ERP stock</th><th class="num">Pending</th><th class="num">Drift</th></tr></thead><tbody>
${lots.map(
  (l) =>
    html`<tr data-lot="${l.lot}"><td><a href="${lotHref(l.lot)}"><code>${l.lot}</code></a></td><td>${l.plant}</td><td>${l.material ?? '—'}</td><td>${l.supplier ?? '—'}</td>
<td class="qms">${decisionCell(l.qms)}</td><td class="erp">${stockCell(l.stock)}</td>
<td class="num pending">${l.pending ? html`<span class="badge warn">${l.pending}</span>` : '0'}</td>
<td class="num drift">${l.drift ? html`<span class="badge bad">${l.drift}</span>` : '0'}</td></tr>`,
)}
</tbody></table>`
  return html`<form class="toolbar" method="get" action="/ui/lots">
<input name="lot" value="${search}" placeholder="lot id" aria-label="Lot id" maxlength="200">
<button type="submit">Search</button></form>
<section class="panel"><h2>${search ? 'Matching lots' : 'Recently active lots'}</h2>${table}
<p class="note">${lots.length === LIMIT ? `Showing the ${LIMIT} most recently active.` : `${lots.length} lot${lots.length === 1 ? '' : 's'}.`}</p></section>`
}

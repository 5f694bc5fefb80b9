import type { Quantity } from '../../model/quantity.ts'
import { formatDecimal } from '../../model/quantity.ts'
import type { TraceResult } from '../../projections/trace.ts'
import type { GenealogyEdge, LotNode } from '../../store/genealogy-types.ts'
import type { StoredEvent } from '../../store/types.ts'
import { when } from '../format.ts'
import { type Html, html } from '../html.ts'
import { lotHref } from './lots.ts'

export function qty(q: Quantity): string {
  return `${formatDecimal(q)} ${q.uom}`
}

function isQuantity(v: unknown): v is Quantity {
  if (v === null || typeof v !== 'object') return false
  const q = v as Record<string, unknown>
  return typeof q.units === 'number' && typeof q.scale === 'number' && typeof q.uom === 'string'
}

interface DecisionData {
  readonly inspectionLot?: unknown
  readonly code?: unknown
  readonly valuation?: unknown
  readonly stockPostings?: unknown
}

/** What the QMS decided: the latest usage decision made for the lot. */
export function qmsView(decision: StoredEvent | undefined): Html {
  if (!decision) return html`<p class="muted">No usage decision yet.</p>`
  const data = (decision.envelope.data ?? {}) as DecisionData
  const lines = Array.isArray(data.stockPostings) ? data.stockPostings : []
  const tone = data.valuation === 'accepted' ? 'ok' : data.valuation === 'rejected' ? 'bad' : 'info'
  return html`<table class="facts-table"><tbody>
<tr><th>Decision</th><td><code class="code">${String(data.code ?? '—')}</code> <span class="badge ${tone}">${String(data.valuation ?? 'unknown')}</span></td></tr>
<tr><th>Inspection lot</th><td><code>${String(data.inspectionLot ?? '—')}</code></td></tr>
<tr><th>Made</th><td>${decision.time} <span class="muted">(event ${decision.seq})</span></td></tr>
</tbody></table>
${
  lines.length === 0
    ? html`<p class="muted">No stock postings in the decision.</p>`
    : html`<table class="decision-lines"><thead><tr><th>Posting</th><th class="num">Quantity</th></tr></thead><tbody>
${lines.map((l: { code?: unknown; quantity?: unknown }) => html`<tr><td>${String(l.code ?? '')}</td><td class="num">${isQuantity(l.quantity) ? qty(l.quantity) : '—'}</td></tr>`)}
</tbody></table>`
}`
}

/** What the ERP holds: the lot's stock by bucket, as projected from the ERP's events. */
export function erpView(lot: LotNode): Html {
  const buckets = Object.entries(lot.stock).sort(([a], [b]) => a.localeCompare(b))
  if (buckets.length === 0) return html`<p class="muted">No stock posted for this lot.</p>`
  return html`<table class="stock"><thead><tr><th>Bucket</th><th class="num">Quantity</th></tr></thead><tbody>
${buckets.map(([bucket, q]) => html`<tr><td>${bucket}</td><td class="num">${qty(q)}</td></tr>`)}
</tbody></table>`
}

function edgeNote(e: GenealogyEdge): Html {
  const how =
    e.kind === 'split' || e.kind === 'transfer'
      ? e.kind
      : e.productionOrder
        ? `order ${e.productionOrder}`
        : 'consumed'
  return html` <span class="muted">${how}${e.quantity ? `, ${qty(e.quantity)}` : ''}</span>`
}

/**
 * The trace as nested lists: each lot under the lot it came from (backward) or went into
 * (forward). A lot reached by two paths is drawn under each; a loop stops where it repeats.
 */
export function genealogyTree(t: TraceResult): Html {
  const byLot = new Map(t.nodes.map((n) => [n.lot, n]))
  const next = new Map<string, GenealogyEdge[]>()
  for (const e of t.edges) {
    const [from, to] = t.direction === 'backward' ? [e.toLot, e.fromLot] : [e.fromLot, e.toLot]
    if (!byLot.has(to)) continue
    const list = next.get(from) ?? []
    if (!list.some((x) => (t.direction === 'backward' ? x.fromLot : x.toLot) === to)) list.push(e)
    next.set(from, list)
  }
  const label = (lot: string): Html => {
    const n = byLot.get(lot)
    return html`<a href="${lotHref(lot)}"><code>${lot}</code></a>${n ? html` <span class="muted">${n.material ?? ''} · ${n.plant}</span>` : ''}`
  }
  const branch = (lot: string, path: ReadonlySet<string>, depth: number): Html => {
    const children = next.get(lot) ?? []
    if (children.length === 0 || depth >= t.depth) return html``
    return html`<ul>${children.map((e) => {
      const child = t.direction === 'backward' ? e.fromLot : e.toLot
      if (path.has(child))
        return html`<li>${label(child)}${edgeNote(e)} <span class="badge warn">loop</span></li>`
      return html`<li>${label(child)}${edgeNote(e)}${branch(child, new Set([...path, child]), depth + 1)}</li>`
    })}</ul>`
  }
  const tree = branch(t.root, new Set([t.root]), 0)
  const hidden =
    t.outOfScope.lots > 0
      ? html`<p class="note">${t.exactCounts ? '' : 'At least '}${t.outOfScope.lots} more lot${t.outOfScope.lots === 1 ? '' : 's'} in plants outside your scope (${t.outOfScope.plants.join(', ')}).</p>`
      : ''
  return html`<div class="genealogy ${t.direction}"><h3>${t.direction === 'backward' ? 'Made from' : 'Went into'}</h3>
${tree.value === '' ? html`<p class="muted">${t.direction === 'backward' ? 'No source lots.' : 'No downstream lots.'}</p>` : html`<ul class="tree"><li>${label(t.root)}${tree}</li></ul>`}
${hidden}${t.truncated ? html`<p class="note">The walk stopped at its node limit.</p>` : ''}</div>`
}

export function timeline(events: readonly StoredEvent[]): Html {
  if (events.length === 0) return html`<p class="muted">No events for this lot.</p>`
  return html`<ol class="timeline">${events.map(
    (e) =>
      html`<li><span class="seq">#${e.seq}</span> <strong>${e.type}</strong> <span class="muted">${e.time} · ${e.plant} · ${e.source}</span>
<div class="muted">recorded ${when(e.recordedAtMs)}</div></li>`,
  )}</ol>`
}

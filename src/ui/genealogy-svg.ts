import type { TraceNode, TraceResult } from '../projections/trace.ts'
import type { GenealogyEdge } from '../store/genealogy-types.ts'
import { type Html, html } from './html.ts'
import { lotHref } from './pages/lots.ts'

/**
 * The trace around a lot drawn as a server-rendered SVG (no script): material flows left to
 * right, one column per depth — the lots it was made from on the left (backward trace, deepest
 * first), the lot itself in the middle, what it went into on the right (forward trace). Each edge
 * is labelled with the operation (production order) or the kind of move (split, transfer).
 * Presentation attributes only, like src/ui/charts.ts (the CSP refuses inline styles).
 */
const INK = '#4da3ff'
const MUTED = '#8a94a6'
const ROOT = '#f2b33d'
const BOX_W = 150
const BOX_H = 34
const GAP_X = 100
const GAP_Y = 14
const PAD = 10
/** lots drawn per column; the rest are counted in a "+N more" line (the lists below name them all) */
export const MAX_PER_COLUMN = 12

const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)

function edgeLabel(e: GenealogyEdge): string {
  if (e.kind === 'split' || e.kind === 'transfer') return e.kind
  const op = [e.productionOrder, e.operation].filter(Boolean).join(' / ')
  return op || 'consumed'
}

export function genealogySvg(back: TraceResult | undefined, fwd: TraceResult | undefined): Html {
  const root = back?.root ?? fwd?.root
  if (!root) return html``
  // signed depth: sources negative, downstream positive; the root is 0
  const placed = new Map<string, { node: TraceNode | undefined; col: number }>()
  placed.set(root, {
    node: [...(back?.nodes ?? []), ...(fwd?.nodes ?? [])].find((n) => n.lot === root),
    col: 0,
  })
  for (const [t, sign] of [
    [back, -1],
    [fwd, 1],
  ] as const)
    for (const n of t?.nodes ?? [])
      if (!placed.has(n.lot)) placed.set(n.lot, { node: n, col: sign * n.depth })
  const cols = [...new Set([...placed.values()].map((p) => p.col))].sort((a, b) => a - b)
  const columns = cols.map((c) =>
    [...placed.entries()]
      .filter(([, p]) => p.col === c)
      .map(([lot]) => lot)
      .sort((a, b) => a.localeCompare(b)),
  )
  const pos = new Map<string, { x: number; y: number }>()
  for (const [ci, lots] of columns.entries())
    for (const [ri, lot] of lots.slice(0, MAX_PER_COLUMN).entries())
      pos.set(lot, { x: PAD + ci * (BOX_W + GAP_X), y: PAD + ri * (BOX_H + GAP_Y) })
  const rows = Math.max(
    1,
    ...columns.map((l) => Math.min(l.length, MAX_PER_COLUMN) + (l.length > MAX_PER_COLUMN ? 1 : 0)),
  )
  const width = PAD * 2 + cols.length * BOX_W + (cols.length - 1) * GAP_X
  const otherPlants = (back?.outOfScope.lots ?? 0) + (fwd?.outOfScope.lots ?? 0)
  const plants = [...new Set([...(back?.outOfScope.plants ?? []), ...(fwd?.outOfScope.plants ?? [])])].sort()
  const footer = otherPlants > 0 ? 18 : 0
  const height = PAD * 2 + rows * (BOX_H + GAP_Y) - GAP_Y + footer
  const edges = new Map<string, GenealogyEdge>()
  for (const e of [...(back?.edges ?? []), ...(fwd?.edges ?? [])])
    if (pos.has(e.fromLot) && pos.has(e.toLot)) edges.set(`${e.fromLot}>${e.toLot}`, e)
  const sources = [...placed.values()].filter((p) => p.col < 0).length
  const downstream = [...placed.values()].filter((p) => p.col > 0).length
  const summary = `${sources} source lot${sources === 1 ? '' : 's'}, ${downstream} downstream lot${downstream === 1 ? '' : 's'}${otherPlants > 0 ? `, ${otherPlants} lot${otherPlants === 1 ? '' : 's'} in other plants` : ''}`
  return html`<svg class="genealogy-graph" data-chart="genealogy" role="img" aria-label="Genealogy of ${root}: ${summary}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>Genealogy of ${root}: ${summary}</title>
${[...edges.values()].map((e) => {
  const a = pos.get(e.fromLot)!
  const b = pos.get(e.toLot)!
  const [x1, y1, x2, y2] = [a.x + BOX_W, a.y + BOX_H / 2, b.x, b.y + BOX_H / 2]
  return html`<g data-from="${e.fromLot}" data-to="${e.toLot}"><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${MUTED}" stroke-width="1.5"/><text x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 4}" text-anchor="middle" font-size="9" fill="${MUTED}">${short(edgeLabel(e), 16)}</text></g>`
})}
${[...pos.entries()].map(([lot, p]) => {
  const n = placed.get(lot)!.node
  const isRoot = lot === root
  return html`<a href="${lotHref(lot)}" data-lot="${lot}" data-depth="${placed.get(lot)!.col}"><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="4" fill="none" stroke="${isRoot ? ROOT : INK}" stroke-width="${isRoot ? 2 : 1}"/><text x="${p.x + 6}" y="${p.y + 14}" font-size="11" fill="currentColor">${short(lot, 22)}</text><text x="${p.x + 6}" y="${p.y + 27}" font-size="9" fill="${MUTED}">${short([n?.material, n?.plant].filter(Boolean).join(' · '), 28)}</text></a>`
})}
${columns.map((lots, ci) =>
  lots.length > MAX_PER_COLUMN
    ? html`<text x="${PAD + ci * (BOX_W + GAP_X) + 6}" y="${PAD + MAX_PER_COLUMN * (BOX_H + GAP_Y) + 10}" font-size="10" fill="${MUTED}">+${lots.length - MAX_PER_COLUMN} more</text>`
    : '',
)}
${otherPlants > 0 ? html`<text data-other-plants="${otherPlants}" x="${PAD}" y="${height - 6}" font-size="10" fill="${ROOT}">${otherPlants} lot${otherPlants === 1 ? '' : 's'} in other plants (${plants.join(', ')})</text>` : ''}
</svg>`
}

import { type Html, html } from './html.ts'

/**
 * Small server-rendered SVG charts. Colours and strokes are SVG presentation attributes, not
 * `style` attributes: the dashboard's Content-Security-Policy (`style-src 'self'`) refuses inline
 * styles, and the page needs no script to draw them. Every chart carries a <title> and a
 * `role="img"` label so a screen reader (and a test) reads the numbers it shows.
 */
const INK = '#4da3ff'
const MUTED = '#8a94a6'

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1))

export interface Bar {
  readonly label: string
  readonly value: number
}

/** Vertical bars with their value above and label below; `name` identifies the chart in the page. */
export function barChart(name: string, title: string, bars: readonly Bar[]): Html {
  const w = 36
  const gap = 8
  const plot = 60
  const width = bars.length * (w + gap) + gap
  const height = plot + 34
  const max = Math.max(1, ...bars.map((b) => b.value))
  const summary = bars.map((b) => `${b.label}: ${fmt(b.value)}`).join(', ')
  return html`<svg class="chart" data-chart="${name}" role="img" aria-label="${title}: ${summary}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${title}: ${summary}</title>
<line x1="0" y1="${plot + 14}" x2="${width}" y2="${plot + 14}" stroke="${MUTED}" stroke-width="1"/>
${bars.map((b, i) => {
  const h = Math.round((b.value / max) * plot)
  const x = gap + i * (w + gap)
  return html`<g data-bar="${b.label}" data-value="${b.value}"><rect x="${x}" y="${plot + 14 - h}" width="${w}" height="${h}" fill="${INK}"/><text x="${x + w / 2}" y="${plot + 10 - h}" text-anchor="middle" font-size="10" fill="currentColor">${fmt(b.value)}</text><text x="${x + w / 2}" y="${plot + 28}" text-anchor="middle" font-size="9" fill="${MUTED}">${b.label}</text></g>`
})}
</svg>`
}

/**
 * A sparkline of a daily series: one point per day, a gap where a day has no value (a day
 * without releases has no cycle time, which is not a cycle time of zero).
 */
export function sparkline(name: string, title: string, values: ReadonlyArray<number | null>): Html {
  const width = 120
  const height = 28
  const present = values.filter((v): v is number => v !== null)
  const max = Math.max(1, ...present)
  const step = values.length > 1 ? (width - 4) / (values.length - 1) : 0
  const pt = (v: number, i: number) =>
    `${(2 + i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`
  const runs: string[][] = []
  let cur: string[] = []
  values.forEach((v, i) => {
    if (v === null) {
      if (cur.length) runs.push(cur)
      cur = []
    } else cur.push(pt(v, i))
  })
  if (cur.length) runs.push(cur)
  const last = present.length ? fmt(present[present.length - 1]!) : 'none'
  return html`<svg class="spark" data-chart="${name}" role="img" aria-label="${title}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${title} (latest ${last}, max ${fmt(Math.max(0, ...present))})</title>
<line x1="0" y1="${height - 2}" x2="${width}" y2="${height - 2}" stroke="${MUTED}" stroke-width="0.5"/>
${runs.map((r) =>
  r.length === 1
    ? html`<circle cx="${r[0]!.split(',')[0]}" cy="${r[0]!.split(',')[1]}" r="1.8" fill="${INK}"/>`
    : html`<polyline points="${r.join(' ')}" fill="none" stroke="${INK}" stroke-width="1.5"/>`,
)}
</svg>`
}

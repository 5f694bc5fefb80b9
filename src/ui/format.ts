import { type Html, html } from './html.ts'

type Headers = Record<string, string | string[] | undefined>

/** Field names whose values never reach a page: credentials in envelopes, results, configs. */
const SECRET_NAME = /secret|password|token|authorization|api[-_]?key/i

/** A copy of a JSON value with every secret-named field's value replaced by "[redacted]". */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_NAME.test(k) ? '[redacted]' : redact(v)]),
    )
  }
  return value
}

export function jsonText(value: unknown): string {
  return JSON.stringify(redact(value), null, 2) ?? 'null'
}

/** Pretty JSON, secrets redacted; escaped by the template like any other value. */
export function jsonBlock(value: unknown): Html {
  return html`<pre class="json">${jsonText(value)}</pre>`
}

/** A one-line preview that opens to the full value, without JavaScript. */
export function jsonInline(value: unknown, max = 60): Html {
  if (value === undefined || value === null) return html`<span class="muted">—</span>`
  const one = JSON.stringify(redact(value)) ?? ''
  if (one.length <= max) return html`<code>${one}</code>`
  return html`<details><summary><code>${one.slice(0, max)}…</code></summary>${jsonBlock(value)}</details>`
}

export function age(fromMs: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - fromMs) / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h ${m % 60}m`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

export function when(ms: number | null | undefined): Html {
  if (ms === null || ms === undefined) return html`<span class="muted">—</span>`
  const iso = new Date(ms).toISOString()
  return html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 19)}Z</time>`
}

const TONE: Record<string, string> = {
  completed: 'ok',
  replayed: 'ok',
  matched: 'ok',
  pending: 'info',
  waiting: 'info',
  failed: 'bad',
  open: 'bad',
  dead: 'muted',
  discarded: 'muted',
  cancelled: 'muted',
  timed_out: 'warn',
}

export function badge(status: string): Html {
  return html`<span class="badge ${TONE[status] ?? 'info'}">${status}</span>`
}

export function isHtmx(headers: Headers): boolean {
  return headers['hx-request'] === 'true'
}

/** One string from a query or form field (repeated fields: the first), trimmed, bounded. */
export function field(v: unknown, max = 200): string {
  const s = Array.isArray(v) ? v[0] : v
  return typeof s === 'string' ? s.trim().slice(0, max) : ''
}

export function query(params: Record<string, string>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''))
  const s = q.toString()
  return s ? `?${s}` : ''
}

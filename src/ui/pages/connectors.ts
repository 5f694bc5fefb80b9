import type { ConnectorHealth, TargetState } from '../../observability/connector-metrics.ts'
import type { ServerContext } from '../../server/context.ts'
import { age, when } from '../format.ts'
import { type Html, html } from '../html.ts'

const HEALTH_TONE: Record<ConnectorHealth, string> = {
  ok: 'ok',
  idle: 'muted',
  degraded: 'warn',
  down: 'bad',
}
const CIRCUIT_TONE: Record<TargetState['circuit'], string> = {
  closed: 'ok',
  'half-open': 'warn',
  open: 'bad',
}

const tag = (tone: string, label: string) => html`<span class="badge ${tone}">${label}</span>`

function since(ms: number | undefined, now: number): Html {
  return ms === undefined
    ? html`<span class="muted">—</span>`
    : html`${when(ms)} <span class="muted">(${age(ms, now)} ago)</span>`
}

function targetRow(
  name: string,
  kind: string | undefined,
  health: ConnectorHealth,
  t: TargetState | undefined,
  now: number,
): Html {
  const rateLimit = t?.lastRateLimit
    ? html`${t.rateLimitWaits} wait${t.rateLimitWaits === 1 ? '' : 's'}; last ${t.lastRateLimit.waitMs} ms (${t.lastRateLimit.reason === 'retry-after' ? 'remote Retry-After' : 'own rate limit'}) ${since(t.lastRateLimit.atMs, now)}`
    : html`<span class="muted">no waits</span>`
  const lastError = t?.lastError
    ? html`<code class="code">${t.lastError.code}</code>${t.lastError.status === undefined ? '' : ` ${t.lastError.status}`} on ${t.lastError.method} ${since(t.lastError.atMs, now)}`
    : html`<span class="muted">none</span>`
  return html`<tr data-connector="${name}"><td><strong>${name}</strong>${kind ? html`<br><span class="muted">${kind}</span>` : ''}</td>
<td>${tag(HEALTH_TONE[health], health)}</td><td>${t ? html`<code>${t.target}</code>` : html`<span class="muted">no call yet</span>`}</td>
<td>${t ? tag(CIRCUIT_TONE[t.circuit], t.circuit) : tag('ok', 'closed')}${t?.circuitSinceMs === undefined ? '' : html`<br><span class="muted">since ${age(t.circuitSinceMs, now)}</span>`}</td>
<td>${t ? `${t.calls} (${t.errors} failed)` : '0'}</td><td>${since(t?.lastCallAtMs, now)}</td><td>${rateLimit}</td><td>${lastError}</td></tr>`
}

/**
 * Connectors: health, circuit state, rate limiting and the last error of every connector this
 * process built, per target, from the egress hooks bound in src/observability/connector-metrics.ts.
 * The state is this process's own (since its start); /metrics carries the same per instance.
 */
export function connectorsPage(ctx: ServerContext): Html {
  const all = ctx.metrics.connectors.snapshot()
  const now = Date.now()
  if (all.length === 0)
    return html`<div class="banner" role="status"><strong>No connectors configured.</strong> Connectors are declared in qualink.yaml (docs/connectors.md).</div>`
  const down = all.filter((c) => c.health === 'down').length
  const degraded = all.filter((c) => c.health === 'degraded').length
  const banner =
    down + degraded === 0
      ? html`<div class="banner ok" role="status"><strong>All ${all.length} connectors healthy or idle.</strong></div>`
      : html`<div class="banner bad" role="status"><strong>${down}</strong> down (circuit open), <strong>${degraded}</strong> degraded, of ${all.length} connectors.</div>`
  const rows = all.flatMap((c) => {
    const targets = [...c.targets.values()]
    return targets.length === 0
      ? [targetRow(c.name, c.kind, c.health, undefined, now)]
      : targets.map((t) => targetRow(c.name, c.kind, c.health, t, now))
  })
  return html`${banner}
<p class="muted">Since this process started. Circuit: closed passes calls, open refuses them until a probe may go, half-open lets one probe through. Metrics: <code>qualink_connector_*</code> on <a href="/metrics">/metrics</a>.</p>
<table class="connectors"><thead><tr><th>Connector</th><th>Health</th><th>Target</th><th>Circuit</th><th>Calls</th><th>Last call</th><th>Rate limit</th><th>Last error</th></tr></thead><tbody>
${rows}
</tbody></table>`
}

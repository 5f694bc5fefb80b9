/** Tagged template that escapes every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

type Part = Html | string | number | null | undefined | readonly Part[]

function render(p: Part): string {
  if (p === null || p === undefined) return ''
  if (p instanceof Html) return p.value
  if (Array.isArray(p)) return p.map(render).join('')
  return escapeHtml(String(p))
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0]!
  parts.forEach((p, i) => {
    out += render(p) + strings[i + 1]!
  })
  return new Html(out)
}

const NAV: ReadonlyArray<[string, string]> = [
  // /ui, not /: the dashboard session cookie is scoped to Path=/ui.
  ['/ui', 'Overview'],
  ['/ui/kpis', 'KPIs'],
  ['/ui/lots', 'Lots'],
  ['/ui/mass-release', 'Mass release'],
  ['/ui/drift', 'Drift'],
  ['/ui/suppliers', 'Suppliers'],
  ['/ui/exceptions', 'Exceptions'],
  ['/ui/runs', 'Workflows'],
  ['/ui/connectors', 'Connectors'],
  ['/ui/events', 'Events'],
  ['/ui/audit', 'Audit'],
  ['/ui/api', 'API'],
]

/**
 * htmx settings under the page's Content-Security-Policy: no injected <style> element (the
 * indicator styles live in style.css), no eval, and 4xx fragments are swapped like 2xx ones so
 * a refused action shows its message in the page (the server names the target).
 */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '4..', swap: true, error: false },
    { code: '...', swap: false, error: true },
  ],
})

/** Who is signed in (a dashboard session): shown with a log-out button. No nav on the login page. */
export interface PageChrome {
  readonly user?: string
  readonly nav?: boolean
}

export function page(title: string, active: string, body: Html, chrome: PageChrome = {}): string {
  const nav =
    chrome.nav === false
      ? ''
      : html`<nav>${NAV.map(([href, label]) => html`<a href="${href}" class="${href === active ? 'active' : ''}">${label}</a>`)}</nav>`
  const who = chrome.user
    ? html`<form class="tagline signed-in" method="post" action="/ui/logout"><span>${chrome.user}</span> <button type="submit">Log out</button></form>`
    : html`<span class="tagline">operations console</span>`
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${title} · Qualink</title>
<link rel="icon" href="/ui/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/style.css">
<script src="/ui/htmx.min.js" defer></script>
</head>
<body>
<header><a class="brand" href="/ui">Qualink</a>
${nav}
${who}
</header>
<main><h1>${title}</h1>
<div id="flash" role="alert"></div>
${body}</main>
</body>
</html>`.value
}

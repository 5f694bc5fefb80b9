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
  ['/', 'Overview'],
  ['/ui/events', 'Events'],
  ['/ui/audit', 'Audit'],
]

export function page(title: string, active: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Qualink</title>
<link rel="stylesheet" href="/ui/style.css">
<script src="/ui/htmx.min.js" defer></script>
</head>
<body>
<header><strong>Qualink</strong>
<nav>${NAV.map(([href, label]) => html`<a href="${href}" class="${href === active ? 'active' : ''}">${label}</a>`)}</nav>
</header>
<main><h1>${title}</h1>${body}</main>
</body>
</html>`.value
}

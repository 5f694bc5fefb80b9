import { type Html, html } from '../html.ts'

interface Parameter {
  readonly name: string
  readonly in: string
  readonly required: boolean
  readonly schema?: { readonly type?: unknown; readonly enum?: readonly unknown[] }
}

interface Operation {
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly deprecated?: boolean
  readonly parameters: readonly Parameter[]
  readonly requestBody?: { readonly content: Record<string, { readonly schema: unknown }> }
}

type Document = {
  readonly info: { readonly title: string; readonly version: string }
  readonly paths: Record<string, Record<string, Operation>>
}

const typeOf = (p: Parameter) =>
  p.schema?.enum
    ? p.schema.enum.join(' | ')
    : Array.isArray(p.schema?.type)
      ? p.schema.type.join(' | ')
      : String(p.schema?.type ?? '')

function operation(path: string, method: string, op: Operation): Html {
  const body = op.requestBody?.content['application/json']?.schema
  return html`<section class="api-op" id="${op.operationId}" data-op="${method.toUpperCase()} ${path}">
<h3><span class="badge ${op.deprecated ? 'warn' : 'info'}">${method.toUpperCase()}</span> <code>${path}</code>${op.deprecated ? html` <span class="badge warn">deprecated</span>` : ''}</h3>
${op.summary === `${method.toUpperCase()} ${path}` ? '' : html`<p>${op.summary}</p>`}
${op.description ? html`<p class="note">${op.description}</p>` : ''}
${
  op.parameters.length
    ? html`<table class="facts-table"><thead><tr><th>Parameter</th><th>In</th><th>Type</th><th>Required</th></tr></thead><tbody>
${op.parameters.map((p) => html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${typeOf(p)}</td><td>${p.required ? 'yes' : 'no'}</td></tr>`)}
</tbody></table>`
    : ''
}
${body ? html`<details><summary>Request body (JSON Schema)</summary><pre>${JSON.stringify(body, null, 2)}</pre></details>` : ''}
</section>`
}

/**
 * The API's docs page: the OpenAPI document (/openapi.json) rendered on the server, operation by
 * operation, so it can never say something the routes do not do and needs no script to read.
 */
export function apiDocsPage(doc: Document): Html {
  const entries = Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b))
  const ops = entries.flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => ({ path, method, op })),
  )
  const deprecated = ops.filter((o) => o.op.deprecated).length
  return html`<p>${doc.info.title}, version ${doc.info.version}: ${ops.length} operations${deprecated ? html`, <strong>${deprecated} deprecated</strong> (their answers carry <code>Deprecation</code> and <code>Sunset</code> headers)` : ''}. Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are RFC 9457 problem+json with a stable <code>code</code> (docs/errors.md).</p>
<nav class="api-toc"><ul>${ops.map((o) => html`<li><a href="#${o.op.operationId}">${o.method.toUpperCase()} ${o.path}</a></li>`)}</ul></nav>
${ops.map((o) => operation(o.path, o.method, o.op))}`
}

import type { FastifyInstance, RouteOptions } from 'fastify'
import { ERRORS } from '../contracts/errors.ts'
import type { RouteDeprecation } from './deprecation.ts'

export interface CollectedRoute {
  readonly method: string
  readonly url: string
  readonly schema: Record<string, unknown> | undefined
  readonly deprecation?: RouteDeprecation
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  'POST /v1/events':
    'Ingest CloudEvents: structured (application/cloudevents+json), batch (application/cloudevents-batch+json) or binary (ce-* headers). 202 only after commit.',
  'POST /v1/ingress/{source}': 'Raw delivery of a configured webhook source, stored first, translated later.',
}

/**
 * Collects every route as it is registered, so the OpenAPI 3.1 document at /openapi.json is
 * generated from the same schemas fastify validates with and cannot drift from the routes.
 */
export function collectRoutes(app: FastifyInstance): CollectedRoute[] {
  const routes: CollectedRoute[] = []
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method]
    for (const m of methods) {
      if (m === 'HEAD' || r.url.startsWith('/ui') || r.url === '/') continue
      const deprecation = (r.config as { deprecation?: RouteDeprecation } | undefined)?.deprecation
      routes.push({
        method: m,
        url: r.url,
        schema: r.schema as Record<string, unknown> | undefined,
        ...(deprecation ? { deprecation } : {}),
      })
    }
  })
  return routes
}

const openapiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}')

export function openapiDocument(routes: readonly CollectedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = openapiPath(r.url)
    const params = [...r.url.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }))
    const qs =
      (r.schema?.querystring as { properties?: Record<string, unknown>; required?: string[] } | undefined) ??
      undefined
    for (const [name, schema] of Object.entries(qs?.properties ?? {})) {
      params.push({
        name,
        in: 'query',
        required: Boolean(qs?.required?.includes(name)),
        schema: schema as { type: string },
      })
    }
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: DESCRIPTIONS[`${r.method} ${path}`] ?? `${r.method} ${path}`,
      parameters: params,
      responses: {
        '2XX': { description: 'success' },
        default: {
          description: 'problem',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
    }
    if (r.deprecation) {
      // OpenAPI 3.1 `deprecated`; the dates as the answers' Deprecation and Sunset headers say them
      op.deprecated = true
      const d = r.deprecation
      op.description = [
        `Deprecated since ${d.since}.`,
        d.sunset ? `Stops answering on ${d.sunset}.` : '',
        d.successor ? `Use ${d.successor} instead.` : '',
      ]
        .filter(Boolean)
        .join(' ')
    }
    if (r.schema?.body)
      op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } }
    paths[path] = { ...(paths[path] ?? {}), [r.method.toLowerCase()]: op }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Qualink API',
      version,
      description: 'Errors are RFC 9457 problem+json with a stable `code`.',
    },
    paths,
    components: {
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', enum: Object.keys(ERRORS) },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key (see docs/operations.md)' },
      },
    },
  }
}

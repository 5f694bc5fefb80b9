import type { FastifyInstance, FastifyRequest } from 'fastify'
import { isTraceparent, startSpan, type TraceSpan } from '../observability/tracing.ts'
import { toProblem } from './problem.ts'

/** Routes that open a server span of their own (they continue an event's traceparent too). */
const OWN_SPAN = new Set(['POST /v1/events', 'POST /v1/ingress/:source'])

const traced = (route: string) => route.startsWith('/v1/') || route === '/ui' || route.startsWith('/ui/')

/**
 * A server span per request of every /v1 and /ui route: named and attributed by the route
 * template (`GET /v1/runs/:id`), never the raw URL, whose path and query carry ids and filters
 * (OTel HTTP semantic conventions: `{method} {http.route}`). The span continues an incoming W3C
 * `traceparent` header and is active while the hooks and the handler run, so the store calls
 * and egress calls a request makes are its children. Registered before authentication, so a
 * refused request is traced too.
 */
export function registerRouteSpans(app: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, { span: TraceSpan; failed: boolean }>()

  app.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url
    if (!route || !traced(route) || OWN_SPAN.has(`${req.method} ${route}`)) return done()
    const header = req.headers.traceparent
    const span = startSpan(`${req.method} ${route}`, {
      kind: 'server',
      parent: isTraceparent(header) ? header : null,
      attributes: { 'http.request.method': req.method, 'http.route': route },
    })
    spans.set(req, { span, failed: false })
    span.run(done)
  })
  // The body arrives on the socket's own async context: the handler is re-entered into the span.
  app.addHook('preHandler', (req, _reply, done) => {
    const s = spans.get(req)
    if (s) s.span.run(done)
    else done()
  })
  app.addHook('onError', (req, _reply, error, done) => {
    const s = spans.get(req)
    if (s) {
      // the status and QLK_ code the error handler will answer with; a 4xx is the caller's
      // mistake, named in error.type without an error status (OTel HTTP conventions, "Status")
      const p = toProblem(error)
      if (p.status >= 500) s.span.fail(error, p.code)
      else s.span.set({ 'error.type': p.code })
      s.failed = true
    }
    done()
  })
  app.addHook('onResponse', (req, reply, done) => {
    const s = spans.get(req)
    if (s) {
      spans.delete(req)
      s.span.set({ 'http.response.status_code': reply.statusCode })
      if (!s.failed && reply.statusCode >= 500) s.span.fail(new Error(`HTTP ${reply.statusCode}`))
      else if (!s.failed && reply.statusCode >= 400) s.span.set({ 'error.type': String(reply.statusCode) })
      s.span.end()
    }
    done()
  })
  app.addHook('onRequestAbort', (req, done) => {
    const s = spans.get(req)
    if (s) {
      spans.delete(req)
      s.span.set({ 'error.type': 'aborted' })
      s.span.end()
    }
    done()
  })
}

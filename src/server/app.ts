import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { QualinkError } from '../contracts/errors.ts'
import { registerUiRoutes } from '../ui/routes.ts'
import { hasRole, requiredRole } from './auth.ts'
import type { ServerContext } from './context.ts'
import { registerDeprecationHeaders } from './deprecation.ts'
import { collectRoutes, openapiDocument } from './openapi.ts'
import { problem, sendProblem, toProblem } from './problem.ts'
import { registerRouteSpans } from './route-spans.ts'
import { registerEdiRoutes } from './routes/edi.ts'
import { registerEventRoutes } from './routes/events.ts'
import { registerIngressRoutes } from './routes/ingress.ts'
import { registerKpiRoutes } from './routes/kpis.ts'
import { registerLotRoutes } from './routes/lots.ts'
import { registerMassReleaseRoutes } from './routes/mass-release.ts'
import { registerOperationRoutes } from './routes/operations.ts'
import { registerOpsRoutes } from './routes/ops.ts'
import { registerRunRoutes } from './routes/runs.ts'
import { registerSignatureRoutes } from './routes/signatures.ts'

export const BODY_LIMIT_BYTES = 1024 * 1024

export function buildApp(ctx: ServerContext): FastifyInstance {
  const app = Fastify({
    // HTTPS when server.tls is configured (server/tls.ts); plain HTTP otherwise
    ...(ctx.https ? { https: ctx.https } : {}),
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // A property a route's schema does not declare is refused (400 naming it), not silently
    // dropped: a caller who sends `printedName` or `approved` learns it is not theirs to set
    // (OWASP API3, mass assignment). Fastify's default is removeAdditional: true.
    ajv: { customOptions: { removeAdditional: false } },
    // The correlation id rides on every log line of the request.
    genReqId: (req) => {
      const given = req.headers['x-correlation-id']
      return typeof given === 'string' && /^[\w.:-]{1,200}$/.test(given) ? given : randomUUID()
    },
    logController: new LogController({ requestIdLogLabel: 'correlationId', disableRequestLogging: true }),
  })

  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err)
    if (p.status >= 500) req.log.error({ err }, p.detail)
    else req.log.info({ code: p.code, status: p.status }, p.detail)
    return sendProblem(reply, { ...p, instance: req.url })
  })
  // Server spans first, so authentication and everything after it run inside the request's span.
  registerRouteSpans(app)
  // Authentication and function-level authorization before any handler runs (OWASP API2, API5).
  app.addHook('onRequest', async (req, reply) => {
    if (!ctx.authenticator.enabled) return
    const route = req.routeOptions.url ?? req.url.split('?')[0]!
    const need = requiredRole(req.method, route)
    if (need === 'public' || need === 'signed') return
    // A dashboard session cookie counts on /ui routes only; polling partials do not keep it alive.
    const who = await ctx.authenticator.authenticate(req.headers, {
      dashboard: route === '/ui' || route.startsWith('/ui/'),
      touch: !route.startsWith('/ui/partials/'),
    })
    if (!hasRole(who, need)) {
      throw new QualinkError(
        'QLK_FORBIDDEN',
        `${need} role required for ${req.method} ${req.routeOptions.url ?? req.url}`,
        [
          {
            path: '/headers/authorization',
            message: `the ${who.via === 'session' ? 'user' : 'key'} ${who.id} lacks the ${need} role`,
          },
        ],
      )
    }
    // Per-caller limits after authentication, so a key cannot spend another's (OWASP API4): API
    // keys and token subjects on /v1, dashboard users on /ui (webhook sources: routes/ingress.ts).
    if (ctx.apiLimiter && (route.startsWith('/v1/') || route === '/ui' || route.startsWith('/ui/'))) {
      await ctx.apiLimiter.admit(who, reply)
    }
  })

  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, problem('QLK_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)),
  )

  const routes = collectRoutes(app)
  registerDeprecationHeaders(app)
  const openapi = () => openapiDocument(routes, '1')
  app.get('/openapi.json', async () => openapi())
  registerEventRoutes(app, ctx)
  registerOpsRoutes(app, ctx)
  registerRunRoutes(app, ctx)
  registerSignatureRoutes(app, ctx, ctx.signatures)
  registerIngressRoutes(app, ctx, ctx.ingress.sources, ctx.ingress.onStored)
  registerLotRoutes(app, ctx, ctx.catchUpProjections)
  registerMassReleaseRoutes(app, ctx)
  registerKpiRoutes(app, ctx)
  registerEdiRoutes(app, ctx)
  registerOperationRoutes(app, ctx)
  registerUiRoutes(app, ctx, openapi)
  return app
}

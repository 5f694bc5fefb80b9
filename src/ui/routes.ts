import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import formbody from '@fastify/formbody'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { assetPath } from '../assets.ts'
import { isQualinkError, QualinkError } from '../contracts/errors.ts'
import type { ServerContext } from '../server/context.ts'
import { getOperation } from '../store/operations.ts'
import { CHANGED_EVENT, registerUiActions } from './actions.ts'
import { registerBulkReplayActions } from './bulk-replay-actions.ts'
import { field, isHtmx } from './format.ts'
import { type Html, html, page } from './html.ts'
import { registerMassReleaseActions } from './mass-release-actions.ts'
import { apiDocsPage } from './pages/api-docs.ts'
import { auditPage } from './pages/audit.ts'
import { connectorsPage } from './pages/connectors.ts'
import { deadLetterPage } from './pages/dead-letter.ts'
import { driftPage } from './pages/drift.ts'
import { eventsPage } from './pages/events.ts'
import { deadLetterTable, exceptionsFilterOf, exceptionsPage, openDeadLetters } from './pages/exceptions.ts'
import { kpisPage } from './pages/kpis.ts'
import { registerLoginRoutes, sendToLogin, signedInAs } from './pages/login.ts'
import { lotDetailPage } from './pages/lot-detail.ts'
import { registerLotDownloads } from './pages/lot-downloads.ts'
import { lotHref, lotsPage, recentLots } from './pages/lots.ts'
import { massReleaseFilterOf, massReleasePage } from './pages/mass-release.ts'
import { isFinished, operationProgress } from './pages/operation-progress.ts'
import { overviewCards, overviewPage } from './pages/overview.ts'
import { runDetailPage } from './pages/run-detail.ts'
import { runsPage } from './pages/runs.ts'
import { suppliersPage } from './pages/suppliers.ts'
import { addSecurityHeaders } from './security-headers.ts'

const require = createRequire(import.meta.url)
const HTMX = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'))
const CSS = readFileSync(assetPath('src', 'ui', 'style.css'))
const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d2430"/><path d="M4 8.5l2.5 2.5L12 5" stroke="#4da3ff" stroke-width="2" fill="none"/></svg>'

type Q = Record<string, unknown>

function sendPage(reply: FastifyReply, title: string, active: string, body: Html): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .send(page(title, active, body, { user: signedInAs(reply.request) }))
}

/** Pages answer errors in HTML: a full page, or for htmx a message in the page's flash slot. */
function uiErrorHandler(ctx: ServerContext) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const known = isQualinkError(err)
    if (known && err.code === 'QLK_UNAUTHENTICATED' && sendToLogin(ctx, req, reply)) return reply
    const status = known ? err.status : (err.statusCode ?? 500)
    const message = known || status < 500 ? err.message : 'An internal error occurred; it has been logged.'
    if (status >= 500) ctx.logger.error({ err }, 'dashboard request failed')
    reply.code(status).type('text/html; charset=utf-8')
    if (isHtmx(req.headers)) {
      return reply
        .header('hx-retarget', '#flash')
        .header('hx-reswap', 'innerHTML')
        .send(html`<p class="error">${message}</p>`.value)
    }
    return reply.send(
      page(
        status === 404 ? 'Not found' : 'Error',
        '',
        html`<p class="error">${message}</p><p><a href="/ui">Back to the overview</a></p>`,
      ),
    )
  }
}

/**
 * The operations dashboard: server-rendered HTML, htmx for refresh and actions, no build step.
 * Encapsulated so its form-body parser, error pages and security headers stay off the API.
 */
export function registerUiRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  openapi: () => Record<string, unknown>,
): void {
  app.register(async (ui) => {
    await ui.register(formbody)
    ui.addHook('onRequest', addSecurityHeaders)
    ui.setErrorHandler(uiErrorHandler(ctx))

    ui.get('/ui/htmx.min.js', async (_req, reply) =>
      reply.type('application/javascript').header('cache-control', 'max-age=86400').send(HTMX),
    )
    ui.get('/ui/style.css', async (_req, reply) => reply.type('text/css').send(CSS))
    ui.get('/ui/favicon.svg', async (_req, reply) => reply.type('image/svg+xml').send(ICON))

    ui.get('/', async (req, reply) =>
      sendPage(reply, 'Overview', '/ui', await overviewPage(ctx, req.headers)),
    )
    ui.get('/ui', async (req, reply) =>
      sendPage(reply, 'Overview', '/ui', await overviewPage(ctx, req.headers)),
    )
    ui.get('/ui/partials/overview', async (req, reply) =>
      reply.type('text/html; charset=utf-8').send((await overviewCards(ctx, req.headers)).value),
    )
    ui.get<{ Querystring: { type?: string; subject?: string } }>('/ui/events', async (req, reply) =>
      sendPage(reply, 'Events', '/ui/events', await eventsPage(ctx, req.headers, req.query)),
    )
    ui.get('/ui/audit', async (_req, reply) =>
      sendPage(reply, 'Audit trail', '/ui/audit', await auditPage(ctx)),
    )
    ui.get('/ui/api', async (_req, reply) =>
      sendPage(reply, 'API', '/ui/api', apiDocsPage(openapi() as Parameters<typeof apiDocsPage>[0])),
    )

    ui.get<{ Querystring: Q }>('/ui/exceptions', async (req, reply) => {
      const f = exceptionsFilterOf(req.query)
      return sendPage(reply, 'Exceptions', '/ui/exceptions', await exceptionsPage(ctx, req.headers, f))
    })
    ui.get<{ Querystring: Q }>('/ui/partials/exceptions', async (req, reply) => {
      const f = exceptionsFilterOf(req.query)
      const list = await openDeadLetters(ctx, req.headers, f)
      return reply.type('text/html; charset=utf-8').send(deadLetterTable(list, Date.now()).value)
    })
    ui.get<{ Params: { id: string } }>('/ui/exceptions/:id', async (req, reply) =>
      sendPage(
        reply,
        `Dead letter ${req.params.id}`,
        '/ui/exceptions',
        await deadLetterPage(ctx, req.headers, req.params.id),
      ),
    )
    ui.get<{ Querystring: Q }>('/ui/runs', async (req, reply) => {
      const f = {
        workflow: field(req.query.workflow, 64),
        status: field(req.query.status, 16),
        key: field(req.query.key, 500),
      }
      return sendPage(reply, 'Workflows', '/ui/runs', await runsPage(ctx, req.headers, f))
    })
    ui.get<{ Params: { id: string } }>('/ui/runs/:id', async (req, reply) =>
      sendPage(reply, 'Workflow run', '/ui/runs', await runDetailPage(ctx, req.headers, req.params.id)),
    )
    ui.get<{ Querystring: Q }>('/ui/lots', async (req, reply) => {
      const search = field(req.query.lot, 200)
      // An exact id goes straight to the lot; anything else lists the lots containing it.
      if (search) {
        const found = await recentLots(ctx, req.headers, search)
        if (found.some((l) => l.lot === search)) return reply.redirect(lotHref(search), 303)
      }
      return sendPage(reply, 'Lots', '/ui/lots', await lotsPage(ctx, req.headers, search))
    })
    ui.get<{ Params: { id: string } }>('/ui/lots/:id', async (req, reply) =>
      sendPage(
        reply,
        `Lot ${req.params.id}`,
        '/ui/lots',
        await lotDetailPage(ctx, req.headers, req.params.id),
      ),
    )
    ui.get<{ Querystring: Q }>('/ui/mass-release', async (req, reply) =>
      sendPage(
        reply,
        'Mass release',
        '/ui/mass-release',
        await massReleasePage(ctx, req.headers, massReleaseFilterOf(req.query)),
      ),
    )
    ui.get('/ui/connectors', async (_req, reply) =>
      sendPage(reply, 'Connectors', '/ui/connectors', connectorsPage(ctx)),
    )
    ui.get<{ Querystring: Q }>('/ui/kpis', async (req, reply) => {
      const opt = (v: string) => v || undefined
      const f = {
        plant: opt(field(req.query.plant, 64)),
        from: opt(field(req.query.from, 10)),
        to: opt(field(req.query.to, 10)),
      }
      return sendPage(reply, 'Outcome KPIs', '/ui/kpis', await kpisPage(ctx, req.headers, f))
    })
    ui.get('/ui/drift', async (req, reply) =>
      sendPage(reply, 'Drift', '/ui/drift', await driftPage(ctx, req.headers)),
    )
    ui.get('/ui/suppliers', async (req, reply) => {
      await ctx.catchUpProjections()
      return sendPage(reply, 'Suppliers', '/ui/suppliers', await suppliersPage(ctx, req.headers))
    })
    ui.get<{ Params: { id: string } }>('/ui/partials/operations/:id', async (req, reply) => {
      const op = await getOperation(ctx.store, ctx.scopeOf(req.headers), req.params.id)
      if (!op) throw new QualinkError('QLK_NOT_FOUND', `operation ${req.params.id} not found`)
      // a finished bulk replay refreshes the dead-letter table under it
      if (op.kind === 'bulk-replay' && isFinished(op)) reply.header('hx-trigger', CHANGED_EVENT)
      return reply.type('text/html; charset=utf-8').send(operationProgress(op).value)
    })
    registerLotDownloads(ui, ctx)
    registerUiActions(ui, ctx)
    registerBulkReplayActions(ui, ctx)
    registerMassReleaseActions(ui, ctx)
    registerLoginRoutes(ui, ctx)
  })
}

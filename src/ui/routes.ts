import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { FastifyInstance } from 'fastify'
import type { ServerContext } from '../server/context.ts'
import { page } from './html.ts'
import { auditPage } from './pages/audit.ts'
import { eventsPage } from './pages/events.ts'
import { overviewCards, overviewPage } from './pages/overview.ts'

const require = createRequire(import.meta.url)
const HTMX = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'))
const CSS = readFileSync(new URL('./style.css', import.meta.url))

/** The operations dashboard: server-rendered HTML, htmx for refresh, no build step. */
export function registerUiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/ui/htmx.min.js', async (_req, reply) =>
    reply.type('application/javascript').header('cache-control', 'max-age=86400').send(HTMX),
  )
  app.get('/ui/style.css', async (_req, reply) => reply.type('text/css').send(CSS))
  app.get('/', async (req, reply) =>
    reply.type('text/html').send(page('Overview', '/', await overviewPage(ctx, req.headers))),
  )
  app.get('/ui/partials/overview', async (req, reply) =>
    reply.type('text/html').send((await overviewCards(ctx, req.headers)).value),
  )
  app.get<{ Querystring: { type?: string; subject?: string } }>('/ui/events', async (req, reply) =>
    reply.type('text/html').send(page('Events', '/ui/events', await eventsPage(ctx, req.headers, req.query))),
  )
  app.get('/ui/audit', async (_req, reply) =>
    reply.type('text/html').send(page('Audit trail', '/ui/audit', await auditPage(ctx))),
  )
}

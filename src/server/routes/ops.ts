import type { FastifyInstance } from 'fastify'
import { verifyAudit } from '../../audit/verify.ts'
import type { ServerContext } from '../context.ts'

export function registerOpsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_req, reply) => {
    if (ctx.isShuttingDown()) return reply.code(503).send({ status: 'shutting-down' })
    try {
      await ctx.store.now()
      return { status: 'ready', dialect: ctx.store.dialect, writeQueueDepth: ctx.queue.depth }
    } catch (e) {
      return reply.code(503).send({ status: 'store-unreachable', detail: (e as Error).message })
    }
  })

  app.get('/metrics', async (_req, reply) => {
    reply.type(ctx.metrics.registry.contentType)
    return ctx.metrics.registry.metrics()
  })

  app.get('/v1/audit/verify', async () => verifyAudit(ctx.store, ctx.anchors))
}

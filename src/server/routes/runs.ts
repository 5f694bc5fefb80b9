import type { FastifyInstance } from 'fastify'
import { QualinkError } from '../../contracts/errors.ts'
import { matchingDeadLetters, normalFilter } from '../../signatures/records.ts'
import { connectorFilter, getDeadLetter, NO_CONNECTOR } from '../../store/dead-letters.ts'
import type { DeadLetter, RunStatus } from '../../store/engine-types.ts'
import type { ServerContext } from '../context.ts'

const RUN_STATUSES = ['pending', 'waiting', 'completed', 'failed', 'dead', 'cancelled']
const DL_STATUSES = ['open', 'replayed', 'discarded']
const limitSchema = { type: 'integer', minimum: 1, maximum: 1000, default: 100 }

/** Runs with their journals and waits; dead letters with replay (single, bulk, dry run) and discard. */
export function registerRunRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const engine = ctx.store.engine

  app.get<{ Querystring: { workflow?: string; status?: RunStatus; key?: string; limit: number } }>(
    '/v1/runs',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            workflow: { type: 'string', maxLength: 64 },
            status: { type: 'string', enum: RUN_STATUSES },
            key: { type: 'string', maxLength: 500 },
            limit: limitSchema,
          },
        },
      },
    },
    async (req) => ({ runs: await engine.listRuns(ctx.scopeOf(req.headers), req.query) }),
  )

  app.get<{ Params: { id: string } }>('/v1/runs/:id', async (req) => {
    const r = await engine.loadRun(ctx.scopeOf(req.headers), req.params.id)
    if (!r) throw new QualinkError('QLK_NOT_FOUND', `run ${req.params.id} not found`)
    return { ...r.run, journal: r.journal, waits: r.waits }
  })

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/v1/runs/:id/cancel',
    {
      schema: {
        body: {
          type: 'object',
          required: ['reason'],
          additionalProperties: false,
          properties: { reason: { type: 'string', minLength: 3, maxLength: 500 } },
        },
      },
    },
    async (req, reply) => {
      const run = await engine.requestCancel(ctx.scopeOf(req.headers), req.params.id, req.body.reason, {
        actor: ctx.actorOf(req.headers, 'api'),
        action: 'workflow.cancel_requested',
        subject: req.params.id,
        correlationId: null,
        payload: { runId: req.params.id, reason: req.body.reason },
      })
      if (!run) throw new QualinkError('QLK_NOT_FOUND', `no active run ${req.params.id}`)
      ctx.wakeEngine()
      return reply.code(202).send(run)
    },
  )

  app.get<{
    Querystring: {
      workflow?: string
      errorCode?: string
      status?: DeadLetter['status']
      connector?: string
      limit: number
    }
  }>(
    '/v1/dead-letters',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            workflow: { type: 'string', maxLength: 64 },
            errorCode: { type: 'string', maxLength: 64 },
            status: { type: 'string', enum: DL_STATUSES },
            connector: {
              type: 'string',
              maxLength: 64,
              description: `the connector instance whose call failed; ${NO_CONNECTOR} for failures no connector caused`,
            },
            limit: limitSchema,
          },
        },
      },
    },
    async (req) => ({
      deadLetters: await engine.listDeadLetters(ctx.scopeOf(req.headers), {
        ...req.query,
        connector: connectorFilter(req.query.connector),
      }),
    }),
  )

  const replayOne = async (headers: Record<string, string | string[] | undefined>, dl: DeadLetter) =>
    engine.replayDeadLetter(ctx.scopeOf(headers), dl.id, 0, {
      actor: ctx.actorOf(headers, 'api'),
      action: 'dead_letter.replayed',
      subject: dl.key,
      correlationId: null,
      payload: { deadLetterId: dl.id, runId: dl.runId, errorCode: dl.errorCode },
    })

  app.post<{ Params: { id: string } }>('/v1/dead-letters/:id/replay', async (req, reply) => {
    const dl = await getDeadLetter(ctx.store, ctx.scopeOf(req.headers), Number(req.params.id))
    const replayed = dl?.status === 'open' ? await replayOne(req.headers, dl) : undefined
    if (!replayed) throw new QualinkError('QLK_NOT_FOUND', `no open dead letter ${req.params.id}`)
    ctx.wakeEngine()
    return reply.code(202).send(replayed)
  })

  app.post<{
    Body: { workflow?: string; errorCode?: string; connector?: string; dryRun?: boolean; max?: number }
  }>(
    '/v1/dead-letters/replay',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            workflow: { type: 'string', maxLength: 64 },
            errorCode: { type: 'string', maxLength: 64 },
            connector: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description: `the connector instance whose call failed; ${NO_CONNECTOR} for failures no connector caused`,
            },
            dryRun: { type: 'boolean', default: false },
            max: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 },
          },
        },
      },
    },
    async (req, reply) => {
      // The preview, the signed version and the replay select with one filter (the dashboard's).
      const filter = normalFilter(req.body)
      const matching = await matchingDeadLetters(ctx.store, ctx.scopeOf(req.headers), filter)
      if (req.body.dryRun) return { dryRun: true, wouldReplay: matching }
      // Two-person rule (when configured): the exact set must carry two approvers' signatures.
      await ctx.signatures.requireForBulkReplay(ctx.scopeOf(req.headers), filter, matching)
      const replayed: DeadLetter[] = []
      const refused: Array<{ id: number; code: string; detail: string }> = []
      for (const dl of matching) {
        try {
          const r = await replayOne(req.headers, dl)
          if (r) replayed.push(r)
        } catch (e) {
          if (!(e instanceof QualinkError)) throw e
          refused.push({ id: dl.id, code: e.code, detail: e.message })
        }
      }
      ctx.wakeEngine()
      return reply.code(202).send({ dryRun: false, replayed, refused })
    },
  )

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/v1/dead-letters/:id/discard',
    {
      schema: {
        body: {
          type: 'object',
          required: ['reason'],
          additionalProperties: false,
          properties: { reason: { type: 'string', minLength: 3, maxLength: 500 } },
        },
      },
    },
    async (req) => {
      const id = Number(req.params.id)
      const dl = Number.isSafeInteger(id)
        ? await engine.discardDeadLetter(ctx.scopeOf(req.headers), id, req.body.reason, {
            actor: ctx.actorOf(req.headers, 'api'),
            action: 'dead_letter.discarded',
            subject: req.params.id,
            correlationId: null,
            payload: { deadLetterId: id, reason: req.body.reason },
          })
        : undefined
      if (!dl) throw new QualinkError('QLK_NOT_FOUND', `no open dead letter ${req.params.id}`)
      ctx.wakeEngine()
      return dl
    },
  )
}

import type { FastifyInstance } from 'fastify'
import { QualinkError } from '../../contracts/errors.ts'
import { matchingDeadLetters, normalFilter } from '../../signatures/records.ts'
import { connectorFilter, getDeadLetter, NO_CONNECTOR, replayDeadLetterAs } from '../../store/dead-letters.ts'
import type { DeadLetter, RunStatus } from '../../store/engine-types.ts'
import { getOperation } from '../../store/operations.ts'
import { startBulkReplay } from '../bulk-replay-run.ts'
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
    replayDeadLetterAs(ctx.store, ctx.scopeOf(headers), ctx.actorOf(headers, 'api'), dl)

  app.post<{ Params: { id: string } }>('/v1/dead-letters/:id/replay', async (req, reply) => {
    const dl = await getDeadLetter(ctx.store, ctx.scopeOf(req.headers), Number(req.params.id))
    const replayed = dl?.status === 'open' ? await replayOne(req.headers, dl) : undefined
    if (!replayed) throw new QualinkError('QLK_NOT_FOUND', `no open dead letter ${req.params.id}`)
    ctx.wakeEngine()
    return reply.code(202).send(replayed)
  })

  app.post<{
    Body: { workflow?: string; errorCode?: string; connector?: string; dryRun?: boolean; max?: number }
    Querystring: { wait: boolean }
  }>(
    '/v1/dead-letters/replay',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            wait: {
              type: 'boolean',
              default: false,
              description:
                'true: answer when every dead letter is replayed, with the replayed and refused lists (the behaviour before operations); false: answer at once with the operation to poll',
            },
          },
        },
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
      const scope = ctx.scopeOf(req.headers)
      const matching = await matchingDeadLetters(ctx.store, scope, filter)
      if (req.body.dryRun) return { dryRun: true, wouldReplay: matching }
      // Two-person rule (when configured): the exact set must carry two approvers' signatures.
      await ctx.signatures.requireForBulkReplay(scope, filter, matching)
      const { operation, finished } = await startBulkReplay(ctx, {
        scope,
        actor: ctx.actorOf(req.headers, 'api'),
        items: matching.map((dl) => ({ id: dl.id, dl })),
      })
      reply.code(202).header('location', `/v1/operations/${operation.id}`)
      if (!req.query.wait) return reply.send({ dryRun: false, operation })
      const outcome = await finished
      if (outcome instanceof Error) throw outcome
      const refused = outcome.refused.map(({ id, code, detail }) => ({ id, code, detail }))
      const op = await getOperation(ctx.store, scope, operation.id)
      return reply.send({ dryRun: false, replayed: outcome.replayed, refused, operation: op })
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

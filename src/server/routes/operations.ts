import type { FastifyInstance } from 'fastify'
import { QualinkError } from '../../contracts/errors.ts'
import { activeOperation, createOperation, getOperation, type Operation } from '../../store/operations.ts'
import type { Scope } from '../../store/types.ts'
import type { ServerContext } from '../context.ts'

/**
 * Asks for a reconciliation pass now. Any API process may take the request: it is stored as a
 * pending operation that the process holding the reconciliation lease claims within a second
 * (server/qualink.ts). A pass already pending or running that the caller can see is answered
 * instead of queueing a second one.
 */
export async function requestReconciliation(
  ctx: ServerContext,
  scope: Scope,
  actor: string,
): Promise<{ operation: Operation; created: boolean }> {
  if (!ctx.reconcileConfigured)
    throw new QualinkError(
      'QLK_RECONCILIATION_OFF',
      'reconciliation is not configured here: it needs an ERP connector and a top-level reconciliation interval in qualink.yaml',
    )
  const active = await activeOperation(ctx.store, scope, 'reconciliation')
  if (active) return { operation: active, created: false }
  const operation = await createOperation(ctx.store, {
    kind: 'reconciliation',
    scope,
    actor,
    total: null,
    status: 'pending',
  })
  await ctx.store.appendAudit([
    {
      actor,
      action: 'reconciliation.requested',
      subject: operation.id,
      correlationId: null,
      payload: { operationId: operation.id },
      // the pass covers every plant
      plant: '*',
    },
  ])
  return { operation, created: true }
}

/** Long operations' progress, and the request for a reconciliation pass. */
export function registerOperationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { id: string } }>('/v1/operations/:id', async (req) => {
    const op = await getOperation(ctx.store, ctx.scopeOf(req.headers), req.params.id)
    if (!op) throw new QualinkError('QLK_NOT_FOUND', `operation ${req.params.id} not found`)
    return op
  })

  app.post('/v1/drift/reconcile', async (req, reply) => {
    const { operation, created } = await requestReconciliation(
      ctx,
      ctx.scopeOf(req.headers),
      ctx.actorOf(req.headers, 'api'),
    )
    return reply
      .code(created ? 202 : 200)
      .header('location', `/v1/operations/${operation.id}`)
      .send(operation)
  })
}

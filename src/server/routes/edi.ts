import type { FastifyInstance } from 'fastify'
import { EDI_OUTBOUND_STATUSES, type EdiOutboundStatus, listEdiOutbound } from '../../store/edi-outbound.ts'
import type { ServerContext } from '../context.ts'

/**
 * GET /v1/edi/outbound: the X12 groups Qualink sent its trading partners (861s) and where each
 * stands with the partner's 997: pending, overdue (no 997 past the connector's
 * acknowledgments.overdueAfter), accepted, partial or rejected (docs/connectors.md).
 */
export function registerEdiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: { status?: EdiOutboundStatus; partner?: string; limit?: number } }>(
    '/v1/edi/outbound',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: [...EDI_OUTBOUND_STATUSES] },
            partner: { type: 'string', minLength: 1, maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
    },
    async (req) => ({
      interchanges: await listEdiOutbound(ctx.store.sql, ctx.scopeOf(req.headers), {
        ...req.query,
        // overdue is judged on the database's clock, like every due time
        nowMs: await ctx.store.now(),
        limit: req.query.limit ?? 100,
      }),
    }),
  )
}

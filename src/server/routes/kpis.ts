import type { FastifyInstance } from 'fastify'
import { aggregateKpis, dayRange, type KpiReport } from '../../observability/kpis.ts'
import { kpiSamples } from '../../observability/kpis-queries.ts'
import type { Scope, Store } from '../../store/types.ts'
import type { ServerContext } from '../context.ts'

const DAY = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'

/** The KPI report for a caller's scope; also what the dashboard's KPI page draws. */
export async function kpiReport(
  store: Store,
  scope: Scope,
  q: { plant?: string; from?: string; to?: string },
): Promise<KpiReport> {
  // Days are the database's: a worker's clock never decides which day is "today".
  const range = dayRange(await store.now(), q.from, q.to)
  const s = await kpiSamples(store.sql, { fromMs: range.fromMs, toMs: range.toMs, plant: q.plant })
  return aggregateKpis(range, scope, s.durations, s.counts, q.plant)
}

/**
 * GET /v1/kpis: outcome KPIs per plant and UTC day (docs/operations.md). Plants outside the
 * caller's scope are counted in `outOfScope`, never shown.
 */
export function registerKpiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: { plant?: string; from?: string; to?: string } }>(
    '/v1/kpis',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            plant: { type: 'string', minLength: 1, maxLength: 64 },
            from: { type: 'string', pattern: DAY },
            to: { type: 'string', pattern: DAY },
          },
        },
      },
    },
    async (req) => kpiReport(ctx.store, ctx.scopeOf(req.headers), req.query),
  )
}

import type { FastifyInstance, FastifyRequest } from 'fastify'
import { buildEvidence } from '../../audit/evidence.ts'
import { QualinkError } from '../../contracts/errors.ts'
import {
  DRIFT_KINDS,
  DRIFT_STATUSES,
  type DriftKind,
  type DriftStatus,
  queryDrift,
} from '../../projections/drift-store.ts'
import { exportLotIsa95 } from '../../projections/isa95-export.ts'
import { lotStatus } from '../../projections/lot-status.ts'
import { supplierScorecard } from '../../projections/supplier-scorecard.ts'
import { recallCsv, recallScope, trace } from '../../projections/trace.ts'
import type { Scope } from '../../store/types.ts'
import type { ServerContext } from '../context.ts'

/**
 * Lots: status across systems, genealogy trace, recall scope, evidence bundle; suppliers'
 * scorecards. Another plant's lot or supplier answers 404.
 */
export function registerLotRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  catchUp: () => Promise<unknown>,
): void {
  const notFound = (lot: string) => new QualinkError('QLK_NOT_FOUND', `lot ${lot} not found`)
  const auditPlaintext = (
    req: FastifyRequest<{ Params: { id: string } }>,
    scope: Scope,
    what: 'evidence' | 'isa95',
    extra: Record<string, unknown> = {},
    fallbackPlant?: string,
  ) =>
    auditPlaintextExport(ctx, {
      lot: req.params.id,
      scope,
      actor: ctx.actorOf(req.headers, 'api'),
      correlationId: req.id,
      what,
      extra,
      fallbackPlant,
    })

  /**
   * A batch keeps its number when it moves to another plant, where it is another lot keyed
   * `B1@P200`. `GET /v1/lots/B1` answers the one lot the caller's plants hold under that batch (in
   * P200, `B1@P200`); when several of its plants do, 409 QLK_LOT_AMBIGUOUS lists each plant's lot
   * and the caller names one with `?plant=` (or asks for the key itself).
   */
  app.get<{ Params: { id: string }; Querystring: { plant?: string } }>(
    '/v1/lots/:id',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { plant: { type: 'string', minLength: 1, maxLength: 64 } },
        },
      },
    },
    async (req) => {
      await catchUp()
      const id = req.params.id
      const plant = req.query.plant
      const found = (await ctx.store.genealogy.findLots(ctx.scopeOf(req.headers), id)).filter(
        (l) => plant === undefined || l.plant === plant,
      )
      if (found.length === 0) throw notFound(plant === undefined ? id : `${id} in plant ${plant}`)
      if (found.length > 1)
        throw new QualinkError(
          'QLK_LOT_AMBIGUOUS',
          `batch ${id} is a lot in ${found.length} of your plants (${found.map((l) => `${l.plant}: ${l.lot}`).join(', ')}); add ?plant= or ask for the lot's key`,
          found.map((l) => ({
            path: '/query/plant',
            message: `plant ${l.plant}: lot ${l.lot} (GET /v1/lots/${encodeURIComponent(l.lot)})`,
          })),
        )
      return found[0]
    },
  )

  app.get<{ Params: { id: string } }>('/v1/lots/:id/status', async (req) => {
    await catchUp()
    const status = await lotStatus(ctx.store, ctx.scopeOf(req.headers), req.params.id)
    if (!status) throw notFound(req.params.id)
    return status
  })

  app.get<{ Params: { id: string } }>('/v1/suppliers/:id/scorecard', async (req) => {
    await catchUp()
    const card = await supplierScorecard(ctx.store, ctx.scopeOf(req.headers), req.params.id, ctx.capaPolicy)
    if (!card) throw new QualinkError('QLK_NOT_FOUND', `supplier ${req.params.id} not found`)
    return card
  })

  app.get<{
    Params: { id: string }
    Querystring: {
      direction: 'forward' | 'backward'
      depth: number
      limit: number
      cursor?: string
      exactCounts: boolean
    }
  }>(
    '/v1/lots/:id/trace',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            direction: { type: 'string', enum: ['forward', 'backward'], default: 'backward' },
            depth: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 },
            cursor: { type: 'string', pattern: '^[0-9]{1,9}$' },
            /** true: total and outOfScope exact (walks the whole graph); false: lower bounds */
            exactCounts: { type: 'boolean', default: false },
          },
        },
      },
    },
    async (req) => {
      await catchUp()
      const q = req.query
      const r = await trace(ctx.store, ctx.scopeOf(req.headers), req.params.id, {
        direction: q.direction,
        depth: q.depth,
        limit: q.limit,
        cursor: q.cursor === undefined ? 0 : Number(q.cursor),
        exactCounts: q.exactCounts,
      })
      if (!r) throw notFound(req.params.id)
      return r
    },
  )

  app.get<{ Params: { id: string }; Querystring: { format?: 'json' | 'csv' } }>(
    '/v1/lots/:id/recall',
    async (req, reply) => {
      await catchUp()
      const r = await recallScope(ctx.store, ctx.scopeOf(req.headers), req.params.id)
      if (!r) throw notFound(req.params.id)
      if (req.query.format === 'csv') return reply.type('text/csv').send(recallCsv(r))
      return r
    },
  )

  app.get<{ Params: { id: string }; Querystring: { format?: 'xml' | 'json' } }>(
    '/v1/lots/:id/isa95',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { format: { type: 'string', enum: ['xml', 'json'], default: 'xml' } },
        },
      },
    },
    async (req, reply) => {
      await catchUp()
      const format = req.query.format ?? 'xml'
      const scope = ctx.scopeOf(req.headers)
      const doc = await exportLotIsa95(ctx.store, scope, req.params.id, format)
      if (doc === undefined) throw notFound(req.params.id)
      // B2MML has no place for a ciphertext: the export is decrypted, so with encryption
      // configured the read is on record like a plaintext evidence export
      if (ctx.store.decryptAtRest) await auditPlaintext(req, scope, 'isa95')
      return reply.type(format === 'xml' ? 'application/xml' : 'application/json').send(doc)
    },
  )

  app.get<{
    Querystring: {
      status?: DriftStatus
      plant?: string
      kind?: DriftKind
      minAgeSeconds?: number
      limit: number
      cursor?: number
    }
  }>(
    '/v1/drift',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: [...DRIFT_STATUSES] },
            plant: { type: 'string', minLength: 1, maxLength: 64 },
            kind: { type: 'string', enum: [...DRIFT_KINDS] },
            minAgeSeconds: {
              type: 'integer',
              minimum: 0,
              description: 'only drift open (or that was open) at least this long',
            },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            cursor: { type: 'integer', minimum: 0, description: "the previous page's nextCursor" },
          },
        },
      },
    },
    async (req) => {
      const q = req.query
      return queryDrift(ctx.store, ctx.scopeOf(req.headers), {
        status: q.status,
        plant: q.plant,
        kind: q.kind,
        minAgeMs: q.minAgeSeconds === undefined ? undefined : q.minAgeSeconds * 1000,
        limit: q.limit,
        cursor: q.cursor,
      })
    },
  )

  /**
   * `?sealed=true`: marked fields as their stored envelopes, for a file kept at rest. Otherwise
   * decrypted for the caller; with encryption configured that read is audited
   * (`evidence.exported_plaintext`, subject the lot) so who took the plaintext out is on record.
   */
  app.get<{ Params: { id: string }; Querystring: { sealed: boolean } }>(
    '/v1/lots/:id/evidence',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { sealed: { type: 'boolean', default: false } },
        },
      },
    },
    async (req) => {
      await catchUp()
      const scope = ctx.scopeOf(req.headers)
      const sealed = req.query.sealed
      const b = await buildEvidence(ctx.store, ctx.anchors, scope, req.params.id, { sealed })
      if (!b) throw notFound(req.params.id)
      if (!sealed && ctx.store.decryptAtRest)
        await auditPlaintext(req, scope, 'evidence', { digest: b.digest }, b.events[0]?.plant)
      return b
    },
  )
}

/** A lot's export handed out with its marked fields decrypted: on record, by whom (subject: the lot). */
export async function auditPlaintextExport(
  ctx: ServerContext,
  o: {
    readonly lot: string
    readonly scope: Scope
    readonly actor: string
    readonly correlationId: string
    readonly what: 'evidence' | 'isa95'
    readonly extra?: Record<string, unknown>
    readonly fallbackPlant?: string
  },
): Promise<void> {
  const node = await ctx.store.genealogy.getLot(o.scope, o.lot)
  await ctx.store.appendAudit([
    {
      plant: node?.plant ?? o.fallbackPlant ?? '*',
      actor: o.actor,
      action: `${o.what}.exported_plaintext`,
      subject: o.lot,
      correlationId: o.correlationId,
      payload: { lot: o.lot, form: 'plaintext', ...o.extra },
    },
  ])
}

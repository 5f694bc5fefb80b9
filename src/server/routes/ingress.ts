import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { verifyFrappeSignature, verifyWebhookSignature } from '../../connectors/ingress/webhook-signature.ts'
import {
  DEFAULT_DELIVERY_ID_HEADER,
  DEFAULT_SIGNATURE_HEADER,
  FRAPPE_SIGNATURE_HEADER,
  UNSTORED_HEADERS,
  type WebhookSource,
} from '../../connectors/ingress/webhook-source.ts'
import { QualinkError } from '../../contracts/errors.ts'
import { generateSchemas } from '../../contracts/schemas-gen.ts'
import type { XrefRow } from '../../mapping/xref.ts'
import { formatXrefCsv, parseXrefCsv } from '../../mapping/xref-csv.ts'
import { isTraceparent, recordServerError, startSpan, type TraceSpan } from '../../observability/tracing.ts'
import type { ServerContext } from '../context.ts'

/**
 * Raw ingress (store first, translate later), identity mapping, raw delivery inspection, and
 * the published event schemas.
 */
export function registerIngressRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  sources: readonly WebhookSource[],
  onStored: () => void,
): void {
  const byName = new Map(sources.map((s) => [s.name, s]))

  app.register(async (raw) => {
    // Raw bytes for every content type: the signature covers exactly what was sent.
    raw.removeAllContentTypeParsers()
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    const storeDelivery = async (
      req: FastifyRequest<{ Params: { source: string } }>,
      reply: FastifyReply,
      span: TraceSpan,
    ) => {
      const src = byName.get(req.params.source)
      if (!src)
        throw new QualinkError('QLK_UNKNOWN_SOURCE', `no ingress source '${req.params.source}' is configured`)
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
      const frappe = src.signatureScheme === 'frappe'
      if (src.secrets?.length) {
        const sig =
          req.headers[src.signatureHeader ?? (frappe ? FRAPPE_SIGNATURE_HEADER : DEFAULT_SIGNATURE_HEADER)]
        if (frappe) verifyFrappeSignature(typeof sig === 'string' ? sig : undefined, body, src.secrets)
        else
          verifyWebhookSignature(typeof sig === 'string' ? sig : undefined, body, {
            secrets: src.secrets,
            toleranceSeconds: src.toleranceSeconds,
          })
      }
      // The source's own budget, spent only once its signature holds (OWASP API4).
      if (ctx.apiLimiter) await ctx.apiLimiter.admitSource(src.name, reply)
      const idHeader = src.deliveryIdHeader ?? DEFAULT_DELIVERY_ID_HEADER
      // Frappe sends no delivery id and retries a failed post with the same body: key it by the body
      const deliveryId =
        req.headers[idHeader] ??
        (frappe ? `sha256:${createHash('sha256').update(body).digest('hex')}` : undefined)
      if (typeof deliveryId !== 'string' || !/^[\w.:@/-]{1,200}$/.test(deliveryId)) {
        throw new QualinkError('QLK_VALIDATION', `header ${idHeader} must carry the delivery id`, [
          { path: `/headers/${idHeader}`, message: 'is required: 1-200 characters of [A-Za-z0-9_.:@/-]' },
        ])
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers)
          .filter(([k, v]) => typeof v === 'string' && !UNSTORED_HEADERS.has(k))
          .map(([k, v]) => [k, String(v)]),
      )
      const stored = await ctx.store.insertRawDelivery({
        plant: src.plant,
        source: src.name,
        deliveryId,
        headers,
        body,
      })
      onStored()
      if (stored.duplicate) ctx.metrics.duplicates.delivery(src.plant, src.name, deliveryId)
      span.set({
        'http.response.status_code': 202,
        'qualink.plant': src.plant,
        'qualink.ingress.delivery_id': deliveryId,
        'qualink.ingress.duplicate': stored.duplicate,
      })
      return reply.code(202).send({ seq: stored.seq, deliveryId, duplicate: stored.duplicate })
    }

    raw.post<{ Params: { source: string } }>('/v1/ingress/:source', async (req, reply) => {
      // The raw delivery keeps the sender's traceparent header; translation continues from it.
      const header = req.headers.traceparent
      const span = startSpan('POST /v1/ingress/:source', {
        kind: 'server',
        parent: isTraceparent(header) ? header : null,
        attributes: {
          'http.request.method': 'POST',
          'http.route': '/v1/ingress/:source',
          'qualink.ingress.source': req.params.source,
        },
      })
      try {
        return await span.run(() => storeDelivery(req, reply, span))
      } catch (e) {
        recordServerError(span, e)
        throw e
      } finally {
        span.end()
      }
    })

    raw.post('/v1/xref/import', async (req) => {
      const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : ''
      const rows = parseXrefCsv(text)
      const r = await ctx.store.ingress.upsertXref(rows, ctx.actorOf(req.headers, 'api'))
      onStored() // wake the translation stage: the deliveries this import resumed go on now
      return r
    })
  })

  app.get<{ Querystring: { system?: string; entityType?: string; format?: 'json' | 'csv' } }>(
    '/v1/xref',
    async (req, reply) => {
      const rows = await ctx.store.ingress.listXref(ctx.scopeOf(req.headers), {
        ...req.query,
        limit: 100_000,
      })
      if (req.query.format === 'csv') return reply.type('text/csv').send(formatXrefCsv(rows))
      return { xref: rows }
    },
  )

  app.put<{ Body: { rows: XrefRow[] } }>(
    '/v1/xref',
    {
      schema: {
        body: {
          type: 'object',
          required: ['rows'],
          additionalProperties: false,
          properties: {
            rows: {
              type: 'array',
              maxItems: 10_000,
              items: {
                type: 'object',
                required: ['system', 'entityType', 'externalCode', 'plant', 'enterpriseId'],
                additionalProperties: false,
                properties: {
                  system: { type: 'string', minLength: 1, maxLength: 100 },
                  entityType: { type: 'string', minLength: 1, maxLength: 100 },
                  externalCode: { type: 'string', minLength: 1, maxLength: 200 },
                  plant: { type: 'string', minLength: 1, maxLength: 40 },
                  enterpriseId: { type: 'string', minLength: 1, maxLength: 200 },
                },
              },
            },
          },
        },
      },
    },
    async (req) => {
      const r = await ctx.store.ingress.upsertXref(req.body.rows, ctx.actorOf(req.headers, 'api'))
      onStored()
      return r
    },
  )

  app.get<{ Querystring: { status?: 'pending' | 'translated' | 'parked' | 'dead'; source?: string } }>(
    '/v1/raw-deliveries',
    async (req) => {
      const rows = await ctx.store.ingress.listRawDeliveries(ctx.scopeOf(req.headers), {
        ...req.query,
        limit: 500,
      })
      return {
        deliveries: rows.map(({ body, ...r }) => ({ ...r, body: body.toString('utf8') })),
      }
    },
  )

  const schemas = generateSchemas()
  app.get('/v1/schemas', async () => ({
    schemas: ctx.registry.list().map((t) => ({
      type: t.type,
      routing: t.routing,
      description: t.description,
      $id: schemas.get(t.type)?.$id,
    })),
  }))
  app.get<{ Params: { type: string } }>('/v1/schemas/:type', async (req, reply) => {
    const s = schemas.get(req.params.type)
    if (!s) throw new QualinkError('QLK_NOT_FOUND', `no schema for event type '${req.params.type}'`)
    return reply.type('application/schema+json').send(s)
  })
}

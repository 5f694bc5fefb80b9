import type { FastifyInstance } from 'fastify'
import type { CloudEvent } from '../../contracts/envelope.ts'
import { QualinkError } from '../../contracts/errors.ts'
import { isTraceparent, recordServerError, startSpan, type TraceSpan } from '../../observability/tracing.ts'
import { toAppendEvent } from '../../store/append-event.ts'
import { decodeCursor, encodeCursor, LOG_START, type StoredEvent } from '../../store/types.ts'
import type { ServerContext } from '../context.ts'
import { parseIngest, validateAll } from '../ingest-parse.ts'

const INGEST_TYPES = ['application/cloudevents+json', 'application/cloudevents-batch+json']

/** The stored envelope with the log's own fields, which no envelope attribute can override. */
function publicEvent(e: StoredEvent) {
  return { ...e.envelope, seq: e.seq, recordedAt: new Date(e.recordedAtMs).toISOString() }
}

export function registerEventRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // An encapsulated context: only the ingest route reads raw bytes (we parse JSON ourselves so
  // malformed input gets QLK_MALFORMED_JSON with a path); every other route keeps fastify's parser.
  app.register(async (ingest) => {
    ingest.addContentTypeParser(INGEST_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    ingest.removeContentTypeParser('application/json')
    ingest.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    )
    registerIngest(ingest, ctx)
  })
  registerQueries(app, ctx)
}

function registerIngest(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/events', async (req, reply) => {
    const started = process.hrtime.bigint()
    if (ctx.isShuttingDown())
      throw new QualinkError('QLK_SHUTTING_DOWN', 'Qualink is shutting down; retry shortly')
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    let mode: ReturnType<typeof parseIngest>['mode'] = 'structured'
    let span: TraceSpan | undefined
    try {
      const parsed = parseIngest(req.headers['content-type'], req.headers, body)
      mode = parsed.mode
      const header = req.headers.traceparent
      span = startSpan('POST /v1/events', ingestSpan(parsed.candidates, header))
      const events = stampTrace(
        validateAll(ctx.registry, parsed.mode, parsed.candidates),
        isTraceparent(header) ? header : span.traceparent,
      )
      const receivedAt = new Date().toISOString()
      const appended = events.map((e) => toAppendEvent(e, receivedAt))
      // in the span: the group commit a request opens is a store span of its trace
      const submitting = { actor: ctx.actorOf(req.headers, 'api'), events: appended }
      const results = await span.run(() => ctx.queue.submit(submitting))
      for (const r of results) ctx.metrics.ingestEvents.inc({ outcome: r.duplicate ? 'duplicate' : 'stored' })
      results.forEach((r, i) => {
        if (r.duplicate) ctx.metrics.duplicates.event(appended[i]!.plant, appended[i]!.type)
      })
      const first = results[0]!
      span.set({
        'http.response.status_code': 202,
        'cloudevents.event_id': first.id,
        'cloudevents.event_type': appended[0]!.type,
        'cloudevents.event_source': appended[0]!.source,
        'cloudevents.event_subject': appended[0]!.subject,
        'qualink.plant': appended[0]!.plant,
        'qualink.ingest.events': results.length,
        'qualink.ingest.duplicates': results.filter((r) => r.duplicate).length,
      })
      // written with the span active, so the line carries trace_id and span_id
      span.run(() =>
        req.log.info(
          {
            correlationId: first.correlationId,
            events: results.length,
            duplicates: results.filter((r) => r.duplicate).length,
          },
          'ingested',
        ),
      )
      reply.code(202)
      if (parsed.mode === 'batch') return { results: results.map(({ source: _s, ...r }) => r) }
      return { id: first.id, seq: first.seq, correlationId: first.correlationId, duplicate: first.duplicate }
    } catch (e) {
      if (e instanceof QualinkError && e.status < 500) ctx.metrics.ingestEvents.inc({ outcome: 'rejected' })
      if (span) recordServerError(span, e)
      throw e
    } finally {
      span?.end()
      ctx.metrics.ingestDuration.observe({ mode }, Number(process.hrtime.bigint() - started) / 1e9)
    }
  })
}

/**
 * The ingest span continues the sender's trace: the first event's `traceparent` extension, else
 * the HTTP `traceparent` header (W3C Trace Context over HTTP); the other events' traces and a
 * differing header are links. Without either, the request starts a trace.
 */
function ingestSpan(candidates: readonly unknown[], header: string | string[] | undefined) {
  const own = candidates
    .map((c) => (c as { traceparent?: unknown } | null)?.traceparent)
    .filter(isTraceparent)
  const parent = own[0] ?? (isTraceparent(header) ? header : null)
  const links = [...new Set([...own, ...(isTraceparent(header) ? [header] : [])])].filter((t) => t !== parent)
  return {
    kind: 'server' as const,
    parent,
    links,
    attributes: { 'http.request.method': 'POST', 'http.route': '/v1/events' },
  }
}

/**
 * An event without a traceparent is stored with the request's (the header's, else the ingest
 * span's), so the run it starts continues that trace; an event's own is never replaced.
 */
function stampTrace(events: CloudEvent[], traceparent: string | undefined): CloudEvent[] {
  if (!traceparent) return events
  return events.map((e) => (e.traceparent ? e : { ...e, traceparent }))
}

function registerQueries(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{
    Querystring: { type?: string; subject?: string; after?: string; cursor?: string; limit?: string }
  }>(
    '/v1/events',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { type: 'string', maxLength: 200 },
            subject: { type: 'string', maxLength: 500 },
            after: { type: 'string', pattern: '^[0-9]{1,15}$' },
            cursor: { type: 'string', pattern: '^[0-9]{1,20}\\.[0-9]{1,15}$' },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
          },
        },
      },
    },
    async (req) => {
      const scope = ctx.scopeOf(req.headers)
      const limit = Math.min(Number(req.query.limit ?? 100), 1000)
      if (req.query.cursor !== undefined) {
        // Tailing: committed events below the visibility watermark, never skipping a late commit.
        const cursor = decodeCursor(req.query.cursor) ?? LOG_START
        const page = await ctx.store.tailEvents(scope, cursor, limit)
        const events = page.events.filter(
          (e) =>
            (!req.query.type || e.type === req.query.type) &&
            (!req.query.subject || e.subject === req.query.subject),
        )
        return { events: events.map(publicEvent), nextCursor: encodeCursor(page.cursor) }
      }
      const events = await ctx.store.listEvents(scope, {
        type: req.query.type,
        subject: req.query.subject,
        afterSeq: req.query.after === undefined ? 0 : Number(req.query.after),
        limit,
      })
      return { events: events.map(publicEvent), nextAfter: events.at(-1)?.seq ?? null }
    },
  )

  app.get<{ Params: { id: string } }>('/v1/events/:id', async (req) => {
    const e = await ctx.store.getEvent(ctx.scopeOf(req.headers), req.params.id)
    // Another plant's event answers exactly like a missing one (no existence oracle).
    if (!e) throw new QualinkError('QLK_NOT_FOUND', `event ${req.params.id} not found`)
    return publicEvent(e)
  })
}

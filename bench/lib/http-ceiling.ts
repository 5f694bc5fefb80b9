import Fastify from 'fastify'

/**
 * The HTTP ceiling of shape (a): a bare fastify app that parses and schema-validates the same
 * structured-mode CloudEvent body the ingest benchmark posts and answers 202 with a body of the same
 * shape Qualink returns, with no store, no logging and no audit. Whatever Qualink does beyond this is
 * the cost of durability and bookkeeping.
 */
const eventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['specversion', 'id', 'source', 'type', 'plant'],
  properties: {
    specversion: { const: '1.0' },
    id: { type: 'string', minLength: 1, maxLength: 200 },
    source: { type: 'string', minLength: 1, maxLength: 500 },
    type: { type: 'string', pattern: '^[a-z0-9]+(\\.[a-z0-9-]+)+\\.v[0-9]+$' },
    time: { type: 'string', format: 'date-time' },
    subject: { type: 'string', maxLength: 500 },
    plant: { type: 'string', minLength: 1, maxLength: 50 },
    data: {
      type: 'object',
      additionalProperties: false,
      properties: { note: { type: 'string', maxLength: 200 }, n: { type: 'integer' } },
    },
  },
} as const

export interface CeilingServer {
  readonly url: string
  close(): Promise<void>
}

export async function startCeilingServer(): Promise<CeilingServer> {
  const app = Fastify({ logger: false })
  app.addContentTypeParser('application/cloudevents+json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string))
    } catch (e) {
      done(e as Error, undefined)
    }
  })
  app.post<{ Body: { id: string } }>('/v1/events', { schema: { body: eventSchema } }, async (req, reply) => {
    reply.code(202)
    return { id: req.body.id, seq: 0, correlationId: req.body.id, duplicate: false }
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return { url, close: () => app.close() }
}

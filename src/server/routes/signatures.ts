import type { FastifyInstance } from 'fastify'
import { QualinkError } from '../../contracts/errors.ts'
import { RECORD_KINDS, type RecordKind, type RecordRef } from '../../signatures/records.ts'
import type { SignatureService } from '../../signatures/service.ts'
import { getSignature, listSignatures, MEANINGS, type Meaning } from '../../signatures/signature-store.ts'
import type { ServerContext } from '../context.ts'

interface SignBody {
  record: {
    kind: RecordKind
    id?: string
    filter?: { workflow?: string; errorCode?: string; connector?: string; max?: number }
  }
  meaning: Meaning
  signer?: string
  password?: string
}

const signBody = {
  type: 'object',
  required: ['record', 'meaning'],
  additionalProperties: false,
  properties: {
    record: {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: {
        kind: { type: 'string', enum: RECORD_KINDS },
        id: { type: 'string', minLength: 1, maxLength: 200 },
        filter: {
          type: 'object',
          additionalProperties: false,
          properties: {
            workflow: { type: 'string', maxLength: 64 },
            errorCode: { type: 'string', maxLength: 64 },
            connector: { type: 'string', minLength: 1, maxLength: 64 },
            max: { type: 'integer', minimum: 1, maximum: 10_000 },
          },
        },
      },
    },
    meaning: { type: 'string', enum: MEANINGS },
    signer: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
}

function refOfBody(r: SignBody['record']): RecordRef {
  if (r.kind === 'bulk-replay') return { kind: r.kind, filter: { ...r.filter, max: r.filter?.max ?? 1000 } }
  if (r.kind === 'mass-release') {
    // Its two-person rule (never the same person twice) is kept by that route alone.
    throw new QualinkError('QLK_VALIDATION', 'a mass release is signed at POST /v1/lots/mass-release', [
      { path: '/record/kind', message: 'sign a mass release through POST /v1/lots/mass-release' },
    ])
  }
  if (!r.id) {
    throw new QualinkError('QLK_VALIDATION', `record.id is required for a ${r.kind}`, [
      { path: '/record/id', message: `required when record.kind is ${r.kind}` },
    ])
  }
  return { kind: r.kind, id: r.id }
}

/** Electronic signatures: sign a record version (approver), read one back with its validity. */
export function registerSignatureRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  service: SignatureService,
): void {
  app.post<{ Body: SignBody }>('/v1/signatures', { schema: { body: signBody } }, async (req, reply) => {
    const who = await ctx.authenticator.authenticate(req.headers)
    const sig = await service.sign(who, ctx.actorOf(req.headers, 'api'), ctx.scopeOf(req.headers), {
      record: refOfBody(req.body.record),
      meaning: req.body.meaning,
      signer: req.body.signer,
      password: req.body.password,
    })
    return reply.code(201).send(sig)
  })

  app.get<{ Params: { id: string } }>('/v1/signatures/:id', async (req) => {
    const scope = ctx.scopeOf(req.headers)
    const sig = await getSignature(ctx.store, scope, Number(req.params.id))
    if (!sig) throw new QualinkError('QLK_NOT_FOUND', `signature ${req.params.id} not found`)
    return service.check(scope, sig)
  })

  app.get<{ Querystring: { kind: RecordKind; id: string } }>(
    '/v1/signatures',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['kind', 'id'],
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: RECORD_KINDS },
            id: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
      },
    },
    async (req) => {
      const scope = ctx.scopeOf(req.headers)
      const sigs = await listSignatures(ctx.store, scope, req.query.kind, req.query.id)
      return { signatures: await Promise.all(sigs.map((s) => service.check(scope, s))) }
    },
  )
}

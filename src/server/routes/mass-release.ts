import type { FastifyInstance } from 'fastify'
import { MASS_RELEASE_MAX_LOTS } from '../../signatures/mass-release.ts'
import type { Signature } from '../../signatures/signature-store.ts'
import type { ServerContext } from '../context.ts'
import { evaluateSelection, signMassRelease } from '../mass-release-flow.ts'

const lots = {
  type: 'array',
  minItems: 1,
  maxItems: MASS_RELEASE_MAX_LOTS,
  items: { type: 'string', minLength: 1, maxLength: 128 },
  description: 'the lots (batches) to release; another plant’s lot is counted as unknown, never named',
}

interface SignBody {
  lots: string[]
  signer?: string
  password?: string
  /** the version hash the preview showed: refused with QLK_RECORD_CHANGED when it moved since */
  version?: string
}

export function publicSignature(s: Signature) {
  return {
    id: s.id,
    signer: s.signerId,
    printedName: s.printedName,
    meaning: s.meaning,
    signedAtMs: s.signedAtMs,
  }
}

/**
 * Mass release with the two-person rule (issue 10, 21 CFR 11.50/11.200): `preview` shows what
 * a selection would release and what is refused; the first approver's signed request and a second,
 * different approver's signature (each re-authenticated) release it. Each lot is then released by
 * its own durable `lot-release` run (src/workflows/lot-release.ts). The steps live in
 * ../mass-release-flow.ts, shared with the dashboard's mass release page.
 */
export function registerMassReleaseRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: { lots: string[] } }>(
    '/v1/lots/mass-release/preview',
    {
      schema: {
        body: { type: 'object', required: ['lots'], additionalProperties: false, properties: { lots } },
      },
    },
    async (req) => {
      const scope = ctx.scopeOf(req.headers)
      const { view, version } = await evaluateSelection(ctx, scope, req.body.lots)
      const signed = await ctx.signatures.signaturesOn(scope, version)
      return {
        record: { kind: version.kind, id: version.id },
        version: version.hash,
        plant: version.plant,
        eligible: view.eligible,
        refused: view.refused,
        unknown: view.unknown,
        signatures: signed.map(publicSignature),
      }
    },
  )

  app.post<{ Body: SignBody }>(
    '/v1/lots/mass-release',
    {
      schema: {
        body: {
          type: 'object',
          required: ['lots'],
          additionalProperties: false,
          properties: {
            lots,
            signer: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 1, maxLength: 1024 },
            version: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          },
        },
      },
    },
    async (req, reply) => {
      const who = await ctx.authenticator.authenticate(req.headers)
      const out = await signMassRelease(ctx, who, ctx.actorOf(req.headers, 'api'), ctx.scopeOf(req.headers), {
        lots: req.body.lots,
        signer: req.body.signer,
        password: req.body.password,
        version: req.body.version,
      })
      const base = {
        record: { kind: out.version.kind, id: out.version.id },
        version: out.version.hash,
        signatures: out.signatures.map(publicSignature),
        refused: out.view.refused,
        unknown: out.view.unknown,
      }
      if (!out.released)
        return reply
          .code(202)
          .send({ status: 'awaiting-second-signature', ...base, eligible: out.view.eligible })
      return reply.code(202).send({ status: 'released', ...base, released: out.released })
    },
  )
}

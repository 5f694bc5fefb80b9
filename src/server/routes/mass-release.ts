import type { FastifyInstance } from 'fastify'
import { QualinkError } from '../../contracts/errors.ts'
import {
  evaluateMassRelease,
  MASS_RELEASE_MAX_LOTS,
  type MassReleaseView,
  massReleaseVersion,
  normalSelection,
} from '../../signatures/mass-release.ts'
import type { Signature } from '../../signatures/signature-store.ts'
import { toAppendEvent } from '../../store/append-event.ts'
import type { Scope } from '../../store/types.ts'
import { RELEASE_SIGNED } from '../../workflows/lot-release.ts'
import type { ServerContext } from '../context.ts'

const LOT_RELEASE = 'lot-release'
const SOURCE = 'urn:qualink:mass-release'

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

type Headers = Record<string, string | string[] | undefined>

function publicSignature(s: Signature) {
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
 * its own durable `lot-release` run (src/workflows/lot-release.ts).
 */
export function registerMassReleaseRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const evaluate = async (headers: Headers, asked: readonly string[]) => {
    await ctx.catchUpProjections()
    const scope = ctx.scopeOf(headers)
    const view = await evaluateMassRelease(ctx.store, scope, normalSelection(asked))
    if (view.eligible.length + view.refused.length === 0)
      throw new QualinkError('QLK_NOT_FOUND', 'none of the lots was found', [
        { path: '/lots', message: 'no lot of the list is known in your plants' },
      ])
    return { scope, view, version: massReleaseVersion(view) }
  }

  app.post<{ Body: { lots: string[] } }>(
    '/v1/lots/mass-release/preview',
    {
      schema: {
        body: { type: 'object', required: ['lots'], additionalProperties: false, properties: { lots } },
      },
    },
    async (req) => {
      const { scope, view, version } = await evaluate(req.headers, req.body.lots)
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
      if (!ctx.workflows.includes(LOT_RELEASE))
        throw new QualinkError(
          'QLK_CONFIG_INVALID',
          `mass release needs the ${LOT_RELEASE} workflow: enable workflows.${LOT_RELEASE} in qualink.yaml; nothing was signed`,
          [{ path: `/workflows/${LOT_RELEASE}`, message: 'not enabled' }],
        )
      const { scope, view, version } = await evaluate(req.headers, req.body.lots)
      if (req.body.version !== undefined && req.body.version !== version.hash)
        throw changed(version.hash, '/version')
      const who = await ctx.authenticator.authenticate(req.headers)
      const signed = await ctx.signatures.signMassRelease(
        who,
        ctx.actorOf(req.headers, 'api'),
        scope,
        view.selection,
        { signer: req.body.signer, password: req.body.password },
      )
      // A decision that arrived between the evaluation and the signature moved the version.
      if (signed.version.hash !== version.hash) throw changed(signed.version.hash, '/lots')
      const base = {
        record: { kind: version.kind, id: version.id },
        version: version.hash,
        signatures: signed.signatures.map(publicSignature),
        refused: view.refused,
        unknown: view.unknown,
      }
      if (!signed.complete)
        return reply.code(202).send({ status: 'awaiting-second-signature', ...base, eligible: view.eligible })
      const released = await execute(ctx, req.headers, scope, view, version.hash, signed.signatures)
      return reply.code(202).send({ status: 'released', ...base, released })
    },
  )
}

function changed(now: string, path: string): QualinkError {
  return new QualinkError(
    'QLK_RECORD_CHANGED',
    `the selection is now at version ${now}: a lot's decision changed since it was previewed; preview again, nothing was signed`,
    [{ path, message: 'preview again and sign the current version' }],
  )
}

/**
 * Appends one `qualink.lot.release_signed.v1` per releasable lot in one commit (all or none) and
 * audits the execution. Event ids derive from the signed version and the lot, so executing the
 * same signatures again stores nothing new and starts no second run.
 */
async function execute(
  ctx: ServerContext,
  headers: Headers,
  scope: Scope,
  view: MassReleaseView,
  hash: string,
  signatures: readonly Signature[],
) {
  const receivedAt = new Date().toISOString()
  const sigs = signatures.map((s) => ({
    id: s.id,
    signer: s.signerId,
    printedName: s.printedName,
    meaning: s.meaning,
  }))
  const events = view.eligible.map((l) =>
    toAppendEvent(
      ctx.registry.validate(
        {
          specversion: '1.0',
          id: `mass-release-${hash}-${l.lot}`,
          source: SOURCE,
          type: RELEASE_SIGNED,
          subject: l.lot,
          plant: l.plant,
          data: {
            lot: { id: l.lot, material: l.material, plant: l.plant },
            massRelease: hash,
            decision: { code: l.decision.code, valuation: 'accepted', eventSeq: l.decision.eventSeq },
            signatures: sigs,
          },
        },
        '',
      ),
      receivedAt,
    ),
  )
  const actor = ctx.actorOf(headers, 'api')
  const results = events.length > 0 ? await ctx.queue.submit({ actor, events }) : []
  const released = view.eligible.map((l, i) => ({
    lot: l.lot,
    plant: l.plant,
    event: results[i]!.id,
    duplicate: results[i]!.duplicate,
  }))
  const plants = [...new Set([...view.eligible, ...view.refused].map((l) => l.plant))]
  await ctx.store.appendAudit(
    plants.map((plant) => ({
      plant,
      actor,
      action: 'lot.mass_release.executed',
      subject: `mass-release:${hash}`,
      correlationId: null,
      payload: {
        version: hash,
        signatures: sigs,
        released: released.filter((r) => r.plant === plant).map((r) => r.lot),
        refused: view.refused.filter((r) => r.plant === plant),
        scope: 'allPlants' in scope ? '*' : scope.plants,
      },
    })),
  )
  ctx.wakeEngine()
  return released
}

import type { FastifyInstance, FastifyRequest } from 'fastify'
import { isQualinkError } from '../contracts/errors.ts'
import { refuseCrossSite } from '../security/csrf.ts'
import { hasRole } from '../server/auth.ts'
import { startBulkReplay } from '../server/bulk-replay-run.ts'
import type { ServerContext } from '../server/context.ts'
import { bulkReplayVersion, matchingDeadLetters, normalFilter } from '../signatures/records.ts'
import type { Scope } from '../store/types.ts'
import { answer, refusal, signerOf } from './actions.ts'
import { field } from './format.ts'
import type { Html } from './html.ts'
import { type BulkFilter, type BulkSigning, bulkPreview } from './pages/bulk-replay.ts'
import { operationProgress } from './pages/operation-progress.ts'

type Body = Record<string, unknown>
type Req = FastifyRequest<{ Body: Body | undefined }>
type Headers = Record<string, string | string[] | undefined>

/** the most a dashboard bulk replay takes at once, and the API filter's default `max` */
const BULK_MAX = 1000
const BACK = { href: '/ui/exceptions', active: '/ui/exceptions' }
const SIGN_MSG = { ...BACK, msgTarget: '#bulk-sign-msg' }

function filterOf(body: Body): BulkFilter {
  return {
    errorCode: field(body.errorCode, 64),
    workflow: field(body.workflow, 64),
    connector: field(body.connector, 64),
  }
}

/**
 * The dashboard's bulk replay: a dry run of a filter, then the replay of exactly the ids shown.
 * Above the two-person threshold (`signatures.bulkReplayTwoPersonOver`) the set is signed first
 * here, by two different approvers re-entering their passwords, on the same record version the
 * API signs (filter with `max` 1000 + every matching dead letter): signatures given through
 * POST /v1/signatures count here too, and the other way round.
 */
export function registerBulkReplayActions(ui: FastifyInstance, ctx: ServerContext): void {
  const guarded = { onRequest: refuseCrossSite }
  const over = () => ctx.signatures.options.bulkReplayTwoPersonOver

  /** The filter's dead letters as the API selects them, and its version when it needs signatures. */
  async function select(scope: Scope, f: BulkFilter) {
    const filter = normalFilter({ ...f, connector: f.connector || undefined, max: BULK_MAX })
    const matching = await matchingDeadLetters(ctx.store, scope, filter)
    const limit = over()
    const version =
      limit !== undefined && matching.length > limit ? bulkReplayVersion(scope, filter, matching) : undefined
    return { filter, matching, version }
  }

  async function preview(headers: Headers, f: BulkFilter): Promise<Html> {
    const scope = ctx.scopeOf(headers)
    const { matching, version } = await select(scope, f)
    if (!version) return bulkPreview(f, matching)
    const who = await ctx.authenticator.authenticate(headers, { dashboard: true })
    const signing: BulkSigning = {
      over: over()!,
      version,
      approvals: (await ctx.signatures.signaturesOn(scope, version)).filter((s) => s.meaning === 'approved'),
      signer: signerOf(who),
      canReplay: hasRole(who, 'operator'),
    }
    return bulkPreview(f, matching, Date.now(), signing)
  }

  ui.post('/ui/exceptions/bulk/preview', guarded, async (req: Req, reply) =>
    answer(req, reply, 200, await preview(req.headers, filterOf(req.body ?? {})), BACK),
  )

  ui.post('/ui/exceptions/bulk/sign', guarded, async (req: Req, reply) => {
    const body = req.body ?? {}
    const f = filterOf(body)
    const version = field(body.version, 64)
    const signer = field(body.signer, 64)
    const password = typeof body.password === 'string' ? body.password : ''
    const missing = (rule: string) => answer(req, reply, 422, refusal(`Not signed. ${rule}`), SIGN_MSG)
    if (!/^[0-9a-f]{64}$/.test(version)) return missing('version: preview the dead letters first.')
    if (!signer) return missing('signer: enter the signer’s user id.')
    if (!password || password.length > 1024) return missing('password: re-enter the signer’s password.')
    if (field(body.meaning, 16) !== 'approved')
      return missing('meaning: tick the box that states what the signature means.')
    const scope = ctx.scopeOf(req.headers)
    // The signature binds the set as it is now: it must be the set the signer was shown.
    const now = await select(scope, f)
    if (now.version?.hash !== version)
      return answer(
        req,
        reply,
        409,
        refusal(
          now.version
            ? 'Not signed: the dead letters matching this filter changed since the preview; preview again (QLK_RECORD_CHANGED).'
            : `Not signed: ${now.matching.length} dead letters match now, not more than ${over() ?? 'the threshold'}; no signatures are needed (preview again).`,
        ),
        SIGN_MSG,
      )
    try {
      const who = await ctx.authenticator.authenticate(req.headers, { dashboard: true })
      await ctx.signatures.sign(who, ctx.actorOf(req.headers, 'ui'), scope, {
        record: { kind: 'bulk-replay', filter: now.filter },
        meaning: 'approved',
        signer,
        password,
      })
    } catch (e) {
      if (!isQualinkError(e)) throw e
      return answer(req, reply, e.status, refusal(`${e.message} (${e.code})`), SIGN_MSG)
    }
    return answer(req, reply, 200, await preview(req.headers, f), BACK)
  })

  ui.post('/ui/exceptions/bulk/replay', guarded, async (req: Req, reply) => {
    const body = req.body ?? {}
    const raw = Array.isArray(body.id) ? body.id : body.id === undefined ? [] : [body.id]
    const ids = [...new Set(raw.map(Number).filter(Number.isSafeInteger))]
    if (ids.length === 0) return answer(req, reply, 422, refusal('Nothing to replay: preview first.'), BACK)
    if (ids.length > BULK_MAX)
      return answer(req, reply, 422, refusal(`At most ${BULK_MAX} dead letters per bulk replay.`), BACK)
    const scope = ctx.scopeOf(req.headers)
    const limit = over()
    let items: Array<{ id: number; dl: Awaited<ReturnType<typeof matchingDeadLetters>>[number] | undefined }>
    if (limit !== undefined && ids.length > limit) {
      // Signed: the replay is of the signed set, which must still be exactly the ids shown.
      const { filter, matching } = await select(scope, filterOf(body))
      const same = matching.length === ids.length && matching.every((d) => ids.includes(d.id))
      if (!same)
        return answer(
          req,
          reply,
          409,
          refusal(
            'Not replayed: the dead letters matching this filter changed since they were signed; preview again (QLK_RECORD_CHANGED).',
          ),
          BACK,
        )
      try {
        await ctx.signatures.requireForBulkReplay(scope, filter, matching)
      } catch (e) {
        if (!isQualinkError(e)) throw e
        return answer(req, reply, e.status, refusal(`Not replayed: ${e.message} (${e.code})`), BACK)
      }
      items = matching.map((dl) => ({ id: dl.id, dl }))
    } else {
      const open = new Map(
        (await matchingDeadLetters(ctx.store, scope, normalFilter({}))).map((d) => [d.id, d]),
      )
      items = ids.map((id) => ({ id, dl: open.get(id) }))
    }
    // Answered at once with the operation's progress; the replay goes on in the background and
    // the fragment polls until the outcome is on screen (pages/operation-progress.ts).
    const { operation } = await startBulkReplay(ctx, {
      scope,
      actor: ctx.actorOf(req.headers, 'ui'),
      items,
      auditExtra: { bulk: true },
    })
    return answer(req, reply, 202, operationProgress(operation), BACK)
  })
}

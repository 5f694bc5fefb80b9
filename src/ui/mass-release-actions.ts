import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isQualinkError } from '../contracts/errors.ts'
import { refuseCrossSite } from '../security/csrf.ts'
import type { ServerContext } from '../server/context.ts'
import { evaluateSelection, LOT_RELEASE, signMassRelease } from '../server/mass-release-flow.ts'
import { MASS_RELEASE_MAX_LOTS } from '../signatures/mass-release.ts'
import type { Scope } from '../store/types.ts'
import { answer, refusal, signerOf } from './actions.ts'
import { field } from './format.ts'
import {
  awaitingFragment,
  nextMeaning,
  previewFragment,
  type ReleasedView,
  type RunBrief,
  releasedFragment,
  runProgress,
} from './pages/mass-release-parts.ts'

type Body = Record<string, unknown>
type Req = FastifyRequest<{ Body: Body | undefined }>
type Headers = Record<string, string | string[] | undefined>

const BACK = { href: '/ui/mass-release', active: '/ui/mass-release' }
const LOT_MAX = 128

/** A form field that may repeat (checkboxes, hidden inputs) as a list of strings. */
function many(v: unknown): string[] {
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v]
  return list.filter((x): x is string => typeof x === 'string')
}

/**
 * The lots of a form: the ticked candidates (`lot`) and the typed list (`lots`, split on commas,
 * semicolons and white space). A refusal names the field and the rule; nothing is evaluated then.
 */
export function lotsOf(body: Body): { lots: string[] } | { error: string } {
  const typed = typeof body.lots === 'string' ? body.lots.split(/[\s,;]+/) : []
  const lots = [...new Set([...many(body.lot), ...typed].map((l) => l.trim()).filter(Boolean))]
  if (lots.length === 0) return { error: 'lots: select or type at least one lot number.' }
  const bad = lots.find((l) => l.length > LOT_MAX || /\p{Cc}/u.test(l))
  if (bad !== undefined)
    return {
      error: `lots: “${bad.slice(0, 40)}” is not a lot number (at most ${LOT_MAX} printable characters).`,
    }
  if (lots.length > MASS_RELEASE_MAX_LOTS)
    return { error: `lots: at most ${MASS_RELEASE_MAX_LOTS} lots per mass release (got ${lots.length}).` }
  return { lots }
}

/**
 * Each released lot's `lot-release` run, found by the event that started it, in one statement
 * (the progress table polls every 2 s, for up to 200 lots), within the caller's plants.
 */
async function runsOf(ctx: ServerContext, scope: Scope, released: readonly ReleasedView[]) {
  const runs = new Map<string, RunBrief>()
  if (released.length === 0 || ('plants' in scope && scope.plants.length === 0)) return runs
  const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ')
  const plants = 'plants' in scope ? scope.plants : []
  const rows = await ctx.store.sql.all(
    `SELECT id, plant, status, trigger_event_id FROM workflow_runs
      WHERE workflow = ? AND run_key IN (${marks(released.length)}) AND trigger_event_id IN (${marks(released.length)})
      ${plants.length ? `AND plant IN (${marks(plants.length)})` : ''}`,
    [LOT_RELEASE, ...released.map((r) => r.lot), ...released.map((r) => r.event), ...plants],
  )
  for (const r of rows)
    runs.set(String(r.trigger_event_id), {
      id: String(r.id),
      plant: String(r.plant),
      status: String(r.status),
    })
  return runs
}

function refused(req: FastifyRequest, reply: FastifyReply, e: unknown, msgTarget?: string): FastifyReply {
  if (!isQualinkError(e)) throw e
  return answer(req, reply, e.status, refusal(`${e.message} (${e.code})`), { ...BACK, msgTarget })
}

/**
 * The dashboard's mass release (issue 10 item 3): preview a selection, then two different
 * approvers sign it, each re-entering their password; the second signature executes it through
 * the same steps as POST /v1/lots/mass-release (server/mass-release-flow.ts). The route needs the
 * approver role (server/auth.ts), refuses cross-site posts, and sees only the caller's plants.
 */
export function registerMassReleaseActions(ui: FastifyInstance, ctx: ServerContext): void {
  const guarded = { onRequest: refuseCrossSite }
  const whoIs = (headers: Headers) => ctx.authenticator.authenticate(headers, { dashboard: true })

  ui.post('/ui/mass-release/preview', guarded, async (req: Req, reply) => {
    const parsed = lotsOf(req.body ?? {})
    if ('error' in parsed) return answer(req, reply, 422, refusal(parsed.error), BACK)
    const scope = ctx.scopeOf(req.headers)
    try {
      const who = await whoIs(req.headers)
      const { view, version } = await evaluateSelection(ctx, scope, parsed.lots)
      const signed = await ctx.signatures.signaturesOn(scope, version)
      return answer(req, reply, 200, previewFragment(view, version, signed, signerOf(who)), BACK)
    } catch (e) {
      return refused(req, reply, e)
    }
  })

  ui.post('/ui/mass-release/sign', guarded, async (req: Req, reply) => {
    const body = req.body ?? {}
    const parsed = lotsOf({ lot: body.lot })
    if ('error' in parsed) return answer(req, reply, 422, refusal(parsed.error), BACK)
    const msg = '#mr-sign-msg'
    const version = field(body.version, 64)
    const signer = field(body.signer, 64)
    const password = typeof body.password === 'string' ? body.password : ''
    const meaning = field(body.meaning, 16)
    const missing = (rule: string) =>
      answer(req, reply, 422, refusal(`Not signed. ${rule}`), { ...BACK, msgTarget: msg })
    if (!/^[0-9a-f]{64}$/.test(version)) return missing('version: preview the selection first.')
    if (!signer) return missing('signer: enter the signer’s user id.')
    if (!password || password.length > 1024) return missing('password: re-enter the signer’s password.')
    if (meaning !== 'approved' && meaning !== 'released')
      return missing('meaning: tick the box that states what the signature means.')
    try {
      const who = await whoIs(req.headers)
      const scope = ctx.scopeOf(req.headers)
      // The meaning ticked must be the one this signature gets: someone may have signed meanwhile.
      const { version: now } = await evaluateSelection(ctx, scope, parsed.lots)
      const before = await ctx.signatures.signaturesOn(scope, now)
      const expected = nextMeaning(before)
      if (expected !== null && expected !== meaning)
        return answer(
          req,
          reply,
          409,
          refusal(
            expected === 'released'
              ? `Not signed: ${before[0]!.printedName} has already signed this selection as the requester; preview again to sign as the second approver (QLK_RECORD_CHANGED).`
              : 'Not signed: nobody has signed this version of the selection yet (a decision changed, or the earlier signature was on another version); preview again (QLK_RECORD_CHANGED).',
          ),
          { ...BACK, msgTarget: msg },
        )
      const out = await signMassRelease(ctx, who, ctx.actorOf(req.headers, 'ui'), scope, {
        lots: parsed.lots,
        signer,
        password,
        version,
      })
      if (!out.released)
        return answer(req, reply, 200, awaitingFragment(out.view, out.version, out.signatures), BACK)
      const released = out.released
      const runs = await runsOf(ctx, scope, released)
      return answer(req, reply, 200, releasedFragment(out.version, out.signatures, released, runs), BACK)
    } catch (e) {
      return refused(req, reply, e, msg)
    }
  })

  ui.get<{ Querystring: Record<string, unknown> }>('/ui/partials/mass-release/runs', async (req, reply) => {
    const hash = field(req.query.version, 64)
    if (!/^[0-9a-f]{64}$/.test(hash))
      return answer(
        req,
        reply,
        422,
        refusal('version: the mass release’s version hash (64 hex digits).'),
        BACK,
      )
    const lots = many(req.query.lot).slice(0, MASS_RELEASE_MAX_LOTS)
    const released = lots.map((lot) => ({ lot, event: `mass-release-${hash}-${lot}` }))
    const runs = await runsOf(ctx, ctx.scopeOf(req.headers), released)
    return reply.type('text/html; charset=utf-8').send(runProgress(hash, released, runs).value)
  })
}

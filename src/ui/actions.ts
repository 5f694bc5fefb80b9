import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isQualinkError } from '../contracts/errors.ts'
import { refuseCrossSite } from '../security/csrf.ts'
import type { Principal } from '../server/auth.ts'
import type { ServerContext } from '../server/context.ts'
import { requestReconciliation } from '../server/routes/operations.ts'
import { replayDeadLetterAs } from '../store/dead-letters.ts'
import type { DeadLetter } from '../store/engine-types.ts'
import { field, isHtmx } from './format.ts'
import { type Html, html, page } from './html.ts'
import { detailActions, findDeadLetter, resolvedNote } from './pages/dead-letter.ts'
import { deadLetterRow } from './pages/exceptions.ts'
import { operationProgress } from './pages/operation-progress.ts'
import { cancelSection, loadRunOrThrow } from './pages/run-detail.ts'

type Body = Record<string, unknown>
type Req = FastifyRequest<{ Params: { id: string }; Body: Body | undefined }>

export const CHANGED_EVENT = 'qlk-dead-letters-changed'

/**
 * Answers an action. htmx swaps the fragment in place; a refusal is retargeted to the message
 * slot next to the control, so a table never receives an error. Without JavaScript the same
 * fragment comes back inside a full page with a way back.
 */
export function answer(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  fragment: Html,
  back: { href: string; active: string; msgTarget?: string },
): FastifyReply {
  reply.code(status).type('text/html; charset=utf-8')
  if (isHtmx(req.headers)) {
    if (status >= 400 && back.msgTarget)
      reply.header('hx-retarget', back.msgTarget).header('hx-reswap', 'innerHTML')
    return reply.send(fragment.value)
  }
  const title = status >= 400 ? 'Action refused' : 'Done'
  return reply.send(page(title, back.active, html`${fragment}<p><a href="${back.href}">Back</a></p>`))
}

/** A signing form's signer field default: the signed-in person (who signs as themselves). */
export function signerOf(who: Principal): string {
  return who.via === 'session' || who.via === 'oidc' ? who.id : ''
}

export function refusal(message: string): Html {
  return html`<p class="error">${message}</p>`
}

const REASON_RULE = 'A reason is required (at least 3 characters, at most 500).'

function reasonOf(body: Body): string | undefined {
  const r = field(body.reason, 1000)
  return r.length >= 3 && r.length <= 500 ? r : undefined
}

function viewOf(body: Body): 'row' | 'detail' {
  return field(body.view) === 'detail' ? 'detail' : 'row'
}

function resolvedFragment(dl: DeadLetter, view: 'row' | 'detail'): Html {
  return view === 'row' ? deadLetterRow(dl, Date.now(), resolvedNote(dl)) : detailActions(dl)
}

function stillOpen(dl: DeadLetter): string | undefined {
  if (dl.status === 'open') return undefined
  return `Dead letter ${dl.id} is no longer open: it was ${dl.status} by ${dl.resolvedBy ?? 'someone else'}.`
}

/** The dashboard's write actions, posted as forms; they call the engine store as the API does. */
export function registerUiActions(ui: FastifyInstance, ctx: ServerContext): void {
  const engine = ctx.store.engine
  // Every action refuses a cross-site post (CSRF): on loopback no key stands in the way.
  const guarded = { onRequest: refuseCrossSite }

  ui.post('/ui/exceptions/:id/replay', guarded, async (req: Req, reply) => {
    const body = req.body ?? {}
    const view = viewOf(body)
    const back = {
      href: `/ui/exceptions/${req.params.id}`,
      active: '/ui/exceptions',
      msgTarget: `#dl-${req.params.id}-msg`,
    }
    const dl = await findDeadLetter(ctx, req.headers, req.params.id)
    const closed = stillOpen(dl)
    if (closed) return answer(req, reply, 409, refusal(closed), back)
    try {
      const replayed = await replayDeadLetterAs(
        ctx.store,
        ctx.scopeOf(req.headers),
        ctx.actorOf(req.headers, 'ui'),
        dl,
      )
      if (!replayed) return answer(req, reply, 409, refusal(`Dead letter ${dl.id} is no longer open.`), back)
      ctx.wakeEngine()
      return answer(req, reply, 200, resolvedFragment(replayed, view), back)
    } catch (e) {
      if (!isQualinkError(e)) throw e
      return answer(req, reply, 409, refusal(`Replay refused: ${e.message}`), back)
    }
  })

  ui.post('/ui/exceptions/:id/discard', guarded, async (req: Req, reply) => {
    const body = req.body ?? {}
    const back = {
      href: `/ui/exceptions/${req.params.id}`,
      active: '/ui/exceptions',
      msgTarget: `#dl-${req.params.id}-msg`,
    }
    const reason = reasonOf(body)
    if (!reason) return answer(req, reply, 422, refusal(`Not discarded. ${REASON_RULE}`), back)
    const dl = await findDeadLetter(ctx, req.headers, req.params.id)
    const closed = stillOpen(dl)
    if (closed) return answer(req, reply, 409, refusal(closed), back)
    const discarded = await engine.discardDeadLetter(ctx.scopeOf(req.headers), dl.id, reason, {
      actor: ctx.actorOf(req.headers, 'ui'),
      action: 'dead_letter.discarded',
      subject: String(dl.id),
      correlationId: null,
      payload: { deadLetterId: dl.id, reason },
    })
    if (!discarded) return answer(req, reply, 409, refusal(`Dead letter ${dl.id} is no longer open.`), back)
    ctx.wakeEngine()
    return answer(req, reply, 200, resolvedFragment(discarded, viewOf(body)), back)
  })

  // Any process may take the click: the pass runs where the reconciliation lease is held.
  ui.post('/ui/drift/reconcile', guarded, async (req: Req, reply) => {
    const back = { href: '/ui/drift', active: '/ui/drift', msgTarget: '#reconcile-msg' }
    try {
      const { operation } = await requestReconciliation(
        ctx,
        ctx.scopeOf(req.headers),
        ctx.actorOf(req.headers, 'ui'),
      )
      return answer(req, reply, 202, operationProgress(operation), back)
    } catch (e) {
      if (!isQualinkError(e) || e.code !== 'QLK_RECONCILIATION_OFF') throw e
      return answer(req, reply, 409, refusal(`Not started: ${e.message}.`), back)
    }
  })

  ui.post('/ui/runs/:id/cancel', guarded, async (req: Req, reply) => {
    const body = req.body ?? {}
    const back = {
      href: `/ui/runs/${encodeURIComponent(req.params.id)}`,
      active: '/ui/runs',
      msgTarget: '#run-cancel-msg',
    }
    const reason = reasonOf(body)
    if (!reason) return answer(req, reply, 422, refusal(`Not cancelled. ${REASON_RULE}`), back)
    await loadRunOrThrow(ctx, req.headers, req.params.id)
    const run = await engine.requestCancel(ctx.scopeOf(req.headers), req.params.id, reason, {
      actor: ctx.actorOf(req.headers, 'ui'),
      action: 'workflow.cancel_requested',
      subject: req.params.id,
      correlationId: null,
      payload: { runId: req.params.id, reason },
    })
    if (!run) return answer(req, reply, 409, refusal('The run is no longer active; nothing to cancel.'), back)
    ctx.wakeEngine()
    const note = html`<p class="ok">Cancellation requested by ${ctx.actorOf(req.headers, 'ui')}: “${reason}”.</p>`
    return answer(req, reply, 200, cancelSection(run, note), back)
  })
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isQualinkError, QualinkError } from '../../contracts/errors.ts'
import { refuseCrossSite } from '../../security/csrf.ts'
import { clearedSessionCookie, type DashboardLogin, sessionCookie } from '../../security/sessions.ts'
import type { ServerContext } from '../../server/context.ts'
import { field, isHtmx } from '../format.ts'
import { type Html, html, page } from '../html.ts'

/**
 * Dashboard login and logout. One message for every refused password, whether the id exists or
 * not (OWASP Authentication Cheat Sheet, "Authentication and error messages"); a locked id or
 * address is told to wait, which reveals nothing either since unknown ids lock the same way.
 */
const REFUSED = 'Login failed: the user id or password is not correct.'
const DEFAULT_NEXT = '/ui'
/** audit entries of logins belong to no plant: an auditor of all plants sees them */
const NO_PLANT = '*'

/** Where to go after login: a dashboard path of this server only (no open redirect). */
export function safeNext(next: unknown): string {
  const n = field(next, 500)
  // `%2e%2e` is a dot segment too (WHATWG URL): neither may climb out of /ui.
  if (!/^\/ui(\/[\w\-./%?=&]*)?$/.test(n) || /\/\/|\.\.|%2e|^\/ui\/login/i.test(n)) return DEFAULT_NEXT
  return n
}

function loginForm(next: string, message?: Html): Html {
  return html`${message ?? ''}<form class="login" method="post" action="/ui/login">
<input type="hidden" name="next" value="${next}">
<p><label>User id<br><input name="user" autocomplete="username" required maxlength="64" autofocus></label></p>
<p><label>Password<br><input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label></p>
<p><button type="submit">Log in</button></p>
</form>`
}

function sendLogin(reply: FastifyReply, status: number, next: string, message?: Html): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page('Log in', '', loginForm(next, message), { nav: false }))
}

function loginOrThrow(ctx: ServerContext): DashboardLogin {
  const login = ctx.authenticator.dashboard
  if (!login)
    throw new QualinkError('QLK_NOT_FOUND', 'Dashboard login is not configured (no QUALINK_USERS_FILE).')
  return login
}

const signedIn = new WeakMap<FastifyRequest, string>()

/** The signed-in person's name for the page header, when the request stands on a session. */
export function signedInAs(req: FastifyRequest): string | undefined {
  return signedIn.get(req)
}

function secure(req: FastifyRequest, login: DashboardLogin): boolean {
  return req.protocol === 'https' || login.policy.secureCookie
}

type Body = Record<string, unknown> | undefined

export function registerLoginRoutes(ui: FastifyInstance, ctx: ServerContext): void {
  // Remembers who is signed in for the page header (the onRequest hook already resolved it).
  ui.addHook('preHandler', async (req) => {
    if (!ctx.authenticator.dashboard || req.routeOptions.url === '/ui/login') return
    const who = safePrincipal(ctx, req)
    if (who?.via === 'session') signedIn.set(req, who.name ?? who.id)
  })

  ui.get<{ Querystring: { next?: string } }>('/ui/login', async (req, reply) => {
    loginOrThrow(ctx)
    return sendLogin(reply, 200, safeNext(req.query.next))
  })

  ui.post<{ Body: Body }>('/ui/login', { onRequest: refuseCrossSite }, async (req, reply) => {
    const login = loginOrThrow(ctx)
    const body = req.body ?? {}
    const userId = field(body.user, 64)
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : ''
    const next = safeNext(body.next)
    const ip = req.ip || 'unknown'
    if (!userId || !password)
      return sendLogin(reply, 422, next, html`<p class="error">Enter a user id and a password.</p>`)
    const r = await login.attempt(userId, password, ip)
    if (!r.ok) {
      // The attempted id and the address are kept; the password never is.
      await ctx.store.appendAudit([
        {
          plant: NO_PLANT,
          actor: `ui:${userId}`,
          action: 'dashboard.login_failed',
          subject: `user:${userId}`,
          correlationId: req.id,
          payload: { user: userId, ip, reason: r.reason },
        },
      ])
      if (r.reason === 'locked') {
        const minutes = Math.max(1, Math.ceil((r.retryAfterMs ?? 0) / 60_000))
        reply.header('retry-after', String(Math.ceil((r.retryAfterMs ?? 0) / 1000)))
        return sendLogin(
          reply,
          429,
          next,
          html`<p class="error">Too many failed logins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.</p>`,
        )
      }
      return sendLogin(reply, 401, next, html`<p class="error">${REFUSED}</p>`)
    }
    await ctx.store.appendAudit([
      {
        plant: NO_PLANT,
        actor: `ui:${r.user.id}`,
        action: 'dashboard.login',
        subject: `user:${r.user.id}`,
        correlationId: req.id,
        payload: { user: r.user.id, ip, roles: r.user.roles, plants: r.user.plants },
      },
    ])
    return reply
      .header('set-cookie', sessionCookie(r.sessionId, secure(req, login)))
      .header('cache-control', 'no-store')
      .redirect(next, 303)
  })

  ui.post('/ui/logout', { onRequest: refuseCrossSite }, async (req, reply) => {
    const login = loginOrThrow(ctx)
    const ended = await login.logout(req.headers.cookie)
    if (ended) {
      await ctx.store.appendAudit([
        {
          plant: NO_PLANT,
          actor: `ui:${ended.userId}`,
          action: 'dashboard.logout',
          subject: `user:${ended.userId}`,
          correlationId: req.id,
          payload: { user: ended.userId, ip: req.ip || 'unknown' },
        },
      ])
    }
    return reply.header('set-cookie', clearedSessionCookie(secure(req, login))).redirect('/ui/login', 303)
  })
}

function safePrincipal(ctx: ServerContext, req: FastifyRequest) {
  try {
    return ctx.authenticator.principal(req.headers)
  } catch (e) {
    // public routes (the assets) carry no caller
    if (isQualinkError(e) && e.code === 'QLK_UNAUTHENTICATED') return undefined
    throw e
  }
}

/**
 * For a dashboard request refused for want of credentials while login is configured: the
 * browser goes to the login form (and back afterwards); an htmx request is told to do the same.
 */
export function sendToLogin(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): boolean {
  if (!ctx.authenticator.dashboard) return false
  if (isHtmx(req.headers)) {
    // A fragment's own URL is no place to land: come back to the page the browser shows.
    const current = req.headers['hx-current-url']
    const shown = typeof current === 'string' && URL.canParse(current) ? new URL(current) : undefined
    const back = safeNext(shown ? shown.pathname + shown.search : DEFAULT_NEXT)
    reply
      .code(401)
      .header('hx-redirect', `/ui/login?next=${encodeURIComponent(back)}`)
      .send('')
    return true
  }
  // A form posted after the session ended is not carried out: log in again, then redo it.
  const next = req.method === 'GET' || req.method === 'HEAD' ? safeNext(req.url) : DEFAULT_NEXT
  reply.redirect(`/ui/login?next=${encodeURIComponent(next)}`, 303)
  return true
}

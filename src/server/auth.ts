import { createHash, timingSafeEqual } from 'node:crypto'
import { QualinkError } from '../contracts/errors.ts'
import { looksLikeJwt, type OidcConfig, OidcVerifier } from '../security/oidc.ts'
import type { DashboardLogin } from '../security/sessions.ts'
import type { Scope } from '../store/types.ts'

/** Roles of issue 10: who may read, replay, sign, administer, audit. */
export const ROLES = ['viewer', 'operator', 'approver', 'admin', 'auditor'] as const
export type Role = (typeof ROLES)[number]

/** An API key as configured: only its SHA-256 is kept (keys are long random tokens, not passwords). */
export interface ApiKeyConfig {
  readonly id: string
  /** hex SHA-256 of the key */
  readonly sha256: string
  readonly roles: readonly Role[]
  /** plants this key may see; `*` for all */
  readonly plants: readonly string[]
}

export interface Principal {
  readonly id: string
  readonly roles: ReadonlySet<Role>
  readonly scope: Scope
  /** how the caller proved who it is */
  readonly via: 'none' | 'api-key' | 'oidc' | 'session'
  /** the person's name from the identity provider (OIDC) or the users file (dashboard session) */
  readonly name?: string
  /** when the person last authenticated at the provider, epoch ms (OIDC only) */
  readonly authenticatedAtMs?: number
}

type Headers = Record<string, string | string[] | undefined>

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

function presented(headers: Headers): string | undefined {
  const auth = headers.authorization
  if (typeof auth === 'string' && /^Bearer\s+\S+$/i.test(auth)) return auth.replace(/^Bearer\s+/i, '')
  const key = headers['x-api-key']
  return typeof key === 'string' && key ? key : undefined
}

function isRole(r: unknown): r is Role {
  return (ROLES as readonly unknown[]).includes(r)
}

function scopeOf(plants: readonly string[], who: string): Scope {
  return plants.includes('*') ? { allPlants: true, reason: who } : { plants: [...plants] }
}

/** Refuses a key whose hash, roles or plants are malformed, naming the key and the field. */
function checkKey(k: ApiKeyConfig, i: number): void {
  const at = `/apiKeys/${i}`
  const bad = (path: string, message: string) =>
    new QualinkError('QLK_CONFIG_INVALID', `API key ${k.id ?? i}: ${message}`, [
      { path: `${at}${path}`, message },
    ])
  if (typeof k.id !== 'string' || k.id === '') throw bad('/id', 'id must be a non-empty string')
  if (typeof k.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(k.sha256))
    throw bad('/sha256', 'sha256 must be 64 hex digits (the hex SHA-256 of the key)')
  if (!Array.isArray(k.roles)) throw bad('/roles', `roles must be a list of ${ROLES.join(', ')}`)
  for (const [j, r] of k.roles.entries()) {
    if (!isRole(r)) throw bad(`/roles/${j}`, `role "${String(r)}" is not one of ${ROLES.join(', ')}`)
  }
  if (!Array.isArray(k.plants) || k.plants.some((p) => typeof p !== 'string' || p === ''))
    throw bad('/plants', 'plants must be a list of plant codes, or ["*"] for all')
}

/**
 * Resolves callers from their API key or their OIDC bearer token. Without either configured
 * Qualink is a loopback-only deployment: every caller sees every plant (startQualink refuses a
 * non-loopback bind then). A JWT is verified asynchronously once per request by `authenticate`
 * (the onRequest hook); `principal` then answers from that result for the same headers object.
 */
export class Authenticator {
  private readonly keys: ReadonlyArray<ApiKeyConfig & { digest: Buffer }>
  private readonly oidc: OidcVerifier | undefined
  private readonly verified = new WeakMap<object, Principal>()
  /** dashboard users and their sessions (security/sessions.ts); honoured on /ui routes only */
  readonly dashboard: DashboardLogin | undefined

  constructor(keys: readonly ApiKeyConfig[], opts: { oidc?: OidcConfig; dashboard?: DashboardLogin } = {}) {
    this.keys = keys.map((k, i) => {
      checkKey(k, i)
      return { ...k, digest: Buffer.from(k.sha256, 'hex') }
    })
    this.oidc = opts.oidc ? new OidcVerifier(opts.oidc) : undefined
    this.dashboard = opts.dashboard?.configured ? opts.dashboard : undefined
  }

  get enabled(): boolean {
    return this.keys.length > 0 || this.oidc !== undefined || this.dashboard !== undefined
  }

  /**
   * The caller of a request, verifying a bearer JWT against the JWKS when one is presented.
   * On dashboard routes (`dashboard`), a request without a key or token may stand on its session
   * cookie; `touch: false` (polling partials) leaves the session's idle clock alone.
   */
  async authenticate(
    headers: Headers,
    where: { dashboard?: boolean; touch?: boolean } = {},
  ): Promise<Principal> {
    const known = this.verified.get(headers)
    if (known) return known
    const token = presented(headers)
    if (!token && where.dashboard && this.dashboard) {
      const p = await this.dashboard.principalOf(headers.cookie, where.touch ?? true)
      if (p) {
        this.verified.set(headers, p)
        return p
      }
    }
    const byKey = this.byApiKey(token)
    if (byKey || !this.oidc || !token || !looksLikeJwt(token)) return this.principal(headers)
    const t = await this.oidc.verify(token)
    const p: Principal = {
      id: t.subject,
      roles: new Set(t.roles.filter(isRole)),
      scope: scopeOf(t.plants, `oidc ${t.subject}`),
      via: 'oidc',
      name: t.name,
      authenticatedAtMs: t.authenticatedAtMs,
    }
    this.verified.set(headers, p)
    return p
  }

  /** The caller, or a QLK_UNAUTHENTICATED error when authentication is on and nothing matches. */
  principal(headers: Headers): Principal {
    if (!this.enabled) {
      return {
        id: 'anonymous',
        roles: new Set(ROLES),
        scope: { allPlants: true, reason: 'no authentication configured: loopback-only deployment' },
        via: 'none',
      }
    }
    const known = this.verified.get(headers)
    if (known) return known
    const key = presented(headers)
    const found = this.byApiKey(key)
    if (!found) {
      throw new QualinkError(
        'QLK_UNAUTHENTICATED',
        key ? 'the API key or bearer token is not valid' : 'an API key or bearer token is required',
        [
          {
            path: '/headers/authorization',
            message: 'send Authorization: Bearer <api key or token> (or X-API-Key)',
          },
        ],
      )
    }
    return {
      id: found.id,
      roles: new Set(found.roles),
      scope: scopeOf(found.plants, `api key ${found.id}`),
      via: 'api-key',
    }
  }

  private byApiKey(key: string | undefined): (typeof this.keys)[number] | undefined {
    if (!key) return undefined
    const digest = createHash('sha256').update(key).digest()
    // Every configured key is compared, in constant time, whatever matched first.
    let found: (typeof this.keys)[number] | undefined
    for (const k of this.keys) if (timingSafeEqual(digest, k.digest)) found = k
    return found
  }
}

const UI_ASSETS = new Set(['/ui/style.css', '/ui/htmx.min.js', '/ui/favicon.svg'])

/** Which role a request needs, by method and route: reading is viewer; effects need more. */
export function requiredRole(method: string, route: string): Role | 'public' | 'signed' {
  if (route === '/healthz' || route === '/readyz' || route === '/openapi.json') return 'public'
  // The login form, and the assets it needs to render, come before any credentials.
  if (route === '/ui/login' || route === '/ui/logout' || UI_ASSETS.has(route)) return 'public'
  if (route.startsWith('/v1/ingress/')) return 'signed' // webhooks authenticate by their signature
  // Reading the audit trail is the auditor's (issue 10 item 2), on the API and the dashboard alike.
  if (route === '/v1/audit/verify' || route === '/ui/audit' || route.endsWith('/evidence')) return 'auditor'
  // The mass release page and its forms are a quality approver's (the API's selection too).
  if (route === '/ui/mass-release' || route.startsWith('/ui/mass-release/')) return 'approver'
  if (method === 'GET' || method === 'HEAD') return 'viewer'
  if (route === '/v1/signatures') return 'approver' // a quality approver signs (21 CFR 11.50)
  if (route === '/ui/exceptions/bulk/sign') return 'approver' // the dashboard's signing of a bulk replay
  // a bulk replay's dry run changes nothing: whoever sees the exceptions (approvers who sign it too)
  if (route === '/ui/exceptions/bulk/preview') return 'viewer'
  if (route.startsWith('/v1/lots/mass-release')) return 'approver' // selecting and signing a mass release
  // discarding, identity maps and asking for a reconciliation pass are the integration admin's
  if (route.endsWith('/discard') || route.startsWith('/v1/xref') || route.endsWith('/reconcile'))
    return 'admin'
  return 'operator' // ingest, replay, bulk replay, cancel
}

export function hasRole(p: Principal, role: Role): boolean {
  // An admin may do what an operator or viewer may; auditors and approvers read too.
  if (p.roles.has(role)) return true
  if (role === 'viewer') return p.roles.size > 0
  if (role === 'operator') return p.roles.has('admin')
  return false
}

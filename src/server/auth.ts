import { createHash, timingSafeEqual } from 'node:crypto'
import { QualinkError } from '../contracts/errors.ts'
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

/**
 * Resolves callers from their API key. Without configured keys Qualink is a loopback-only
 * deployment: every caller sees every plant (startQualink refuses a non-loopback bind then).
 */
export class Authenticator {
  private readonly keys: ReadonlyArray<ApiKeyConfig & { digest: Buffer }>

  constructor(keys: readonly ApiKeyConfig[]) {
    this.keys = keys.map((k) => {
      if (!/^[0-9a-f]{64}$/.test(k.sha256)) {
        throw new QualinkError('QLK_CONFIG_INVALID', `API key ${k.id}: sha256 must be 64 hex digits`, [
          { path: `/apiKeys/${k.id}/sha256`, message: 'must be the hex SHA-256 of the key' },
        ])
      }
      return { ...k, digest: Buffer.from(k.sha256, 'hex') }
    })
  }

  get enabled(): boolean {
    return this.keys.length > 0
  }

  /** The caller, or a QLK_UNAUTHENTICATED error when keys are configured and none matches. */
  principal(headers: Headers): Principal {
    if (!this.enabled) {
      return {
        id: 'anonymous',
        roles: new Set(ROLES),
        scope: { allPlants: true, reason: 'no authentication configured: loopback-only deployment' },
      }
    }
    const key = presented(headers)
    const digest = key ? createHash('sha256').update(key).digest() : undefined
    // Every configured key is compared, in constant time, whatever matched first.
    let found: (typeof this.keys)[number] | undefined
    for (const k of this.keys) if (digest && timingSafeEqual(digest, k.digest)) found = k
    if (!found) {
      throw new QualinkError(
        'QLK_UNAUTHENTICATED',
        key ? 'the API key is not valid' : 'an API key is required',
        [{ path: '/headers/authorization', message: 'send Authorization: Bearer <api key> (or X-API-Key)' }],
      )
    }
    return {
      id: found.id,
      roles: new Set(found.roles),
      scope: found.plants.includes('*')
        ? { allPlants: true, reason: `api key ${found.id}` }
        : { plants: [...found.plants] },
    }
  }
}

/** Which role a request needs, by method and route: reading is viewer; effects need more. */
export function requiredRole(method: string, route: string): Role | 'public' | 'signed' {
  if (route === '/healthz' || route === '/readyz' || route === '/openapi.json') return 'public'
  if (route.startsWith('/v1/ingress/')) return 'signed' // webhooks authenticate by their signature
  if (route === '/v1/audit/verify' || route.endsWith('/evidence')) return 'auditor'
  if (method === 'GET' || method === 'HEAD') return 'viewer'
  if (route.endsWith('/discard') || route.startsWith('/v1/xref')) return 'admin'
  return 'operator' // ingest, replay, bulk replay, cancel
}

export function hasRole(p: Principal, role: Role): boolean {
  // An admin may do what an operator or viewer may; auditors and approvers read too.
  if (p.roles.has(role)) return true
  if (role === 'viewer') return p.roles.size > 0
  if (role === 'operator') return p.roles.has('admin')
  return false
}

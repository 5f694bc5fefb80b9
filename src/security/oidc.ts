import type { createRemoteJWKSet, JWTPayload } from 'jose'

type Jose = typeof import('jose')
/**
 * jose is imported on the first token verified: a Qualink without OIDC (the demo, API keys only)
 * does not load its ~46 modules at start-up (counted 2026-11-29).
 */
let joseModule: Promise<Jose> | undefined
const jose = (): Promise<Jose> => (joseModule ??= import('jose'))

import { QualinkError } from '../contracts/errors.ts'

/** An OpenID Connect provider whose access tokens Qualink accepts as bearer tokens. */
export interface OidcConfig {
  /** the `iss` every token must carry, exactly */
  readonly issuer: string
  /** the `aud` (one of) every token must carry: Qualink's client or API identifier */
  readonly audience: string | readonly string[]
  /** where the provider publishes its signing keys (RFC 7517 JWK Set) */
  readonly jwksUrl: string
  /** signature algorithms accepted; never `none`, never a shared-secret HS* (a JWKS is public) */
  readonly algorithms?: readonly string[]
  /** leeway for `exp`/`nbf`/`iat` between our clock and the provider's (default 30 s) */
  readonly clockToleranceSeconds?: number
  /** claim holding the roles, dotted for nested claims such as Keycloak's `realm_access.roles` */
  readonly rolesClaim?: string
  /** claim holding the plants (`*` for all) */
  readonly plantsClaim?: string
  /** claim holding the person's printed name (for e-signatures) */
  readonly nameClaim?: string
}

/** The asymmetric JWS algorithms of RFC 7518 §3.1 (and EdDSA, RFC 8037) a JWKS can verify. */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA']

export interface VerifiedToken {
  readonly subject: string
  readonly roles: readonly string[]
  readonly plants: readonly string[]
  readonly name: string | undefined
  /** when the person last authenticated (`auth_time`, else `iat`), epoch ms */
  readonly authenticatedAtMs: number | undefined
}

function invalid(path: string, message: string): QualinkError {
  return new QualinkError('QLK_CONFIG_INVALID', `oidc.${path.slice(1)}: ${message}`, [
    { path: `/oidc${path}`, message },
  ])
}

export function validateOidcConfig(c: OidcConfig): void {
  if (typeof c.issuer !== 'string' || c.issuer === '') throw invalid('/issuer', 'must be the issuer URL')
  const aud = typeof c.audience === 'string' ? [c.audience] : c.audience
  if (!Array.isArray(aud) || aud.length === 0 || aud.some((a) => typeof a !== 'string' || a === ''))
    throw invalid('/audience', 'must be a non-empty string or list of strings')
  if (!/^https?:\/\/\S+$/.test(c.jwksUrl ?? '')) throw invalid('/jwksUrl', 'must be an http(s) URL')
  for (const [i, a] of (c.algorithms ?? []).entries()) {
    // `none` would accept unsigned tokens; HS* would need the provider's shared secret (RFC 8725 §3.1, §3.2).
    if (!ASYMMETRIC.includes(a))
      throw invalid(`/algorithms/${i}`, `"${a}" is not allowed; use one of ${ASYMMETRIC.join(', ')}`)
  }
  const tol = c.clockToleranceSeconds
  if (tol !== undefined && (!Number.isInteger(tol) || tol < 0 || tol > 300))
    throw invalid('/clockToleranceSeconds', 'must be an integer from 0 to 300')
}

function claimAt(payload: JWTPayload, dotted: string): unknown {
  let v: unknown = payload
  for (const part of dotted.split('.'))
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined
  return v
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean)
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

/** Why a token was refused, in words a caller can act on; jose's codes are stable (jose/util/errors). */
function refusal(e: unknown, errors: Jose['errors']): QualinkError {
  const code = (e as { code?: string }).code
  if (e instanceof errors.JWKSTimeout || (code === undefined && e instanceof TypeError))
    return new QualinkError('QLK_AUTH_UNAVAILABLE', 'the identity provider’s JWKS could not be fetched', [], {
      cause: e,
    })
  const detail =
    e instanceof errors.JWTExpired
      ? 'the bearer token has expired'
      : e instanceof errors.JWTClaimValidationFailed
        ? `the bearer token's "${e.claim}" claim is not accepted (${e.reason})`
        : e instanceof errors.JOSEAlgNotAllowed
          ? 'the bearer token is signed with an algorithm that is not allowed'
          : e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWSSignatureVerificationFailed
            ? 'the bearer token is not signed by the configured identity provider'
            : 'the bearer token is not a valid JWT'
  return new QualinkError('QLK_UNAUTHENTICATED', detail, [
    { path: '/headers/authorization', message: `${detail}${code ? ` (${code})` : ''}` },
  ])
}

/** Verifies bearer JWTs against the provider's JWKS (fetched, cached and refreshed by jose). */
export class OidcVerifier {
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined

  constructor(private readonly config: OidcConfig) {
    validateOidcConfig(config)
  }

  async verify(token: string): Promise<VerifiedToken> {
    const c = this.config
    const { createRemoteJWKSet, errors, jwtVerify } = await jose()
    this.jwks ??= createRemoteJWKSet(new URL(c.jwksUrl), { timeoutDuration: 5000 })
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, this.jwks, {
        issuer: c.issuer,
        audience: typeof c.audience === 'string' ? c.audience : [...c.audience],
        algorithms: [...(c.algorithms ?? DEFAULT_ALGORITHMS)],
        clockTolerance: c.clockToleranceSeconds ?? 30,
        // A token without an expiry would never stop working.
        requiredClaims: ['exp', 'sub'],
      }))
    } catch (e) {
      throw refusal(e, errors)
    }
    const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : payload.iat
    const name = claimAt(payload, c.nameClaim ?? 'name')
    return {
      subject: String(payload.sub),
      roles: strings(claimAt(payload, c.rolesClaim ?? 'roles')),
      plants: strings(claimAt(payload, c.plantsClaim ?? 'plants')),
      name: typeof name === 'string' && name ? name : undefined,
      authenticatedAtMs: typeof authTime === 'number' ? authTime * 1000 : undefined,
    }
  }
}

/** A compact JWS (header.payload.signature), as opposed to an opaque API key. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)
}

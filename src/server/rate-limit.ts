/**
 * Per-caller rate limits (issue 10 item 6; OWASP API4 "unrestricted resource consumption"): a
 * token bucket per API key and per OIDC subject on /v1, per dashboard user on /ui, and per webhook
 * source on /v1/ingress (counted after its signature checked, so nobody without the secret can
 * spend a source's budget). On PostgreSQL the buckets live
 * in the store's shared `rate_limits` table (migration 0009, the egress limits' table, refilled
 * on the database clock), so N API processes together keep one rate per caller; on SQLite (one
 * process) they are kept in memory. Over the limit: 429 QLK_RATE_LIMITED with Retry-After
 * (RFC 9110 §10.2.3, delay-seconds).
 */
import { type RateLimitSettings, type SharedLimits, TokenBucket } from '../connectors/sdk/rate-limit.ts'
import { QualinkError } from '../contracts/errors.ts'
import type { Principal } from './auth.ts'

export interface ApiLimitSettings extends RateLimitSettings {
  /**
   * a caller with its own rate, e.g. a bulk importer: an API key id, a token subject, a dashboard
   * user id, or `source:<name>` for a webhook source
   */
  readonly callers?: Readonly<Record<string, RateLimitSettings>>
  /** every webhook source's rate unless `callers['source:<name>']` says otherwise */
  readonly webhooks?: RateLimitSettings
  /**
   * false: each process keeps its own buckets even on PostgreSQL (N processes allow N times the
   * rate). Sharing costs a row-locked transaction per request: measured +2.1 ms per sequential
   * request, and one key's parallel requests serialized on its row (docs/operations.md)
   */
  readonly shared?: boolean
}

/** Generous for people and integrations; a runaway script is held to it. */
export const DEFAULT_API_LIMITS: ApiLimitSettings = { ratePerSecond: 50, burst: 100 }

/**
 * Per webhook source: far above what one plant system sends (a shift-change burst of thousands of
 * goods movements fits the burst), low enough that one runaway sender cannot take the ingest path
 * from the others. Over it the sender gets 429 with Retry-After and retries; nothing is stored.
 */
export const DEFAULT_WEBHOOK_LIMITS: RateLimitSettings = { ratePerSecond: 1_000, burst: 5_000 }

/** in-memory buckets kept at most; the least recently used goes past it (bounds memory) */
const MAX_BUCKETS = 10_000

export class ApiRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly shared: SharedLimits | undefined

  constructor(
    private readonly settings: ApiLimitSettings,
    shared?: SharedLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.shared = settings.shared === false ? undefined : shared
    for (const s of [
      settings,
      settings.webhooks ?? DEFAULT_WEBHOOK_LIMITS,
      ...Object.values(settings.callers ?? {}),
    ])
      if (!(s.ratePerSecond > 0) || !(s.burst >= 1))
        throw new QualinkError(
          'QLK_CONFIG_INVALID',
          'server.limits: ratePerSecond must be > 0 and burst >= 1',
          [{ path: '/server/limits', message: 'ratePerSecond > 0 and burst >= 1' }],
        )
  }

  /**
   * The bucket of a caller: keys, subjects and dashboard users apart, so an API key id never
   * shares a subject's or a user's.
   */
  static keyOf(p: Principal): string | undefined {
    if (p.via === 'api-key') return `api:key:${p.id}`
    if (p.via === 'oidc') return `api:sub:${p.id}`
    if (p.via === 'session') return `ui:user:${p.id}`
    return undefined // no authentication (loopback-only)
  }

  /**
   * Takes a token for the caller, or throws QLK_RATE_LIMITED carrying the wait, after setting the
   * answer's Retry-After (RFC 9110 §10.2.3) on `reply`.
   */
  async admit(p: Principal, reply?: RetryAfterTarget): Promise<void> {
    const key = ApiRateLimiter.keyOf(p)
    if (!key) return
    const s = this.settings.callers?.[p.id] ?? this.settings
    const what = p.via === 'api-key' ? 'API key' : p.via === 'oidc' ? 'token subject' : 'dashboard user'
    await this.take(key, s, `${what} ${p.id}`, '/headers/authorization', reply)
  }

  /** Takes a token for a webhook source whose signature was verified, or throws QLK_RATE_LIMITED. */
  async admitSource(source: string, reply?: RetryAfterTarget): Promise<void> {
    const s = this.settings.callers?.[`source:${source}`] ?? this.settings.webhooks ?? DEFAULT_WEBHOOK_LIMITS
    await this.take(`ingress:source:${source}`, s, `webhook source ${source}`, `/params/source`, reply)
  }

  private async take(
    key: string,
    s: RateLimitSettings,
    who: string,
    path: string,
    reply: RetryAfterTarget | undefined,
  ): Promise<void> {
    const waitMs = this.shared ? (await this.shared.reserve(key, s)).waitMs : this.local(key, s)
    if (waitMs <= 0) return
    const e = new RateLimited(
      `${who} is over its limit of ${s.ratePerSecond} requests/s (burst ${s.burst})`,
      waitMs,
      path,
    )
    reply?.header('retry-after', String(e.retryAfterSeconds))
    throw e
  }

  private local(key: string, s: RateLimitSettings): number {
    let b = this.buckets.get(key)
    if (b) this.buckets.delete(key)
    else b = new TokenBucket(s, this.now())
    this.buckets.set(key, b) // most recently used last
    if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string)
    return b.reserve(this.now()).waitMs
  }
}

/** Where the limiter sets Retry-After (a Fastify reply). */
export interface RetryAfterTarget {
  header(name: string, value: string): unknown
}

export class RateLimited extends QualinkError {
  /** whole seconds to wait, for the Retry-After header */
  readonly retryAfterSeconds: number
  constructor(detail: string, waitMs: number, path = '/headers/authorization') {
    super('QLK_RATE_LIMITED', detail, [{ path, message: `retry after ${Math.ceil(waitMs / 1000)} s` }])
    this.retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000))
  }
}

/** qualink.yaml `server.limits` over the defaults */
export function apiLimitsFrom(l?: {
  readonly ratePerSecond?: number
  readonly burst?: number
  readonly callers?: Readonly<Record<string, RateLimitSettings>>
  readonly webhooks?: RateLimitSettings
  readonly shared?: boolean
}): ApiLimitSettings {
  return {
    ratePerSecond: l?.ratePerSecond ?? DEFAULT_API_LIMITS.ratePerSecond,
    burst: l?.burst ?? DEFAULT_API_LIMITS.burst,
    callers: l?.callers,
    webhooks: l?.webhooks,
    shared: l?.shared,
  }
}

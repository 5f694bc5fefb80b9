/**
 * OData v2 over the SDK egress client, the way S/4HANA's Gateway wants it: an `x-csrf-token`
 * fetched with a GET before the first modifying call and fetched again when a call answers 403
 * "Required" (session timeout); If-Match with the entity's ETag on changes (quality-domain.md §1.4);
 * `{ d: { results } }` / `{ d: {...} }` bodies.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { EgressClient, EgressResponse, HttpMethod } from '../../sdk/egress.ts'
import { EgressFailure, RemoteRejected } from '../../sdk/http-errors.ts'

export type ODataEntity = Record<string, unknown> & { __metadata?: { etag?: string } }

/** `'x'` with quotes doubled, as an OData v2 string literal. */
export function literal(v: string): string {
  return `'${v.replace(/'/g, "''")}'`
}

/** `$filter` of `field eq 'value'` clauses joined by `and`, percent-encoded. */
export function filterQuery(eq: Record<string, string>, extra: Record<string, string> = {}): string {
  const filter = Object.entries(eq)
    .map(([k, v]) => `${k} eq ${literal(v)}`)
    .join(' and ')
  const parts = [`$filter=${encodeURIComponent(filter)}`]
  for (const [k, v] of Object.entries(extra)) parts.push(`${k}=${encodeURIComponent(v)}`)
  return parts.join('&')
}

export class ODataClient {
  private csrf: string | undefined
  private cookie: string | undefined

  constructor(
    private readonly egress: EgressClient,
    private readonly baseUrl: string,
    private readonly authHeader: string | undefined,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra }
    if (this.authHeader) h.authorization = this.authHeader
    if (this.cookie) h.cookie = this.cookie
    return h
  }

  async get(
    path: string,
    opts: { accept?: number[]; traceparent?: string; context: string; headers?: Record<string, string> },
  ): Promise<EgressResponse> {
    return this.egress.request({
      method: 'GET',
      url: `${this.baseUrl}${path}`,
      headers: this.headers(opts.headers),
      accept: opts.accept,
      traceparent: opts.traceparent,
      context: opts.context,
    })
  }

  async getEntity(path: string, context: string, traceparent?: string): Promise<ODataEntity | null> {
    const res = await this.get(path, { accept: [404], traceparent, context })
    if (res.status === 404) return null
    return entityOf(res, context)
  }

  async getCollection(path: string, context: string, traceparent?: string): Promise<ODataEntity[]> {
    const res = await this.get(path, { traceparent, context })
    const body = res.json<{ d?: { results?: unknown } }>()
    if (!Array.isArray(body.d?.results))
      throw new EgressFailure('QLK_REMOTE_INVALID_RESPONSE', `${context}: no d.results in the answer`, {
        ambiguous: false,
      })
    return body.d.results as ODataEntity[]
  }

  private async fetchToken(service: string, traceparent?: string): Promise<string> {
    const res = await this.get(`${service}/`, {
      traceparent,
      context: 'fetch x-csrf-token',
      headers: { 'x-csrf-token': 'fetch' },
    })
    const token = res.headers.get('x-csrf-token')
    const setCookie = res.headers.getSetCookie()
    if (setCookie.length > 0) this.cookie = setCookie.map((c) => c.split(';')[0]).join('; ')
    if (!token || token.toLowerCase() === 'required')
      throw new EgressFailure('QLK_REMOTE_INVALID_RESPONSE', 'Gateway issued no x-csrf-token', {
        ambiguous: false,
      })
    this.csrf = token
    return token
  }

  /** A modifying call; refreshes the CSRF token once on 403 "Required" (nothing was applied then). */
  async modify(
    method: Exclude<HttpMethod, 'GET'>,
    service: string,
    path: string,
    body: unknown,
    opts: { etag?: string; traceparent?: string; context: string; accept?: number[] },
  ): Promise<EgressResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = this.csrf ?? (await this.fetchToken(service, opts.traceparent))
      const headers: Record<string, string> = { 'x-csrf-token': token }
      if (opts.etag) headers['if-match'] = opts.etag
      const res = await this.egress.request({
        method,
        url: `${this.baseUrl}${service}${path}`,
        headers: this.headers(headers),
        json: body,
        accept: [403, ...(opts.accept ?? [])],
        traceparent: opts.traceparent,
        context: opts.context,
      })
      if (
        res.status === 403 &&
        res.headers.get('x-csrf-token')?.toLowerCase() === 'required' &&
        attempt === 0
      ) {
        this.csrf = undefined
        continue
      }
      if (res.status === 403)
        throw new EgressFailure('QLK_REMOTE_UNAVAILABLE', `${opts.context}: 403 after a fresh CSRF token`, {
          ambiguous: false,
          status: 403,
        })
      return res
    }
  }
}

export function entityOf(res: EgressResponse, context: string): ODataEntity {
  const body = res.json<{ d?: unknown }>()
  if (typeof body.d !== 'object' || body.d === null)
    throw new EgressFailure('QLK_REMOTE_INVALID_RESPONSE', `${context}: no d in the answer`, {
      ambiguous: false,
    })
  return body.d as ODataEntity
}

export function etagOf(e: ODataEntity): string | undefined {
  return e.__metadata?.etag
}

export function text(e: ODataEntity, field: string): string {
  const v = e[field]
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v)
}

/**
 * The If-Match rule for one change (quality-domain.md §1.4: concurrency is checked on write): a
 * 412 means someone changed the entity since it was read, so the caller reads it again and, if
 * the change is still wanted, retries once with the fresh ETag. A second 412 means it keeps
 * changing under Qualink: a permanent QLK_REMOTE_CONFLICT for a person, not a third guess.
 */
export class StaleEtagRule {
  private stale = 0
  constructor(private readonly what: string) {}

  /** true when `e` is a 412 to answer by a re-read; throws on the second one */
  reread(e: unknown): boolean {
    if (!(e instanceof RemoteRejected && e.status === 412)) return false
    if (++this.stale > 1)
      throw new PermanentError(
        'QLK_REMOTE_CONFLICT',
        `${this.what}: changed in SAP again after a re-read (412 Precondition Failed twice); nothing more was sent`,
      )
    return true
  }
}

/**
 * The one outbound HTTP client every connector uses (DESIGN §5): allowlist before any connection,
 * the host resolved once and the connection pinned to the vetted address (no DNS rebinding;
 * address-policy.ts, pinned-http.ts),
 * circuit breaker and token bucket per target (scheme://host:port), a per-request timeout shorter
 * than the engine lease, a client span per request whose W3C traceparent is sent, redirects only
 * within the same origin, and every outcome classified as RetryableError / PermanentError for the
 * engine.
 *
 * It adds no Idempotency-Key semantics of its own: real ERPs ignore the header (DESIGN §6), so
 * connectors make effects idempotent by writing a reference and reading it back.
 */
import { PermanentError, tagFailedAt } from '../../engine/errors.ts'
import { activeTraceIds, startSpan } from '../../observability/tracing.ts'
import { type ResolvedAddress, type Resolver, systemResolver, vetHost } from './address-policy.ts'
import { type EgressAllowlist, originKey } from './allowlist.ts'
import { type BreakerSettings, CircuitBreaker, DEFAULT_BREAKER } from './circuit-breaker.ts'
import { type Clock, systemClock } from './clock.ts'
import {
  describeRemoteError,
  EgressFailure,
  networkFailure,
  parseRetryAfter,
  RemoteRejected,
} from './http-errors.ts'
import { type CallOutcome, type EgressMetrics, noopMetrics } from './metrics.ts'
import { type PinnedAgents, pinnedAgents, sendPinned } from './pinned-http.ts'
import {
  DEFAULT_RATE_LIMIT,
  type RateLimitSettings,
  type SharedLimitsRef,
  TokenBucket,
} from './rate-limit.ts'
import { DEFAULT_MAX_RESPONSE_BYTES, ResponseTooLarge } from './read-body.ts'

export const DEFAULT_TIMEOUT_MS = 10_000

export interface EgressOptions {
  /** connector instance name, for messages and metrics */
  readonly connector: string
  readonly allowlist: EgressAllowlist
  /** per request; must stay below the engine lease (30 s default) */
  readonly timeoutMs?: number
  readonly rateLimit?: RateLimitSettings
  readonly breaker?: BreakerSettings
  /** 429s retried here, after waiting Retry-After, before the failure goes to the engine */
  readonly rateLimitRetries?: number
  /** a Retry-After longer than this is not waited for here; the engine's backoff honours it */
  readonly maxInlineWaitMs?: number
  readonly maxRedirects?: number
  /** an answer larger than this is refused unread (default 16 MiB; OWASP API10) */
  readonly maxResponseBytes?: number
  readonly metrics?: EgressMetrics
  readonly clock?: Clock
  /** limits shared with the other processes on the same database, when bound */
  readonly shared?: SharedLimitsRef
  /** headers sent on every request (auth) */
  readonly defaultHeaders?: Readonly<Record<string, string>>
  /** DNS resolution (default: the system's); tests inject one to simulate DNS rebinding */
  readonly resolver?: Resolver
  /** PEM CA certificate(s) trusted for HTTPS targets besides the system's roots */
  readonly ca?: string | Buffer
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'MERGE' | 'DELETE'

export interface EgressRequest {
  readonly method: HttpMethod
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  /** sent as JSON */
  readonly json?: unknown
  /** a non-JSON body (IDoc-XML, form data) with its content type; ignored when `json` is set */
  readonly body?: { readonly contentType: string; readonly text: string }
  readonly timeoutMs?: number
  /**
   * W3C trace context of the caller, the parent of this call's span when no span is active;
   * with tracing off it is passed through unchanged
   */
  readonly traceparent?: string
  /** statuses the caller handles itself (e.g. 403 for a CSRF refresh, 404 for "not there") */
  readonly accept?: readonly number[]
  /** what the call does, for error messages ("post UD stock for lot 0100…") */
  readonly context?: string
}

export interface EgressResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  json<T = unknown>(): T
}

export class EgressClient {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly breakers = new Map<string, CircuitBreaker>()
  private readonly clock: Clock
  private readonly metrics: EgressMetrics
  private readonly agents: PinnedAgents
  readonly timeoutMs: number

  constructor(private readonly o: EgressOptions) {
    this.clock = o.clock ?? systemClock
    this.metrics = o.metrics ?? noopMetrics
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.agents = pinnedAgents(o.ca)
  }

  /**
   * The address a non-HTTP client of this connector (an MQTT publisher) must connect to for
   * `url`: the origin checked against the allowlist, the host resolved once and every answer
   * vetted as for HTTP, so the socket goes to the address that passed (no DNS rebinding).
   */
  async vetTarget(url: URL): Promise<ResolvedAddress> {
    this.o.allowlist.check(url, this.o.connector)
    return this.vetHost(url.hostname)
  }

  private vetHost(hostname: string): Promise<ResolvedAddress> {
    return vetHost(hostname, {
      resolver: this.o.resolver ?? systemResolver,
      explicit: this.o.allowlist.explicitAddresses,
      connector: this.o.connector,
    })
  }

  /** Current breaker state of a target (`scheme://host:port`), for health pages and tests. */
  circuitState(target: string): CircuitBreaker['state'] {
    return this.breakers.get(target)?.state ?? 'closed'
  }

  async request(req: EgressRequest): Promise<EgressResponse> {
    let url = new URL(req.url)
    let method = req.method
    let json = req.json
    let raw = req.body
    const context = req.context ?? `${req.method} ${url.pathname}`
    for (let redirects = 0; ; redirects++) {
      const res = await this.send(url, method, json, raw, req, context).catch((e: unknown) => {
        // a dead letter of this failure names the connector and target (src/engine/errors.ts)
        throw tagFailedAt(e, { connector: this.o.connector, target: originKey(url) })
      })
      if (res.status < 300 || res.status >= 400 || req.accept?.includes(res.status)) return res
      const location = res.headers.get('location')
      if (!location) return res
      const next = new URL(location, url)
      // Redirects are refused outside the origin, even to another allowlisted one: the admin
      // approved this connector's target, not wherever it points (OWASP SSRF: re-validate redirects).
      if (originKey(next) !== originKey(url))
        throw new PermanentError(
          'QLK_EGRESS_REDIRECT',
          `${this.o.connector}: ${context}: redirect to ${originKey(next)} refused (only ${originKey(url)})`,
        )
      if (redirects >= (this.o.maxRedirects ?? 3))
        throw new PermanentError('QLK_EGRESS_REDIRECT', `${this.o.connector}: ${context}: too many redirects`)
      if (res.status === 303) {
        method = 'GET'
        json = undefined
        raw = undefined
      }
      url = next
    }
  }

  private target(url: URL): { key: string; bucket: TokenBucket; breaker: CircuitBreaker } {
    const key = originKey(url)
    let bucket = this.buckets.get(key)
    if (!bucket) {
      bucket = new TokenBucket(this.o.rateLimit ?? DEFAULT_RATE_LIMIT, this.clock.now())
      this.buckets.set(key, bucket)
    }
    let breaker = this.breakers.get(key)
    if (!breaker) {
      const settings = this.o.breaker ?? DEFAULT_BREAKER
      breaker = new CircuitBreaker(settings, (state) => {
        this.metrics.circuitState({ connector: this.o.connector, target: key, state })
        // Tell the other processes, so they stay away too instead of finding out one by one.
        if (state === 'open') this.o.shared?.current?.openCircuit(key, settings.openMs).catch(() => {})
      })
      this.breakers.set(key, breaker)
    }
    return { key, bucket, breaker }
  }

  private async send(
    url: URL,
    method: HttpMethod,
    json: unknown,
    raw: EgressRequest['body'],
    req: EgressRequest,
    context: string,
  ): Promise<EgressResponse> {
    const where = `${this.o.connector}: ${context}`
    this.o.allowlist.check(url, this.o.connector)
    const t = this.target(url)
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.o.defaultHeaders,
      ...req.headers,
    }
    if (json !== undefined) headers['content-type'] = 'application/json'
    else if (raw !== undefined) headers['content-type'] = raw.contentType
    const body = json !== undefined ? JSON.stringify(json) : raw?.text
    const retries = this.o.rateLimitRetries ?? 2
    for (let attempt = 0; ; attempt++) {
      await this.admit(t, where)
      // One client span per request sent (a 429 retry is another), its own traceparent on the
      // wire (W3C Trace Context §2.2: each hop sends its span as the parent-id).
      const span = startSpan(`${method} ${this.o.connector}`, {
        kind: 'client',
        parent: activeTraceIds() ? undefined : req.traceparent,
        attributes: {
          'http.request.method': method,
          'url.full': `${url.origin}${url.pathname}`,
          'server.address': url.hostname,
          'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
          'http.request.resend_count': attempt > 0 ? attempt : undefined,
          'qualink.connector': this.o.connector,
          'qualink.egress.target': t.key,
          'qualink.egress.context': context,
        },
      })
      if (span.traceparent) headers.traceparent = span.traceparent
      const started = performance.now()
      const done = (outcome: CallOutcome, status?: number, code?: string) => {
        span.set({ 'http.response.status_code': status, 'qualink.egress.outcome': outcome })
        if (outcome !== 'ok') span.fail(undefined, code)
        span.end()
        this.metrics.call({
          connector: this.o.connector,
          target: t.key,
          method,
          status,
          outcome,
          code,
          durationMs: performance.now() - started,
        })
      }
      let res: Awaited<ReturnType<typeof sendPinned>>
      const timeout = req.timeoutMs ?? this.timeoutMs
      const abort = new AbortController()
      const timer = setTimeout(() => abort.abort(), timeout)
      try {
        // Resolved once per attempt; the socket goes to the address that passed (no rebinding).
        const to = await this.vetHost(url.hostname)
        res = await sendPinned(url, to, {
          method,
          headers,
          body,
          signal: abort.signal,
          maxBytes: this.o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
          agents: this.agents,
        })
      } catch (err) {
        if (err instanceof PermanentError) {
          done('permanent', undefined, err.code)
          throw err
        }
        if (err instanceof ResponseTooLarge) {
          // The remote answered; its answer is what is wrong, and the same request gets the same answer.
          t.breaker.success()
          done('permanent', undefined, 'QLK_REMOTE_TOO_LARGE')
          const applied = method !== 'GET' ? '; the request may have been applied: read back first' : ''
          throw new PermanentError('QLK_REMOTE_TOO_LARGE', `${where}: ${err.message}${applied}`, {
            cause: err,
          })
        }
        t.breaker.failure(this.clock.now())
        const f = abort.signal.aborted
          ? new EgressFailure(
              'QLK_EGRESS_TIMEOUT',
              `${where}: no answer within ${timeout} ms; read back before retrying`,
              {
                ambiguous: method !== 'GET',
                cause: err,
              },
            )
          : networkFailure(err, where)
        done('retryable', undefined, f.code)
        throw f
      } finally {
        clearTimeout(timer)
      }
      const { status, text } = res
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.clock.now())
      if (status === 429) {
        // The remote is alive and asked us to wait: not a breaker failure. Pause the whole target so
        // concurrent calls wait too, then retry here (a 429 was not applied, so this is safe).
        t.breaker.success()
        const wait = retryAfterMs ?? 1000
        t.bucket.pause(this.clock.now(), wait)
        await this.o.shared?.current?.pause(t.key, wait).catch(() => {})
        done('retryable', status, 'QLK_REMOTE_RATE_LIMITED')
        if (attempt < retries && wait <= (this.o.maxInlineWaitMs ?? 5_000)) continue
        throw new EgressFailure('QLK_REMOTE_RATE_LIMITED', `${where}: 429, retry after ${wait} ms`, {
          ambiguous: false,
          status,
          retryAfterMs: wait,
        })
      }
      if (status >= 500 && !req.accept?.includes(status)) {
        t.breaker.failure(this.clock.now())
        if (retryAfterMs !== undefined) {
          t.bucket.pause(this.clock.now(), retryAfterMs)
          await this.o.shared?.current?.pause(t.key, retryAfterMs).catch(() => {})
        }
        const remote = describeRemoteError(text)
        done('retryable', status, 'QLK_REMOTE_UNAVAILABLE')
        throw new EgressFailure('QLK_REMOTE_UNAVAILABLE', `${where}: ${status} ${remote.message}`, {
          // A 5xx from a gateway may follow a commit (a 504 from a proxy); readers must read back.
          ambiguous: method !== 'GET',
          status,
          retryAfterMs,
        })
      }
      t.breaker.success()
      if (status >= 400 && !req.accept?.includes(status)) {
        done('permanent', status, 'QLK_REMOTE_REJECTED')
        throw new RemoteRejected(status, describeRemoteError(text), where)
      }
      done('ok', status)
      return {
        status,
        headers: res.headers,
        text,
        json<T>(): T {
          try {
            return JSON.parse(text) as T
          } catch (err) {
            throw new EgressFailure('QLK_REMOTE_INVALID_RESPONSE', `${where}: ${status} answer is not JSON`, {
              ambiguous: false,
              status,
              cause: err,
            })
          }
        },
      }
    }
  }

  private async admit(
    t: { key: string; bucket: TokenBucket; breaker: CircuitBreaker },
    where: string,
  ): Promise<void> {
    const blockedFor = t.breaker.admit(this.clock.now())
    if (blockedFor > 0)
      throw new EgressFailure('QLK_CIRCUIT_OPEN', `${where}: circuit open for ${t.key}`, {
        ambiguous: false,
        retryAfterMs: blockedFor,
      })
    const shared = this.o.shared?.current
    for (;;) {
      const r = shared
        ? await shared.reserve(t.key, this.o.rateLimit ?? DEFAULT_RATE_LIMIT)
        : { ...t.bucket.reserve(this.clock.now()), circuitOpenForMs: 0 }
      if (r.circuitOpenForMs > 0)
        throw new EgressFailure('QLK_CIRCUIT_OPEN', `${where}: circuit open for ${t.key} (another process)`, {
          ambiguous: false,
          retryAfterMs: r.circuitOpenForMs,
        })
      if (r.waitMs <= 0) return
      this.metrics.rateLimitWait({
        connector: this.o.connector,
        target: t.key,
        waitMs: r.waitMs,
        reason: r.reason,
      })
      await this.clock.sleep(r.waitMs)
    }
  }
}

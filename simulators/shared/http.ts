/**
 * Minimal node:http server shared by the simulators: a regex router, raw-body capture, fault
 * injection around every non-admin request, and the `/__sim/faults` and `/__sim/state` admin API.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { type Faults, isFaultConfigPatch } from './faults.ts'

export interface SimRequest {
  readonly method: string
  /** Decoded path without query string. */
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
  readonly rawBody: Buffer
  /** Regex groups of the matched route. */
  readonly params: readonly string[]
  header(name: string): string | undefined
  text(): string
  /** Parses the body as JSON or throws HttpError 400. */
  json(): unknown
}

export interface SimResponse {
  status: number
  headers?: Record<string, string | string[]>
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown
  contentType?: string
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : `HTTP ${status}`)
  }
}

export type Handler = (req: SimRequest) => SimResponse | Promise<SimResponse>

interface Route {
  method: string
  pattern: RegExp
  handler: Handler
}

/** Runs around every route handler, e.g. to enforce a CSRF token or authentication. */
export type Around = (req: SimRequest, next: Handler) => SimResponse | Promise<SimResponse>

export class Router {
  private readonly routes: Route[] = []

  constructor(private readonly around?: Around) {}

  on(method: string | string[], pattern: RegExp, handler: Handler): this {
    const around = this.around
    const wrapped: Handler = around ? (req) => around(req, handler) : handler
    for (const m of Array.isArray(method) ? method : [method]) {
      this.routes.push({ method: m.toUpperCase(), pattern, handler: wrapped })
    }
    return this
  }

  find(
    method: string,
    path: string,
  ): { handler: Handler; params: string[] } | 'method-not-allowed' | undefined {
    let pathMatched = false
    for (const r of this.routes) {
      const m = r.pattern.exec(path)
      if (!m) continue
      pathMatched = true
      if (r.method === method) return { handler: r.handler, params: m.slice(1).map((g) => g ?? '') }
    }
    return pathMatched ? 'method-not-allowed' : undefined
  }
}

export interface HttpSimOptions {
  readonly host?: string
  readonly port?: number
  readonly router: Router
  readonly faults: Faults
  readonly state: () => unknown
  /** Body for a request no route matched; the simulators answer in their own error shape. */
  readonly notFound?: (req: SimRequest) => SimResponse
  /**
   * Awaited after a request was handled (its change applied) and before its answer is written:
   * a fault test stops the client here, e.g. SIGKILLs it between the ERP's commit and its reply.
   */
  readonly beforeAnswer?: (req: SimRequest, out: SimResponse) => void | Promise<void>
}

export interface HttpSim {
  readonly url: string
  readonly port: number
  /** `traceparents`: the W3C trace context headers of the last requests, as a real system logs them */
  readonly stats: { requests: number; dropped: number; hanging: number; traceparents: readonly string[] }
  close(): Promise<void>
}

const KEPT_TRACEPARENTS = 100

function buildRequest(req: http.IncomingMessage, rawBody: Buffer): SimRequest {
  const u = new URL(req.url ?? '/', 'http://sim.invalid')
  let path: string
  try {
    path = decodeURIComponent(u.pathname)
  } catch {
    path = u.pathname
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path,
    query: u.searchParams,
    headers: req.headers,
    rawBody,
    params: [],
    header(name) {
      const v = req.headers[name.toLowerCase()]
      return Array.isArray(v) ? v[0] : v
    },
    text: () => rawBody.toString('utf8'),
    json() {
      try {
        return JSON.parse(rawBody.toString('utf8')) as unknown
      } catch (err) {
        throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`)
      }
    },
  }
}

function write(res: http.ServerResponse, out: SimResponse): void {
  const headers: Record<string, string | string[]> = { ...(out.headers ?? {}) }
  let payload: string | Buffer | undefined
  if (out.body === undefined || out.body === null) payload = undefined
  else if (Buffer.isBuffer(out.body)) payload = out.body
  else if (typeof out.body === 'string') {
    payload = out.body
    headers['content-type'] ??= out.contentType ?? 'text/plain; charset=utf-8'
  } else {
    payload = JSON.stringify(out.body)
    headers['content-type'] ??= out.contentType ?? 'application/json; charset=utf-8'
  }
  res.writeHead(out.status, headers)
  res.end(payload)
}

async function adminRoute(req: SimRequest, opts: HttpSimOptions): Promise<SimResponse | undefined> {
  if (req.path === '/__sim/state' && req.method === 'GET') return { status: 200, body: opts.state() }
  if (req.path !== '/__sim/faults') return undefined
  if (req.method === 'GET') return { status: 200, body: opts.faults.get() }
  if (req.method === 'DELETE') {
    opts.faults.reset()
    return { status: 200, body: opts.faults.get() }
  }
  if (req.method === 'PUT' || req.method === 'POST') {
    const patch = req.json()
    if (!isFaultConfigPatch(patch)) throw new HttpError(400, { error: 'faults body must be a JSON object' })
    try {
      return { status: 200, body: opts.faults.set(patch) }
    } catch (err) {
      throw new HttpError(400, { error: (err as Error).message })
    }
  }
  return { status: 405, body: { error: 'method not allowed' } }
}

export async function startHttpSim(opts: HttpSimOptions): Promise<HttpSim> {
  const hanging = new Set<http.ServerResponse>()
  const stats: HttpSim['stats'] = { requests: 0, dropped: 0, hanging: 0, traceparents: [] }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks))
    })
  })

  async function handle(rawReq: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const base = buildRequest(rawReq, body)
    try {
      const admin = await adminRoute(base, opts)
      if (admin) return write(res, admin)
    } catch (err) {
      return write(res, errorResponse(err))
    }
    stats.requests++
    const traceparent = base.header('traceparent')
    // A new array each time: state snapshots taken earlier keep what they saw.
    if (traceparent) stats.traceparents = [...stats.traceparents.slice(1 - KEPT_TRACEPARENTS), traceparent]
    const fault = opts.faults.decideRequest(base.method, base.path)
    if (fault.latencyMs > 0) await delay(fault.latencyMs)
    if (fault.kind === 'hang') {
      stats.hanging++
      hanging.add(res)
      res.on('close', () => hanging.delete(res))
      return
    }
    if (fault.kind === 'rate-limit') {
      return write(res, {
        status: 429,
        headers: { 'retry-after': String(fault.retryAfterSeconds) },
        body: { error: 'Too Many Requests' },
      })
    }
    if (fault.kind === 'error')
      return write(res, { status: fault.status, body: { error: 'injected server error' } })

    let out: SimResponse
    const found = opts.router.find(base.method, base.path)
    try {
      if (found === 'method-not-allowed')
        out = { status: 405, body: { error: `${base.method} not allowed here` } }
      else if (!found)
        out = opts.notFound ? opts.notFound(base) : { status: 404, body: { error: 'not found' } }
      else out = await found.handler({ ...base, params: found.params })
    } catch (err) {
      out = errorResponse(err)
    }
    if (fault.kind === 'drop-response') {
      // The change is committed; the client only sees its connection die.
      stats.dropped++
      rawReq.socket.destroy()
      return
    }
    await opts.beforeAnswer?.(base, out)
    write(res, out)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve())
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    stats,
    async close() {
      for (const res of hanging) res.socket?.destroy()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}

function errorResponse(err: unknown): SimResponse {
  if (err instanceof HttpError) return { status: err.status, headers: err.headers, body: err.body }
  return { status: 500, body: { error: (err as Error).message ?? String(err) } }
}

/**
 * One HTTP(S) exchange to an address vetted beforehand (address-policy.ts): node:http with a
 * `lookup` that answers the vetted address, so the socket goes where the check looked, never to
 * a second DNS answer (DNS rebinding). The URL keeps its host name, so the Host header, TLS SNI
 * and certificate name checks still use the name (Node `tls.connect` `servername` defaults to
 * the host option; `checkServerIdentity` verifies the certificate against it).
 *
 * Each EgressClient keeps its own keep-alive agents: a pooled socket was connected to an address
 * that passed the same check, so reusing it never reaches an unvetted address.
 */
import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import { rootCertificates } from 'node:tls'
import type { ResolvedAddress } from './address-policy.ts'
import { ResponseTooLarge } from './read-body.ts'

export interface PinnedAgents {
  readonly http: http.Agent
  readonly https: https.Agent
}

/**
 * How long a pooled socket may sit idle before the client closes it. It must end before the
 * server's keep-alive timeout, or a request sent on the socket as the server closes it fails with
 * ECONNRESET (ambiguous for a POST: read back, breaker failure). Node's agent shortens its idle
 * timeout to a server's `Keep-Alive: timeout=N` hint minus 1 s only when it has a timeout of its
 * own (Agent.prototype.keepSocketAlive, Node 20), and many servers send no hint. Measured here
 * without one, against a Node server with the default keepAliveTimeout (5 s; it closes at ~6 s):
 * 1 of 100 requests sent 4.9–7.4 s after the previous one failed with ECONNRESET on the reused
 * socket, twice; with 4 s, none. 4 s is below the usual server defaults (Node and Apache 5 s,
 * nginx 75 s); a reconnect after 4 s idle costs a handshake.
 */
export const FREE_SOCKET_IDLE_MS = 4_000

/**
 * `ca`: PEM certificates trusted besides the system's (a plant's own CA for on-prem ERPs);
 * `idleMs`: FREE_SOCKET_IDLE_MS unless a test needs it shorter. The agent `timeout` also arms an
 * in-flight socket's timeout, which only emits 'timeout' (no listener here); the request's own
 * deadline is the caller's AbortSignal.
 */
export function pinnedAgents(ca?: string | Buffer, idleMs = FREE_SOCKET_IDLE_MS): PinnedAgents {
  return {
    http: new http.Agent({ keepAlive: true, timeout: idleMs }),
    // Node's `ca` replaces the default roots, so they are passed along with the extra ones.
    https: new https.Agent({
      keepAlive: true,
      timeout: idleMs,
      ...(ca ? { ca: [...rootCertificates, ca] } : {}),
    }),
  }
}

export interface PinnedAnswer {
  readonly status: number
  readonly headers: Headers
  /** the body as text, at most `maxBytes` (ResponseTooLarge past it) */
  readonly text: string
}

function toHeaders(raw: readonly string[]): Headers {
  const h = new Headers()
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      h.append(raw[i]!, raw[i + 1]!)
    } catch {
      // a header value Headers refuses (bytes outside Latin-1) is dropped, as fetch would refuse it
    }
  }
  return h
}

/** Sends one request to `to` (connection) for `url` (Host, SNI, path) and reads a capped answer. */
export function sendPinned(
  url: URL,
  to: ResolvedAddress,
  o: {
    readonly method: string
    readonly headers: Readonly<Record<string, string>>
    readonly body?: string
    readonly signal: AbortSignal
    readonly maxBytes: number
    readonly agents: PinnedAgents
  },
): Promise<PinnedAnswer> {
  const lookup: LookupFunction = (_hostname, opts, cb) => {
    // `all: true` is asked by connect's family auto-selection (net.autoSelectFamily).
    if ((opts as { all?: boolean }).all)
      (cb as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [to])
    else cb(null, to.address, to.family)
  }
  const tls = url.protocol === 'https:'
  const headers: Record<string, string> = { ...o.headers }
  if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body))
  return new Promise<PinnedAnswer>((resolve, reject) => {
    const req = (tls ? https : http).request(url, {
      method: o.method,
      headers,
      lookup,
      signal: o.signal,
      agent: tls ? o.agents.https : o.agents.http,
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > o.maxBytes) {
        res.destroy()
        reject(new ResponseTooLarge(o.maxBytes, declared))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.byteLength
        if (size > o.maxBytes) {
          res.destroy()
          reject(new ResponseTooLarge(o.maxBytes, undefined))
          return
        }
        chunks.push(c)
      })
      res.on('error', reject)
      // A connection closed before the end of the answer: lost after sending (ambiguous).
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('answer cut short'), { code: 'ECONNRESET' }))
      })
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: toHeaders(res.rawHeaders),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      )
    })
    req.end(o.body)
  })
}

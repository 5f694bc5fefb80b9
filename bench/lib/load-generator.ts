/**
 * HTTP load generator for the ingest benchmark, run as a child process (optionally pinned with
 * `taskset -c 1`) so it does not share the server's event loop. It speaks HTTP/1.1 over raw keep-alive
 * sockets with one request in flight per connection, because Node's http client costs more CPU per
 * request than the server under test and would become the ceiling.
 *
 * Two modes:
 * - closed: N connections, each sends its next request when the previous answer arrived (max rate).
 * - open: requests are sent on a fixed timetable (request i at t0 + i/rate) whatever the server does;
 *   latency is measured from the scheduled send time, so queueing in front of a slow server is counted
 *   (no coordinated omission). When no connection is idle a new one is opened, up to maxConnections;
 *   past that, requests wait in a FIFO and that wait is part of their latency.
 *
 * Usage: node --import tsx bench/lib/load-generator.ts '<LoadSpec JSON>' → one LoadResult JSON on stdout.
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'

export interface LoadSpec {
  readonly host: string
  readonly port: number
  readonly path: string
  /** 0: one structured-mode event per request; n > 0: a batch of n events per request */
  readonly batch: number
  /** makes event ids unique across runs against the same database */
  readonly idPrefix: string
  readonly warmupMs: number
  readonly durationMs: number
  readonly mode: 'closed' | 'open'
  /** closed: the fixed connection count; open: connections opened before the timetable starts */
  readonly connections: number
  /** open: requests per second */
  readonly rate?: number
  /** open: most connections */
  readonly maxConnections?: number
}

export interface LatencySummary {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly p999: number
  readonly max: number
  readonly mean: number
}

export interface LoadResult {
  readonly mode: 'closed' | 'open'
  /** requests answered 2xx inside the measurement window */
  readonly ok: number
  readonly non2xx: number
  readonly socketErrors: number
  readonly statusCounts: Record<string, number>
  readonly windowS: number
  readonly requestsPerS: number
  readonly eventsPerS: number
  readonly offeredPerS: number | null
  /** open mode: scheduled requests still unanswered when the drain timeout expired */
  readonly unfinished: number
  readonly connectionsUsed: number
  /** milliseconds; closed mode from the actual send, open mode from the scheduled send */
  readonly latencyMs: LatencySummary
}

const TIME = new Date().toISOString()

function eventJson(id: string): string {
  return (
    `{"specversion":"1.0","id":"${id}","source":"urn:qualink:bench","type":"qualink.test.pinged.v1",` +
    `"time":"${TIME}","subject":"lot-1","plant":"P100","data":{"note":"hello","n":1}}`
  )
}

class RequestFactory {
  private n = 0
  private readonly head: string

  constructor(private readonly spec: LoadSpec) {
    const type = spec.batch > 0 ? 'application/cloudevents-batch+json' : 'application/cloudevents+json'
    this.head = `POST ${spec.path} HTTP/1.1\r\nHost: ${spec.host}:${spec.port}\r\nContent-Type: ${type}\r\n`
  }

  next(): Buffer {
    let body: string
    if (this.spec.batch > 0) {
      const parts: string[] = []
      for (let i = 0; i < this.spec.batch; i++) parts.push(eventJson(`${this.spec.idPrefix}-${this.n++}`))
      body = `[${parts.join(',')}]`
    } else {
      body = eventJson(`${this.spec.idPrefix}-${this.n++}`)
    }
    return Buffer.from(`${this.head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
}

type Done = (status: number) => void

const HEADER_END = Buffer.from('\r\n\r\n')

class Connection {
  private readonly socket: net.Socket
  private buf: Buffer = Buffer.alloc(0)
  private done: Done | null = null
  ready: Promise<void>
  closed = false

  constructor(host: string, port: number) {
    this.socket = net.connect({ host, port })
    this.socket.setNoDelay(true)
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve())
      this.socket.once('error', reject)
    })
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.socket.on('error', () => {})
    this.socket.on('close', () => {
      this.closed = true
      const d = this.done
      this.done = null
      if (d) d(0)
    })
  }

  get busy(): boolean {
    return this.done !== null
  }

  send(request: Buffer, done: Done): void {
    this.done = done
    this.socket.write(request)
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    const end = this.buf.indexOf(HEADER_END)
    if (end < 0) return
    const head = this.buf.toString('latin1', 0, end)
    const status = Number(head.slice(9, 12))
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head)
    if (!m) throw new Error(`response without content-length: ${head}`)
    const total = end + 4 + Number(m[1])
    if (this.buf.length < total) return
    this.buf = this.buf.subarray(total)
    const d = this.done
    this.done = null
    if (d) d(status)
  }

  destroy(): void {
    this.socket.destroy()
  }
}

function summarize(latencies: number[]): LatencySummary {
  if (latencies.length === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN }
  const s = Float64Array.from(latencies).sort()
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!
  let sum = 0
  for (const x of s) sum += x
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: s[s.length - 1]!,
    mean: sum / s.length,
  }
}

class Tally {
  ok = 0
  non2xx = 0
  socketErrors = 0
  readonly status: Record<string, number> = {}
  readonly latencies: number[] = []

  record(status: number, latency: number): void {
    if (status === 0) {
      this.socketErrors++
      return
    }
    this.status[status] = (this.status[status] ?? 0) + 1
    if (status >= 200 && status < 300) {
      this.ok++
      this.latencies.push(latency)
    } else this.non2xx++
  }
}

async function openConnections(spec: LoadSpec, n: number): Promise<Connection[]> {
  const conns = Array.from({ length: n }, () => new Connection(spec.host, spec.port))
  await Promise.all(conns.map((c) => c.ready))
  return conns
}

async function runClosed(spec: LoadSpec): Promise<LoadResult> {
  const factory = new RequestFactory(spec)
  const conns = await openConnections(spec, spec.connections)
  const tally = new Tally()
  const start = performance.now()
  const windowStart = start + spec.warmupMs
  const windowEnd = windowStart + spec.durationMs
  await Promise.all(
    conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          const loop = () => {
            const sent = performance.now()
            if (sent >= windowEnd || c.closed) return resolve()
            c.send(factory.next(), (status) => {
              const now = performance.now()
              // a completion counts when it lands in the window, wherever its request started
              if (now >= windowStart && now <= windowEnd) tally.record(status, now - sent)
              loop()
            })
          }
          loop()
        }),
    ),
  )
  for (const c of conns) c.destroy()
  const windowS = spec.durationMs / 1000
  return {
    mode: 'closed',
    ok: tally.ok,
    non2xx: tally.non2xx,
    socketErrors: tally.socketErrors,
    statusCounts: tally.status,
    windowS,
    requestsPerS: tally.ok / windowS,
    eventsPerS: (tally.ok * Math.max(1, spec.batch)) / windowS,
    offeredPerS: null,
    unfinished: 0,
    connectionsUsed: conns.length,
    latencyMs: summarize(tally.latencies),
  }
}

async function runOpen(spec: LoadSpec): Promise<LoadResult> {
  const rate = spec.rate ?? 0
  if (!(rate > 0)) throw new Error('open mode needs a positive rate')
  const maxConnections = spec.maxConnections ?? 512
  const factory = new RequestFactory(spec)
  const idle = await openConnections(spec, spec.connections)
  const all = [...idle]
  const backlog: number[] = []
  const tally = new Tally()
  const t0 = performance.now() + 5
  const windowStart = t0 + spec.warmupMs
  const windowEnd = windowStart + spec.durationMs
  const total = Math.floor(((spec.warmupMs + spec.durationMs) * rate) / 1000)
  let next = 0
  let outstanding = 0
  let opening = 0

  const finish = (conn: Connection, scheduled: number, status: number) => {
    const now = performance.now()
    outstanding--
    if (scheduled >= windowStart && scheduled < windowEnd) tally.record(status, now - scheduled)
    if (conn.closed) return
    const queued = backlog.shift()
    if (queued !== undefined) fire(conn, queued)
    else idle.push(conn)
  }
  const fire = (conn: Connection, scheduled: number) => {
    conn.send(factory.next(), (status) => finish(conn, scheduled, status))
  }
  const dispatch = (scheduled: number) => {
    outstanding++
    const conn = idle.pop()
    if (conn) return fire(conn, scheduled)
    backlog.push(scheduled)
    if (all.length + opening < maxConnections) {
      opening++
      const c = new Connection(spec.host, spec.port)
      c.ready.then(
        () => {
          opening--
          all.push(c)
          const queued = backlog.shift()
          if (queued !== undefined) fire(c, queued)
          else idle.push(c)
        },
        () => {
          opening--
        },
      )
    }
  }

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000) + 1)
      while (next < due) dispatch(t0 + (next++ * 1000) / rate)
      if (next >= total) return resolve()
      setTimeout(tick, 1)
    }
    setTimeout(tick, Math.max(0, t0 - performance.now()))
  })
  const drainUntil = performance.now() + 15_000
  while (outstanding > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5))
  for (const c of all) c.destroy()
  const windowS = spec.durationMs / 1000
  return {
    mode: 'open',
    ok: tally.ok,
    non2xx: tally.non2xx,
    socketErrors: tally.socketErrors,
    statusCounts: tally.status,
    windowS,
    requestsPerS: tally.ok / windowS,
    eventsPerS: (tally.ok * Math.max(1, spec.batch)) / windowS,
    offeredPerS: rate,
    unfinished: outstanding,
    connectionsUsed: all.length,
    latencyMs: summarize(tally.latencies),
  }
}

const arg = process.argv[2]
if (!arg) throw new Error('usage: load-generator.ts <LoadSpec JSON>')
const spec = JSON.parse(arg) as LoadSpec
const result = spec.mode === 'open' ? await runOpen(spec) : await runClosed(spec)
process.stdout.write(`${JSON.stringify(result)}\n`)
process.exit(0)

/**
 * A TCP fault proxy (pure node:net) between Qualink and one target — a simulator, PostgreSQL or a
 * broker — for the fault suite (reference/perf-reliability.md §6: "drop, delay, duplicate,
 * reorder, cut after the request is forwarded"). The test steers it while traffic flows:
 *
 * - `delay(ms)`: every chunk, both ways, waits `ms` (order kept).
 * - `dropAfterBytes(n, dir)`: the next connection is destroyed once `n` bytes went `dir`.
 * - `cutAfterForward(match)`: a client chunk containing `match` (e.g. an HTTP path) is forwarded,
 *   then the target's answer is swallowed and both sockets are destroyed — the target committed,
 *   the client cannot tell (commit-then-drop at the network level).
 * - `partition('refuse')`: open connections are reset and new ones closed at once, as a REJECT
 *   firewall rule or a vanished route does. `partition('blackhole')`: connections are accepted but
 *   nothing is forwarded either way; what was sent is held, as TCP retransmission would hold it,
 *   and delivered after `heal()` — a short DROP-style partition. Neither side sees an error.
 * - `duplicateNext(match)`: a matching client chunk is written to the target twice (a
 *   retransmitted request as the server sees it). Meaningful for whole-message protocols such as
 *   an HTTP request in one write; a byte stream split differently would just be corrupted.
 * - `holdNext(match)` / `release()`: a matching client chunk is held back until `release()`, so a
 *   request on another connection overtakes it (reordering between connections; within one TCP
 *   stream bytes cannot be reordered without corrupting it).
 */
import net from 'node:net'

export type Direction = 'up' | 'down' // up: client → target, down: target → client

export interface ProxyCounts {
  connections: number
  refused: number
  bytesUp: number
  bytesDown: number
  cut: number
  dropped: number
  duplicated: number
  held: number
}

interface Rule {
  readonly match: string | RegExp
  times: number
}

interface Link {
  readonly client: net.Socket
  readonly upstream: net.Socket
  up: number
  down: number
  dropAfter?: { bytes: number; dir: Direction }
  doomed: boolean
  /** chunks (null: the sender's FIN) held during a blackhole, in arrival order */
  readonly held: Array<{ dir: Direction; chunk: Buffer | null }>
  /** per-direction promise chain so delayed chunks keep their order */
  readonly chain: Record<Direction, Promise<void>>
}

export class FaultProxy {
  readonly counts: ProxyCounts = {
    connections: 0,
    refused: 0,
    bytesUp: 0,
    bytesDown: 0,
    cut: 0,
    dropped: 0,
    duplicated: 0,
    held: 0,
  }
  /** when the last fault fired (a cut, a drop, a refusal), for time-to-recover */
  lastFaultAt = 0
  private readonly tallies: Array<{ readonly match: RegExp; n: number }> = []
  private readonly links = new Set<Link>()
  private delayMs = 0
  private mode: 'pass' | 'refuse' | 'blackhole' = 'pass'
  private pendingDrop: { bytes: number; dir: Direction } | undefined
  private readonly cutRules: Rule[] = []
  private readonly dupRules: Rule[] = []
  private readonly holdRules: Rule[] = []
  private readonly heldChunks: Array<() => void> = []

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards to `target`. */
  static async start(target: { host?: string; port: number }): Promise<FaultProxy> {
    let self: FaultProxy | undefined
    const server = net.createServer({ allowHalfOpen: true }, (client) =>
      self!.accept(client, target.host ?? '127.0.0.1', target.port),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    self = new FaultProxy(server, (server.address() as net.AddressInfo).port)
    return self
  }

  get host(): string {
    return `127.0.0.1:${this.port}`
  }

  delay(ms: number): void {
    this.delayMs = ms
  }

  dropAfterBytes(bytes: number, dir: Direction = 'down'): void {
    this.pendingDrop = { bytes, dir }
  }

  cutAfterForward(match: string | RegExp, times = 1): void {
    this.cutRules.push({ match, times })
  }

  duplicateNext(match: string | RegExp, times = 1): void {
    this.dupRules.push({ match, times })
  }

  holdNext(match: string | RegExp, times = 1): void {
    this.holdRules.push({ match, times })
  }

  /** Counts client chunks matching `match` from now on (requests the target was sent). */
  tally(match: RegExp): () => number {
    const t = { match, n: 0 }
    this.tallies.push(t)
    return () => t.n
  }

  /** Sends every held chunk on, in the order it was held. */
  release(): void {
    for (const go of this.heldChunks.splice(0)) go()
  }

  partition(kind: 'refuse' | 'blackhole'): void {
    this.mode = kind
    if (kind === 'refuse') for (const l of this.links) this.kill(l, 'dropped')
  }

  heal(): void {
    this.mode = 'pass'
    for (const l of this.links)
      for (const h of l.held.splice(0))
        if (h.chunk) this.forward(l, h.dir, h.chunk)
        else this.onEnd(l, h.dir)
  }

  /** Open connections right now (for asserting that a pool reconnected). */
  get open(): number {
    return this.links.size
  }

  async close(): Promise<void> {
    for (const l of this.links) this.kill(l)
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: net.Socket, host: string, port: number): void {
    client.on('error', () => {})
    if (this.mode === 'refuse') {
      this.counts.refused++
      this.lastFaultAt = Date.now()
      client.resetAndDestroy()
      return
    }
    this.counts.connections++
    const upstream = net.connect({ host, port, allowHalfOpen: true })
    const link: Link = {
      client,
      upstream,
      up: 0,
      down: 0,
      doomed: false,
      held: [],
      chain: { up: Promise.resolve(), down: Promise.resolve() },
    }
    if (this.pendingDrop) {
      link.dropAfter = this.pendingDrop
      this.pendingDrop = undefined
    }
    this.links.add(link)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    client.on('data', (chunk: Buffer) => this.onChunk(link, 'up', chunk))
    upstream.on('data', (chunk: Buffer) => this.onChunk(link, 'down', chunk))
    // A FIN is passed on after the bytes before it (HTTP `Connection: close` ends this way); an
    // error on either side resets both; the link is gone once both sockets are closed.
    client.on('end', () => this.onEnd(link, 'up'))
    upstream.on('end', () => this.onEnd(link, 'down'))
    for (const s of [client, upstream]) {
      s.on('error', () => this.kill(link))
      s.on('close', () => {
        if (client.destroyed && upstream.destroyed) this.links.delete(link)
      })
    }
  }

  private onEnd(link: Link, dir: Direction): void {
    if (this.mode === 'blackhole') {
      link.held.push({ dir, chunk: null })
      return
    }
    link.chain[dir] = link.chain[dir].then(() => {
      if (this.links.has(link)) (dir === 'up' ? link.upstream : link.client).end()
    })
  }

  private onChunk(link: Link, dir: Direction, chunk: Buffer): void {
    if (dir === 'down' && link.doomed) {
      // The target answered a request it has already applied: swallow the answer, cut both ends.
      this.counts.cut++
      this.lastFaultAt = Date.now()
      this.kill(link)
      return
    }
    if (this.mode === 'blackhole') {
      link.held.push({ dir, chunk })
      return
    }
    if (dir === 'up') {
      const text = chunk.toString('latin1')
      for (const t of this.tallies) if (t.match.test(text)) t.n++
      if (take(this.cutRules, text)) link.doomed = true
      if (take(this.holdRules, text)) {
        this.counts.held++
        this.heldChunks.push(() => this.forward(link, dir, chunk))
        return
      }
      if (take(this.dupRules, text)) {
        this.counts.duplicated++
        this.forward(link, dir, chunk)
      }
    }
    this.forward(link, dir, chunk)
  }

  private forward(link: Link, dir: Direction, chunk: Buffer): void {
    const write = () => {
      if (!this.links.has(link)) return
      const to = dir === 'up' ? link.upstream : link.client
      const limit = link.dropAfter?.dir === dir ? link.dropAfter.bytes : Number.POSITIVE_INFINITY
      const sent = dir === 'up' ? link.up : link.down
      const part = sent + chunk.length > limit ? chunk.subarray(0, Math.max(0, limit - sent)) : chunk
      if (part.length > 0) to.write(part)
      if (dir === 'up') {
        link.up += part.length
        this.counts.bytesUp += part.length
      } else {
        link.down += part.length
        this.counts.bytesDown += part.length
      }
      if (part.length < chunk.length || (dir === 'up' ? link.up : link.down) >= limit)
        this.kill(link, 'dropped')
    }
    // Always through the chain, so a chunk never overtakes one still waiting out an earlier delay.
    const ms = this.delayMs
    link.chain[dir] = link.chain[dir]
      .then(() => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : undefined))
      .then(write)
  }

  private kill(link: Link, count?: 'dropped'): void {
    if (!this.links.delete(link)) return
    if (count) {
      this.counts[count]++
      this.lastFaultAt = Date.now()
    }
    link.client.resetAndDestroy()
    link.upstream.resetAndDestroy()
  }
}

function take(rules: Rule[], text: string): boolean {
  const hit = (m: string | RegExp) => (typeof m === 'string' ? text.includes(m) : m.test(text))
  const i = rules.findIndex((r) => r.times > 0 && hit(r.match))
  if (i < 0) return false
  rules[i]!.times--
  if (rules[i]!.times === 0) rules.splice(i, 1)
  return true
}

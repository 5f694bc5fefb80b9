/**
 * Issue 11 benchmark: fan-out of the event log to NATS JetStream, beside the broker's own publish
 * rate on the same machine.
 *
 * Each repetition preloads N canonical events into a fresh store, then:
 * - relay: `startNatsRelay` (src/connectors/broker/nats-relay.ts) as the server runs it — tail a
 *   page of 200 from the log, publish each with `Nats-Msg-Id` = event id, wait for every PubAck
 *   of the page, move the lease-fenced cursor — timed until the whole log is acknowledged;
 * - baseline: the same messages (same subjects, bytes and msg ids, read from the log beforehand
 *   into memory) published by the same client library with the same window (a page of 200
 *   PubAcks awaited together) into a second stream: what the broker takes with no store at all.
 * Both streams are file-backed with the server's default settings, uniquely named and deleted.
 * The ratio relay / baseline says how much of the broker's rate the durable relay keeps.
 *
 * Run: npm run bench -- relay [--dialect sqlite|postgres|both] [--events N] [--runs R] [--quick]
 * Needs NATS with JetStream at QUALINK_BENCH_NATS_URL (default nats://127.0.0.1:4222) and, for
 * PostgreSQL, QUALINK_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { startNatsRelay } from '../src/connectors/broker/nats-relay.ts'
import { LOG_START, type LogCursor, type Store } from '../src/store/types.ts'
import { type Dialect, freshStore, pingEvents } from './lib/engine-qualink.ts'
import { describeMachine, describePostgres, waitForQuiet } from './lib/machine.ts'
import { writeReadmeSection, writeResultsRow } from './lib/readme.ts'
import { fmt, median } from './lib/stats.ts'

const ADMIN_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const NATS_URL = process.env.QUALINK_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222'
const HERE = path.dirname(fileURLToPath(import.meta.url))
/** the relay's page (NatsRelayConfig.batch default) and so the baseline's in-flight window */
const PAGE = 200

interface Options {
  readonly dialects: Dialect[]
  readonly events: number
  readonly reps: number
  /** a shortened run (--quick, fewer events or runs) only prints; a full run rewrites README/RESULTS */
  readonly full: boolean
}

function parseArgs(argv: readonly string[]): Options {
  let dialect = 'both'
  let events = 20_000
  let reps = 3
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--quick') events = 5_000
    else if (a === '--dialect') dialect = argv[++i] ?? ''
    else if (a === '--events') events = Number(argv[++i])
    else if (a === '--runs') reps = Number(argv[++i])
    else
      throw new Error(
        `unknown argument ${a}; usage: relay.ts [--dialect d] [--events N] [--runs R] [--quick]`,
      )
  }
  if (!['sqlite', 'postgres', 'both'].includes(dialect))
    throw new Error(`--dialect must be sqlite, postgres or both, not '${dialect}'`)
  if (!Number.isInteger(events) || events < PAGE) throw new Error(`--events must be an integer >= ${PAGE}`)
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--runs must be a positive integer')
  return {
    dialects: dialect === 'both' ? ['sqlite', 'postgres'] : [dialect as Dialect],
    events,
    reps,
    full: dialect === 'both' && events >= 20_000 && reps >= 3,
  }
}

interface Rep {
  readonly baselinePerS: number
  readonly relayPerS: number
}

interface Message {
  readonly subject: string
  readonly body: string
  readonly id: string
}

/**
 * The `n` messages the relay will publish, read from the log the way the relay reads it. On
 * PostgreSQL the tail stops below the oldest transaction still running anywhere on the server
 * (another database's included), so an empty page can come before the end: read on until all `n`.
 */
async function messagesOf(store: Store, prefix: string, n: number): Promise<Message[]> {
  const out: Message[] = []
  let cursor: LogCursor = LOG_START
  const deadline = Date.now() + 120_000
  for (;;) {
    const page = await store.tailEvents({ allPlants: true, reason: 'bench' }, cursor, 2_000)
    if (out.length >= n) return out
    if (page.events.length === 0) {
      if (Date.now() > deadline) throw new Error(`baseline: only ${out.length} of ${n} events readable`)
      await new Promise((r) => setTimeout(r, 20))
      continue
    }
    for (const e of page.events)
      out.push({
        subject: `${prefix}.${e.plant}.${e.type}`,
        body: JSON.stringify({ seq: e.seq, ...e.envelope }),
        id: e.id,
      })
    cursor = page.cursor
  }
}

async function withStream<T>(nc: NatsConnection, fn: (prefix: string) => Promise<T>): Promise<T> {
  const tag = `qlkbench_${process.pid}_${randomBytes(3).toString('hex')}`
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: tag.toUpperCase(), subjects: [`${tag}.>`] })
  try {
    return await fn(tag)
  } finally {
    await jsm.streams.delete(tag.toUpperCase()).catch(() => false)
  }
}

async function storedIn(nc: NatsConnection, prefix: string): Promise<number> {
  const info = await (await jetstreamManager(nc)).streams.info(prefix.toUpperCase())
  return info.state.messages
}

async function oneRep(dialect: Dialect, n: number, nc: NatsConnection): Promise<Rep> {
  const fresh = await freshStore(dialect, ADMIN_URL, 'relay')
  try {
    const at = new Date().toISOString()
    for (let i = 0; i < n; i += 2_000)
      await fresh.store.appendEvents([{ actor: 'bench', events: pingEvents(i, Math.min(2_000, n - i), at) }])

    const baselinePerS = await withStream(nc, async (prefix) => {
      const msgs = await messagesOf(fresh.store, prefix, n)
      const js = jetstream(nc)
      const t0 = performance.now()
      for (let i = 0; i < msgs.length; i += PAGE)
        await Promise.all(msgs.slice(i, i + PAGE).map((m) => js.publish(m.subject, m.body, { msgID: m.id })))
      const s = (performance.now() - t0) / 1000
      if ((await storedIn(nc, prefix)) !== n)
        throw new Error('baseline: the stream does not hold every message')
      return n / s
    })

    const relayPerS = await withStream(nc, async (prefix) => {
      const lease = await fresh.store.acquireLease(`relay:${prefix}`, 'bench', 600_000)
      const t0 = performance.now()
      const relay = await startNatsRelay(
        fresh.store,
        { servers: NATS_URL, subjectPrefix: prefix, name: prefix, batch: PAGE, pollMs: 3_600_000 },
        lease,
      )
      let published = 0
      while (published < n) published += (await relay.relayOnce()).published
      const s = (performance.now() - t0) / 1000
      await relay.close()
      if ((await storedIn(nc, prefix)) !== n) throw new Error('relay: the stream does not hold every event')
      return n / s
    })
    return { baselinePerS, relayPerS }
  } finally {
    await fresh.dispose()
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2))
  const idle = await waitForQuiet()
  const machine = await describeMachine()
  const nc = await connect({ servers: NATS_URL })
  const rows: string[] = []
  const summary: string[] = []
  try {
    for (const dialect of o.dialects) {
      const reps: Rep[] = []
      for (let r = 0; r < o.reps; r++) {
        reps.push(await oneRep(dialect, o.events, nc))
        const last = reps.at(-1)!
        process.stderr.write(
          `${dialect} rep ${r + 1}: broker ${fmt(last.baselinePerS)} msg/s, relay ${fmt(last.relayPerS)} events/s\n`,
        )
      }
      const base = median(reps.map((x) => x.baselinePerS))
      const relay = median(reps.map((x) => x.relayPerS))
      rows.push(
        `| ${dialect} | ${fmt(o.events)} | ${fmt(base)} | ${fmt(relay)} | ${fmt((100 * relay) / base, 1)} % |`,
      )
      summary.push(
        `${dialect}: relay ${fmt(relay)} ev/s = ${fmt((100 * relay) / base, 1)} % of broker ${fmt(base)}`,
      )
    }
  } finally {
    await nc.drain()
  }
  const pg = o.dialects.includes('postgres') ? await describePostgres(ADMIN_URL) : undefined
  const table = [
    '| Store | Events | Broker alone (msg/s) | Relay from the log (events/s) | Relay / broker |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n')
  const body = `Measured by \`npm run bench -- relay\` (bench/relay.ts): N ping events preloaded into a fresh
store, then relayed to a fresh file-backed JetStream stream by the server's relay (pages of ${PAGE},
every PubAck awaited before the fenced cursor moves); baseline: the same messages, subjects and msg
ids published from memory by the same client with the same window into another stream. Medians of
${o.reps} runs; CPU idle before the run ${fmt(100 * idle)} % (a busy box lowers both columns).

${table}

No target is set by the issue; the ratio is what the durable relay keeps of the broker's own rate.`
  process.stdout.write(`${table}\n`)
  if (!o.full) return
  writeReadmeSection(path.join(HERE, 'README.md'), 'Relay to JetStream (issue 11)', body)
  writeResultsRow('relay', 'fan-out to NATS JetStream vs the broker alone', summary.join('; '), machine, pg)
}

await main()

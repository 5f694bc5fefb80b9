import { type JetStreamClient, jetstream } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import {
  decodeCursor,
  encodeCursor,
  type Lease,
  LOG_START,
  type LogCursor,
  type Store,
} from '../../store/types.ts'
import { relayLoop } from './relay-loop.ts'

export interface NatsRelayConfig {
  readonly servers: string | string[]
  /** subjects are `<prefix>.<plant>.<type>`, e.g. `qualink.P100.qms.usage_decision.made.v1` */
  readonly subjectPrefix?: string
  /** the durable cursor's name (one per relay) */
  readonly name?: string
  readonly batch?: number
  readonly pollMs?: number
}

export interface NatsRelay {
  /** relays what is committed now; returns how many events were published (duplicates included) */
  relayOnce(): Promise<{ published: number; duplicates: number }>
  close(): Promise<void>
}

/**
 * Fan-out of the event log to NATS JetStream. Each event is published with `Nats-Msg-Id` = its
 * id and the durable cursor moves only after the broker's PubAck for the whole page, so a crash
 * republishes rather than loses. JetStream deduplicates only within its `duplicate_window`
 * (nats.docs: streams, "if not set, server default is 2 minutes") and, by default, acknowledges
 * before fsync: consumers must deduplicate durably by event id; a relayed event stays
 * re-publishable from the log. Run it as a lease-fenced singleton (one relay per cursor).
 */
/** `fence`: the singleton's lease; cursor writes then fail once it no longer holds (IngressStore.setCursor). */
export async function startNatsRelay(store: Store, cfg: NatsRelayConfig, fence?: Lease): Promise<NatsRelay> {
  const nc: NatsConnection = await connect({ servers: cfg.servers, maxReconnectAttempts: -1 })
  const js: JetStreamClient = jetstream(nc)
  const name = `relay:${cfg.name ?? 'nats'}`
  const prefix = cfg.subjectPrefix ?? 'qualink'

  async function relayOnce() {
    const saved = await store.ingress.getCursor(name)
    let cursor: LogCursor = (saved && decodeCursor(saved)) || LOG_START
    let published = 0
    let duplicates = 0
    for (;;) {
      const page = await store.tailEvents({ allPlants: true, reason: 'relay' }, cursor, cfg.batch ?? 200)
      if (page.events.length === 0) return { published, duplicates }
      const acks = await Promise.all(
        page.events.map((e) =>
          js.publish(`${prefix}.${e.plant}.${e.type}`, JSON.stringify({ seq: e.seq, ...e.envelope }), {
            msgID: e.id,
          }),
        ),
      )
      published += acks.length
      duplicates += acks.filter((a) => a.duplicate).length
      cursor = page.cursor
      await store.ingress.setCursor(name, encodeCursor(cursor), fence)
    }
  }

  const loop = relayLoop(relayOnce, cfg.pollMs ?? 500)
  return {
    relayOnce: loop.once,
    close: async () => {
      await loop.stop()
      await nc.drain()
    },
  }
}

import { AckPolicy, type ConsumerMessages, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { RawDelivery } from '../../store/types.ts'

export interface NatsSourceConfig {
  readonly name: string
  readonly plant: string
  readonly servers: string | string[]
  readonly stream: string
  /** durable pull consumer name: one per source, its position survives restarts */
  readonly durable: string
  readonly filterSubject?: string
}

/**
 * Ingest from JetStream through a durable pull consumer with explicit acks: a message is acked
 * only after its raw delivery is committed and nak'ed (redelivered) when the store fails.
 * Redeliveries, and publishers resending past the stream's duplicate window, are absorbed by the
 * raw-delivery dedup on `Nats-Msg-Id` (or the stream sequence when a publisher sets none).
 */
export async function startNatsSource(cfg: NatsSourceConfig, store: (d: RawDelivery) => Promise<unknown>) {
  const nc: NatsConnection = await connect({ servers: cfg.servers, maxReconnectAttempts: -1 })
  const jsm = await jetstreamManager(nc)
  await jsm.consumers
    .add(cfg.stream, {
      durable_name: cfg.durable,
      ack_policy: AckPolicy.Explicit,
      ...(cfg.filterSubject ? { filter_subject: cfg.filterSubject } : {}),
    })
    .catch(async (e) => {
      // Already there from an earlier start: keep its position.
      if (!(await jsm.consumers.info(cfg.stream, cfg.durable).catch(() => undefined))) throw e
    })
  const consumer = await jetstream(nc).consumers.get(cfg.stream, cfg.durable)
  const messages: ConsumerMessages = await consumer.consume()
  const done = (async () => {
    for await (const m of messages) {
      const id = m.headers?.get('Nats-Msg-Id') || `${cfg.stream}:${m.seq}`
      // a publisher's W3C trace context travels as a NATS header, as OTel's NATS propagation does
      const traceparent = m.headers?.get('traceparent')
      try {
        await store({
          plant: cfg.plant,
          source: cfg.name,
          deliveryId: id,
          headers: {
            subject: m.subject,
            'stream-seq': String(m.seq),
            ...(traceparent ? { traceparent } : {}),
          },
          body: Buffer.from(m.data),
        })
        m.ack()
      } catch {
        m.nak(1000)
      }
    }
  })()
  return {
    close: async () => {
      await messages.close()
      await done
      await nc.drain()
    },
  }
}

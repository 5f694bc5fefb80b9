import { createHash } from 'node:crypto'
import type { ConsumeMessage } from 'amqplib'
import amqp from 'amqplib'
import {
  decodeCursor,
  encodeCursor,
  LOG_START,
  type LogCursor,
  type RawDelivery,
  type Store,
} from '../../store/types.ts'
import { relayLoop } from './relay-loop.ts'

export interface AmqpRelayConfig {
  readonly url: string
  /** a topic exchange; routing keys are `<plant>.<type>` */
  readonly exchange: string
  readonly name?: string
  readonly batch?: number
  readonly pollMs?: number
}

/**
 * Fan-out of the event log to RabbitMQ with publisher confirms (rabbitmq.com/docs/confirms: a
 * persistent message routed to a quorum queue is confirmed once a quorum of replicas has it).
 * The cursor moves only after the broker confirmed the page; a crash republishes, so consumers
 * deduplicate by `messageId` (the event id).
 */
export async function startAmqpRelay(store: Store, cfg: AmqpRelayConfig) {
  const conn = await amqp.connect(cfg.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertExchange(cfg.exchange, 'topic', { durable: true })
  const name = `relay:${cfg.name ?? 'amqp'}`

  async function relayOnce(): Promise<number> {
    const saved = await store.ingress.getCursor(name)
    let cursor: LogCursor = (saved && decodeCursor(saved)) || LOG_START
    let published = 0
    for (;;) {
      const page = await store.tailEvents({ allPlants: true, reason: 'relay' }, cursor, cfg.batch ?? 200)
      if (page.events.length === 0) return published
      for (const e of page.events) {
        ch.publish(
          cfg.exchange,
          `${e.plant}.${e.type}`,
          Buffer.from(JSON.stringify({ seq: e.seq, ...e.envelope })),
          {
            persistent: true,
            messageId: e.id,
            contentType: 'application/cloudevents+json',
          },
        )
      }
      await ch.waitForConfirms()
      published += page.events.length
      cursor = page.cursor
      await store.ingress.setCursor(name, encodeCursor(cursor))
    }
  }

  const loop = relayLoop(relayOnce, cfg.pollMs ?? 500)
  return {
    relayOnce: loop.once,
    close: async () => {
      await loop.stop()
      await ch.close()
      await conn.close()
    },
  }
}

export interface AmqpSourceConfig {
  readonly name: string
  readonly plant: string
  readonly url: string
  readonly queue: string
  /** where unacceptable messages go (declared with the queue) */
  readonly deadLetterExchange: string
  readonly maxBytes?: number
}

/**
 * Consumes a quorum queue with manual acknowledgements: a message is acked only after its raw
 * delivery is committed, nacked back to the queue when the store fails, and rejected to the
 * dead-letter exchange when it can never be accepted (empty, oversize). What it contains is
 * judged later by the translation stage, which keeps the raw body of what it cannot translate.
 */
export async function startAmqpSource(cfg: AmqpSourceConfig, store: (d: RawDelivery) => Promise<unknown>) {
  const conn = await amqp.connect(cfg.url)
  const ch = await conn.createChannel()
  await ch.assertExchange(cfg.deadLetterExchange, 'fanout', { durable: true })
  await ch.assertQueue(cfg.queue, {
    durable: true,
    arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': cfg.deadLetterExchange },
  })
  await ch.prefetch(50)
  const max = cfg.maxBytes ?? 1024 * 1024
  const { consumerTag } = await ch.consume(
    cfg.queue,
    (m: ConsumeMessage | null) => {
      if (!m) return
      if (m.content.length === 0 || m.content.length > max) {
        ch.nack(m, false, false) // to the dead-letter exchange, with x-death saying why
        return
      }
      const id =
        (typeof m.properties.messageId === 'string' && m.properties.messageId) ||
        createHash('sha256').update(m.fields.routingKey).update('\n').update(m.content).digest('hex')
      store({
        plant: cfg.plant,
        source: cfg.name,
        deliveryId: id,
        headers: {
          'routing-key': m.fields.routingKey,
          'content-type': String(m.properties.contentType ?? ''),
        },
        body: m.content,
      }).then(
        () => ch.ack(m),
        () => ch.nack(m, false, true),
      )
    },
    { noAck: false },
  )
  return {
    close: async () => {
      await ch.cancel(consumerTag)
      await ch.close()
      await conn.close()
    },
  }
}

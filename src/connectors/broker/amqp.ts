import { createHash } from 'node:crypto'
import type { ConsumeMessage } from 'amqplib'
import amqp from 'amqplib'
import {
  decodeCursor,
  encodeCursor,
  type Lease,
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
 * deduplicate by `messageId` (the event id). A lost connection (broker restart, network cut)
 * fails the pass in flight, which is retried on a new connection at the next tick.
 */
export async function startAmqpRelay(store: Store, cfg: AmqpRelayConfig, fence?: Lease) {
  const name = `relay:${cfg.name ?? 'amqp'}`
  let link: { conn: amqp.ChannelModel; ch: amqp.ConfirmChannel } | undefined
  const connect = async () => {
    if (link) return link
    const conn = await amqp.connect(cfg.url)
    const ch = await conn.createConfirmChannel()
    const current = { conn, ch }
    const drop = () => {
      if (link === current) link = undefined
    }
    conn.on('error', drop)
    conn.on('close', drop)
    ch.on('error', drop)
    ch.on('close', drop)
    await ch.assertExchange(cfg.exchange, 'topic', { durable: true })
    link = current
    return current
  }
  await connect()

  async function relayOnce(): Promise<number> {
    const { ch } = await connect()
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
      await store.ingress.setCursor(name, encodeCursor(cursor), fence)
    }
  }

  const loop = relayLoop(relayOnce, cfg.pollMs ?? 500)
  return {
    relayOnce: loop.once,
    close: async () => {
      await loop.stop()
      const l = link
      link = undefined
      await l?.ch.close().catch(() => {})
      await l?.conn.close().catch(() => {})
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
 * A lost connection is re-opened with backoff; what was delivered but not acked comes again and
 * is absorbed by the raw-delivery dedup on `messageId`.
 */
export async function startAmqpSource(cfg: AmqpSourceConfig, store: (d: RawDelivery) => Promise<unknown>) {
  const max = cfg.maxBytes ?? 1024 * 1024
  let closed = false
  let link: { conn: amqp.ChannelModel; ch: amqp.Channel; consumerTag: string } | undefined
  let retry: NodeJS.Timeout | undefined
  let backoffMs = 100

  const consume = async () => {
    const conn = await amqp.connect(cfg.url)
    conn.on('error', () => {})
    const ch = await conn.createChannel()
    ch.on('error', () => {})
    await ch.assertExchange(cfg.deadLetterExchange, 'fanout', { durable: true })
    await ch.assertQueue(cfg.queue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': cfg.deadLetterExchange },
    })
    await ch.prefetch(50)
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
            // W3C Trace Context over AMQP 0-9-1: an application header (the OTel amqplib convention)
            ...(typeof m.properties.headers?.traceparent === 'string'
              ? { traceparent: m.properties.headers.traceparent }
              : {}),
          },
          body: m.content,
        })
          .then(
            () => ch.ack(m),
            () => ch.nack(m, false, true),
          )
          .catch(() => {}) // the channel died meanwhile: the broker redelivers
      },
      { noAck: false },
    )
    conn.on('close', () => {
      if (link?.conn === conn) link = undefined
      if (!closed) reconnect()
    })
    link = { conn, ch, consumerTag }
    backoffMs = 100
  }
  const reconnect = () => {
    if (closed || retry) return
    retry = setTimeout(() => {
      retry = undefined
      consume().catch(() => {
        backoffMs = Math.min(backoffMs * 2, 10_000)
        reconnect()
      })
    }, backoffMs)
  }
  await consume()
  return {
    close: async () => {
      closed = true
      if (retry) clearTimeout(retry)
      const l = link
      link = undefined
      if (!l) return
      await l.ch.cancel(l.consumerTag).catch(() => {})
      await l.ch.close().catch(() => {})
      await l.conn.close().catch(() => {})
    },
  }
}

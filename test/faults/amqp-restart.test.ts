/**
 * F6 for RabbitMQ (issue 11 "broker restarted mid-stream"): a private RabbitMQ node
 * (private-rabbitmq.ts) is stopped (SIGTERM: the orderly shutdown of a broker restart) while the
 * AMQP relay publishes the event log and the AMQP source consumes a quorum queue that a producer
 * keeps filling, then started again on the same data. Invariants, reconciled by report():
 * - source: every message the broker confirmed to the producer is stored, each once (the raw
 *   delivery dedup on messageId absorbs redeliveries of what was delivered but not acked, and the
 *   producer's own republishing of a batch whose confirms the stop swallowed);
 * - relay: every committed event reaches the exchange's quorum queue at least once (a page
 *   unconfirmed at the stop is published again) and its cursor ends at the log's end.
 * The test's tap is a durable quorum queue, so what the broker confirmed survives the restart.
 *
 * Not SIGKILL: on this machine's RabbitMQ 3.10.8 a single-node quorum queue killed with SIGKILL
 * came back without a leader ("leader call - leader not known" in the node's log for over a
 * minute), reporting 0 messages and confirming no publish; after SIGTERM it recovers every
 * message. The same symptom is reported upstream for single-node quorum queues after a restart
 * (github.com/rabbitmq/rabbitmq-server/issues/10070, open; workaround there: `rabbitmqctl eval
 * "ra:trigger_election(...)"`). A crash-safe RabbitMQ needs a 3-node cluster (docs/deployment.md).
 */
import amqp from 'amqplib'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startAmqpRelay, startAmqpSource } from '../../src/connectors/broker/amqp.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import { decodeCursor, type Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, append, until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { PrivateRabbit, privateRabbitMissing } from './private-rabbitmq.ts'
import { faultDescribe, report } from './report.ts'

const QUORUM = { durable: true, arguments: { 'x-queue-type': 'quorum' } }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A connection whose failures are expected here (the broker dies): errors are swallowed, not thrown at the process. */
async function connect(url: string): Promise<amqp.ChannelModel> {
  const conn = await amqp.connect(url)
  conn.on('error', () => {})
  return conn
}

faultDescribe('F6: RabbitMQ stopped and restarted under load', privateRabbitMissing(), () => {
  let rabbit: PrivateRabbit
  let db: TestDatabase
  let store: Store
  const names = { exchange: 'f6.events', tap: 'f6.tap', inbound: 'f6.in', dlx: 'f6.dlx' }

  beforeAll(async () => {
    rabbit = await PrivateRabbit.start()
    const conn = await connect(rabbit.url)
    const ch = await conn.createChannel()
    await ch.assertExchange(names.exchange, 'topic', { durable: true })
    await ch.assertQueue(names.tap, QUORUM)
    await ch.bindQueue(names.tap, names.exchange, '#')
    await conn.close()
    db = await createTestDatabase('sqlite')
    store = await db.open()
  }, 90_000)
  afterAll(async () => {
    await rabbit?.close()
    await store?.close()
    await db?.cleanup()
  })

  it('loses no confirmed message and stores none twice; relays every event at least once', async () => {
    const relay = await startAmqpRelay(store, {
      url: rabbit.url,
      exchange: names.exchange,
      pollMs: 50,
      batch: 20,
    })
    const source = await startAmqpSource(
      { name: 'bus', plant: 'P100', url: rabbit.url, queue: names.inbound, deadLetterExchange: names.dlx },
      (d) => store.insertRawDelivery(d),
    )
    const eventIds: string[] = []
    const confirmed: string[] = []
    let republished = 0
    let producer: { conn: amqp.ChannelModel; ch: amqp.ConfirmChannel } | undefined
    const channel = async () => {
      if (producer) return producer.ch
      const conn = await connect(rabbit.url)
      const ch = await conn.createConfirmChannel()
      ch.on('error', () => {})
      const current = { conn, ch }
      conn.on('close', () => {
        if (producer === current) producer = undefined
      })
      producer = current
      return ch
    }
    // The producer: batches of 25 with publisher confirms; a batch the stop left unconfirmed is
    // published again, same message ids, once the broker is back (what any careful producer does).
    const produce = async (from: number, n: number) => {
      for (let i = from; i < from + n; i += 25) {
        const batch = Array.from({ length: Math.min(25, from + n - i) }, (_, k) => `msg-${i + k}`)
        for (let attempt = 0; ; attempt++) {
          try {
            const ch = await channel()
            for (const id of batch)
              ch.sendToQueue(names.inbound, Buffer.from(JSON.stringify({ id })), {
                messageId: id,
                persistent: true,
              })
            await ch.waitForConfirms()
            confirmed.push(...batch)
            await sleep(40) // a steady stream, so the stop lands in the middle of it
            break
          } catch {
            producer = undefined
            if (attempt === 0) republished += batch.length
            await sleep(200)
          }
        }
      }
    }
    const appendEvents = async (n: number) => {
      for (let i = 0; i < n; i += 10) {
        const events = Array.from({ length: 10 }, () => ping() as unknown as CloudEvent)
        eventIds.push(...events.map((e) => e.id))
        await append(store, ...events)
        await sleep(20)
      }
    }
    const stored = async () => store.ingress.listRawDeliveries(ALL, { source: 'bus', limit: 10_000 })

    try {
      // load on both paths, and the stop in the middle of it
      const load = Promise.all([produce(0, 1000), appendEvents(600)])
      await until(
        async () => (await stored()).length >= 100 && (await store.ingress.getCursor('relay:amqp')) !== null,
      )
      await rabbit.stop('SIGTERM')
      const stoppedAt = Date.now()
      await appendEvents(100) // committed while the broker is down: relayed later, never skipped
      await rabbit.boot()
      const restartedAt = Date.now()
      await load
      await produce(1000, 100)
      await appendEvents(100)

      await until(async () => (await stored()).length >= confirmed.length, 90_000)
      const recoveredAt = Date.now()
      // every relayed event from the tap, deduplicated by messageId as consumers do
      const conn = await connect(rabbit.url)
      const ch = await conn.createChannel()
      const tapped: string[] = []
      await ch.consume(names.tap, (m) => m && tapped.push(String(m.properties.messageId)), { noAck: true })
      await until(() => new Set(tapped).size >= eventIds.length, 90_000)
      await conn.close()

      const raws = await stored()
      report('F6 RabbitMQ restart: AMQP source', {
        acked: confirmed,
        stored: raws.map((r) => r.deliveryId),
        faultEndedAt: restartedAt,
        recoveredAt,
        detail: `down ${restartedAt - stoppedAt} ms; ${republished} messages republished by the producer after the stop`,
      })
      expect(raws).toHaveLength(new Set(confirmed).size)
      report('F6 RabbitMQ restart: AMQP relay', {
        acked: eventIds,
        stored: [...new Set(tapped)],
        detail: `${tapped.length} deliveries for ${eventIds.length} events (at least once)`,
      })
      expect(tapped.length).toBeGreaterThanOrEqual(eventIds.length)
      // the relay's cursor stands at the last event, which it could only pass after a confirm
      const last = (await store.listEvents(ALL, { limit: 10_000 })).at(-1)!
      await until(async () => decodeCursor((await store.ingress.getCursor('relay:amqp'))!)?.seq === last.seq)
    } finally {
      await relay.close().catch(() => {})
      await source.close().catch(() => {})
      await producer?.conn.close().catch(() => {})
    }
  }, 300_000)
})

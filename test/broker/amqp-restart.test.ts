/**
 * Issue 11 (and fault F6 for RabbitMQ): the broker link dies mid-stream. Relay and queue source
 * reach RabbitMQ through a TCP fault proxy that drops every connection and refuses new ones for a
 * while, then heals (what a client sees of a broker restart; the local broker itself is shared
 * and must not be restarted). Every event is relayed at least once and the set of message ids is
 * complete; every queued message is stored exactly once; both reconnect without a restart.
 */
import amqp from 'amqplib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAmqpRelay, startAmqpSource } from '../../src/connectors/broker/amqp.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, append, until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { FaultProxy } from '../faults/fault-proxy.ts'
import { serviceUp, uniqueName } from '../services.ts'

const DIRECT = 'amqp://guest:guest@127.0.0.1:5672'

describe.skipIf(!(await serviceUp('rabbitmq')))('RabbitMQ relay and source through a broken link', () => {
  const u = uniqueName('qlk')
  const names = { exchange: `${u}.events`, tap: `${u}.tap`, inbound: `${u}.in`, dlx: `${u}.dlx` }
  let db: TestDatabase
  let store: Store
  let proxy: FaultProxy
  let conn: amqp.ChannelModel
  let ch: amqp.Channel
  const closers: Array<() => Promise<void>> = []

  beforeAll(async () => {
    db = await createTestDatabase('sqlite')
    store = await db.open()
    proxy = await FaultProxy.start({ port: 5672 })
    conn = await amqp.connect(DIRECT)
    ch = await conn.createChannel()
    await ch.assertExchange(names.exchange, 'topic', { durable: true })
    await ch.assertQueue(names.tap, { durable: false })
    await ch.bindQueue(names.tap, names.exchange, '#')
  })
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {})
    await proxy?.close()
    for (const q of [names.tap, names.inbound]) await ch?.deleteQueue(q).catch(() => {})
    for (const x of [names.exchange, names.dlx]) await ch?.deleteExchange(x).catch(() => {})
    await conn?.close().catch(() => {})
    await store?.close()
    await db?.cleanup()
  })

  it('relays every event at least once and stores every queued message once across the cut', async () => {
    const viaProxy = `amqp://guest:guest@${proxy.host}`
    const relay = await startAmqpRelay(store, { url: viaProxy, exchange: names.exchange, pollMs: 50 })
    closers.push(relay.close)
    const source = await startAmqpSource(
      { name: 'bus', plant: 'P100', url: viaProxy, queue: names.inbound, deadLetterExchange: names.dlx },
      (d) => store.insertRawDelivery(d),
    )
    closers.push(source.close)
    const ids: string[] = []
    const events = (n: number) =>
      Array.from({ length: n }, () => {
        const e = ping() as unknown as CloudEvent
        ids.push(e.id)
        return e
      })
    const seen = new Set<string>()
    let deliveries = 0
    await ch.consume(
      names.tap,
      (m) => {
        if (!m) return
        deliveries++
        seen.add(String(m.properties.messageId))
      },
      { noAck: true },
    )
    const queued = (from: number, n: number) => {
      for (let i = from; i < from + n; i++)
        ch.sendToQueue(names.inbound, Buffer.from(`{"n":${i}}`), { messageId: `msg-${i}` })
    }

    await append(store, ...events(20))
    queued(0, 10)
    await until(() => seen.size === 20)
    await until(async () => (await store.ingress.listRawDeliveries(ALL, { limit: 100 })).length === 10)

    proxy.partition('refuse') // every connection through the proxy dropped, new ones refused
    await append(store, ...events(20))
    queued(10, 10) // the broker keeps these for the source while its link is down
    await new Promise((r) => setTimeout(r, 1000))
    expect(seen.size).toBe(20) // nothing can pass while the link is down
    proxy.heal()

    await until(() => seen.size === 40, 30_000)
    await until(
      async () => (await store.ingress.listRawDeliveries(ALL, { limit: 100 })).length === 20,
      30_000,
    )
    expect([...seen].sort()).toEqual([...ids].sort())
    expect(deliveries).toBeGreaterThanOrEqual(40) // at least once: a page unconfirmed at the cut is sent again
    const raws = await store.ingress.listRawDeliveries(ALL, { limit: 100 })
    expect(new Set(raws.map((r) => r.deliveryId)).size).toBe(20)
    expect(proxy.counts.refused).toBeGreaterThan(0)
  }, 60_000)
})

import amqp from 'amqplib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startAmqpRelay, startAmqpSource } from '../../src/connectors/broker/amqp.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, append, until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { serviceUp, uniqueName } from '../services.ts'

const URL = 'amqp://guest:guest@127.0.0.1:5672'

describe.skipIf(!(await serviceUp('rabbitmq')))('RabbitMQ relay and source against the local broker', () => {
  let db: TestDatabase
  let store: Store
  let names: { exchange: string; queue: string; dlx: string; dlq: string; inbound: string }

  beforeEach(async () => {
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    const u = uniqueName('qlk')
    names = {
      exchange: `${u}.events`,
      queue: `${u}.events.q`,
      dlx: `${u}.dlx`,
      dlq: `${u}.dlq`,
      inbound: `${u}.inbound`,
    }
  })
  afterEach(async () => {
    const conn = await amqp.connect(URL)
    const ch = await conn.createChannel()
    for (const q of [names.queue, names.dlq, names.inbound]) await ch.deleteQueue(q).catch(() => {})
    for (const x of [names.exchange, names.dlx]) await ch.deleteExchange(x).catch(() => {})
    await conn.close().catch(() => {})
    await store?.close()
    await db?.cleanup()
  })

  it('relays every event with publisher confirms to a quorum queue, under its id', async () => {
    const conn = await amqp.connect(URL)
    const ch = await conn.createChannel()
    await ch.assertExchange(names.exchange, 'topic', { durable: true })
    await ch.assertQueue(names.queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    await ch.bindQueue(names.queue, names.exchange, '#')
    const events = [ping({ plant: 'P100' }), ping({ plant: 'P200' })]
    await append(store, ...(events as unknown as CloudEvent[]))
    const relay = await startAmqpRelay(store, { url: URL, exchange: names.exchange, name: names.exchange })
    try {
      expect(await relay.relayOnce()).toBe(2)
      expect(await relay.relayOnce()).toBe(0) // the cursor moved after the confirms
      const got: Array<{ id: string; key: string }> = []
      await until(async () => {
        const m = await ch.get(names.queue, { noAck: true })
        if (m) got.push({ id: String(m.properties.messageId), key: m.fields.routingKey })
        return got.length === 2
      })
      expect(got.map((g) => g.id).sort()).toEqual(events.map((e) => e.id as string).sort())
      expect(got.map((g) => g.key)).toContain('P200.qualink.test.pinged.v1')
    } finally {
      await relay.close()
      await conn.close()
    }
  })

  it('consumes with acks after commit, deduplicates by message id, dead-letters what can never be accepted', async () => {
    const source = await startAmqpSource(
      { name: 'lims-amqp', plant: 'P100', url: URL, queue: names.inbound, deadLetterExchange: names.dlx },
      (d) => store.insertRawDelivery(d),
    )
    const conn = await amqp.connect(URL)
    const ch = await conn.createConfirmChannel()
    await ch.assertQueue(names.dlq, { durable: true })
    await ch.bindQueue(names.dlq, names.dlx, '')
    try {
      for (const id of ['m-1', 'm-2', 'm-1'])
        ch.sendToQueue(names.inbound, Buffer.from(`{"n":"${id}"}`), { messageId: id, persistent: true })
      ch.sendToQueue(names.inbound, Buffer.alloc(0), { messageId: 'poison', persistent: true })
      await ch.waitForConfirms()
      await until(async () => (await ch.checkQueue(names.dlq)).messageCount === 1)
      await until(async () => (await ch.checkQueue(names.inbound)).messageCount === 0)
      const raws = await store.ingress.listRawDeliveries(ALL, { limit: 10 })
      expect(raws.map((r) => r.deliveryId).sort()).toEqual(['m-1', 'm-2'])
      const dead = await ch.get(names.dlq, { noAck: true })
      expect(dead ? dead.properties.messageId : undefined).toBe('poison')
    } finally {
      await source.close()
      await conn.close()
    }
  })
})

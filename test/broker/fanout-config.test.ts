/**
 * Broker fan-out and broker ingress declared in qualink.yaml, run by a configured Qualink: every
 * event reaches a JetStream stream (Nats-Msg-Id = event id) and a RabbitMQ topic exchange
 * (messageId = event id), and a message on a configured quorum queue is stored as a raw delivery
 * once, under its message id. Bad broker settings are refused at their paths.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import amqp from 'amqplib'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { baseDoc, problemsOf, TempDir } from '../config/fixture.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, demoEvent, until } from '../engine/harness.ts'
import { serviceUp, uniqueName } from '../services.ts'

const NATS = 'nats://127.0.0.1:4222'
const AMQP = 'amqp://guest:guest@127.0.0.1:5672'
const up = (await serviceUp('nats')) && (await serviceUp('rabbitmq'))

describe.skipIf(!up)('fan-out and broker ingress from qualink.yaml', () => {
  const u = uniqueName('qlk').replace(/[^A-Za-z0-9_-]/g, '_')
  const names = {
    stream: `S_${u}`,
    prefix: `p_${u}`,
    exchange: `${u}.events`,
    tap: `${u}.tap`,
    inbound: `${u}.in`,
    dlx: `${u}.dlx`,
  }
  let tmp: TempDir
  let db: TestDatabase
  let store: Store
  let q: Qualink
  let conn: amqp.ChannelModel
  let ch: amqp.Channel

  beforeAll(async () => {
    const nc = await connect({ servers: NATS })
    await (await jetstreamManager(nc)).streams.add({ name: names.stream, subjects: [`${names.prefix}.>`] })
    await nc.drain()
    conn = await amqp.connect(AMQP)
    ch = await conn.createChannel()
    await ch.assertExchange(names.exchange, 'topic', { durable: true })
    await ch.assertQueue(names.tap, { durable: false })
    await ch.bindQueue(names.tap, names.exchange, '#')

    tmp = new TempDir()
    tmp.write('amqp-url.txt', `${AMQP}\n`)
    const doc = baseDoc()
    doc.fanout = {
      nats: { servers: NATS, subjectPrefix: names.prefix },
      amqp: { url: { secretFile: 'amqp-url.txt' }, exchange: names.exchange },
    }
    ;(doc.ingress as Record<string, unknown>).amqp = {
      'crm-bus': {
        plant: 'P100',
        translator: 'crm-webhook',
        url: { secretEnv: 'QLK_TEST_AMQP_URL' },
        queue: names.inbound,
        deadLetterExchange: names.dlx,
      },
    }
    const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', doc), {}), {
      ...process.env,
      ERP_SECRET: 'x',
      ERPNEXT_KEY: 'k',
      ERPNEXT_SECRET: 's',
      QLK_TEST_AMQP_URL: AMQP,
    })
    expect(rt.summary).toMatch(/3 ingress sources/)
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    const { workflows: _none, ...broker } = rt.options
    q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: `${db.dir}/anchors.jsonl`,
      natsRelay: broker.natsRelay,
      amqpRelay: broker.amqpRelay,
      amqpSources: broker.amqpSources,
    })
  })
  afterAll(async () => {
    await q?.close()
    await store?.close()
    await db?.cleanup()
    for (const queue of [names.tap, names.inbound]) await ch?.deleteQueue(queue).catch(() => {})
    for (const x of [names.exchange, names.dlx]) await ch?.deleteExchange(x).catch(() => {})
    await conn?.close().catch(() => {})
    const nc = await connect({ servers: NATS })
    await (await jetstreamManager(nc)).streams.delete(names.stream).catch(() => false)
    await nc.drain()
    tmp?.remove()
  })

  it('relays each event to JetStream and RabbitMQ under its id, and stores a queued message once', async () => {
    const event = demoEvent('order_received', { order: 'F-1', lines: 1 })
    const r = await q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(event),
    })
    expect(r.statusCode).toBe(202)
    // JetStream: one message under the event's subject, Nats-Msg-Id = event id
    const nc = await connect({ servers: NATS })
    const jsm = await jetstreamManager(nc)
    await until(async () => (await jsm.streams.info(names.stream)).state.messages === 1)
    const m = await jsm.streams.getMessage(names.stream, { seq: 1 })
    expect(m?.subject).toBe(`${names.prefix}.P100.${event.type}`)
    expect(m?.header?.get('Nats-Msg-Id')).toBe(event.id)
    await nc.drain()
    // RabbitMQ: the tap queue bound to the exchange sees it with messageId = event id
    let got: amqp.GetMessage | false = false
    await until(async () => {
      got = await ch.get(names.tap, { noAck: true })
      return got !== false
    })
    const msg = got as unknown as amqp.GetMessage
    expect(msg.fields.routingKey).toBe(`P100.${event.type}`)
    expect(msg.properties.messageId).toBe(event.id)
    // broker ingress: the configured quorum queue (declared by the source) feeds raw deliveries
    await until(async () => (await ch.checkQueue(names.inbound).catch(() => undefined)) !== undefined)
    for (let i = 0; i < 2; i++)
      ch.sendToQueue(names.inbound, Buffer.from('{"complaint":"C-1"}'), { messageId: 'crm-msg-1' })
    await until(async () => (await store.ingress.listRawDeliveries(ALL, { limit: 10 })).length === 1)
    await new Promise((r) => setTimeout(r, 300)) // the redelivered copy is absorbed, not stored again
    const raws = await store.ingress.listRawDeliveries(ALL, { limit: 10 })
    expect(raws.map((d) => [d.source, d.deliveryId])).toEqual([['crm-bus', 'crm-msg-1']])
  })

  it('refuses bad broker settings at their paths', () => {
    const doc = baseDoc()
    doc.fanout = {
      nats: { servers: 'http://nats:4222' },
      amqp: { url: 'amqp://guest:guest@h', exchange: '' },
    }
    const paths = new Set(problemsOf(tmp, doc).map((p) => p.path))
    expect([...paths].sort()).toEqual(['/fanout/amqp/exchange', '/fanout/amqp/url', '/fanout/nats/servers'])
  })
})

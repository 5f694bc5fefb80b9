/**
 * A consumer span per delivery of every polled/subscribed source (MQTT, NATS JetStream, AMQP,
 * file drop, OPC UA), continuing the trace the message carried (MQTT 5 user property, NATS and
 * AMQP headers, the CloudEvents traceparent extension of a structured-mode body) or starting one,
 * with the delivery's translation as its child. Real brokers, a real OPC UA server, one Qualink
 * on SQLite exporting over OTLP to an in-test receiver.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node'
import amqp from 'amqplib'
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { opcUaSources } from '../../src/config/opcua-runtime.ts'
import { cloudEventTraceparent } from '../../src/connectors/ingress/receive-span.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import type { Translator } from '../../src/engine/translation-stage.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { type OpcUaPeer, PEER_NODES, startOpcUaPeer } from '../connectors/opcua-peer.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { freePort, serviceUp, uniqueName } from '../services.ts'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts'

const MQTT = 'mqtt://127.0.0.1:1883'
const NATS = 'nats://127.0.0.1:4222'
const AMQP = 'amqp://guest:guest@127.0.0.1:5672'
const CONSUMER = 5
const hex = (bytes: number) => randomBytes(bytes).toString('hex')
const traceparent = () => {
  const [traceId, spanId] = [hex(16), hex(8)]
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` }
}

/** Every delivery of a source is one pinged event naming the source. */
const ping = (source: string): Translator => ({
  source,
  async translate(raw) {
    return [
      {
        specversion: '1.0',
        id: `${raw.deliveryId}#0`,
        source: `urn:${source}`,
        type: 'qualink.test.pinged.v1',
        plant: raw.plant,
        data: { note: source },
      } as CloudEvent,
    ]
  },
})

const up = {
  mqtt: await serviceUp('mosquitto'),
  nats: await serviceUp('nats'),
  amqp: await serviceUp('rabbitmq'),
}

describe('a span per source delivery, continuing the carried trace', () => {
  let db: TestDatabase
  let store: Store
  let q: Qualink | undefined
  let receiver: OtlpReceiver
  let peer: OpcUaPeer
  let dir: string
  const names = {
    mqttClient: uniqueName('qlk-trace-mqtt'),
    topic: uniqueName('qlk-trace'),
    stream: uniqueName('QLKTRACE').replace(/[^A-Za-z0-9_-]/g, '_'),
    subject: uniqueName('qlktrace').replace(/[^A-Za-z0-9_-]/g, '_'),
    queue: uniqueName('qlk-trace-q'),
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-trace-src-'))
    mkdirSync(path.join(dir, 'drop'))
    peer = await startOpcUaPeer({ port: await freePort(), pkiDir: path.join(dir, 'peer-pki') })
    receiver = await startOtlpReceiver()
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    if (up.nats) {
      const nc = await natsConnect({ servers: NATS })
      await (await jetstreamManager(nc)).streams.add({ name: names.stream, subjects: [`${names.subject}.>`] })
      await nc.drain()
    }
    q = await startQualink({
      store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: path.join(dir, 'anchors.jsonl'),
      tracing: { otlpEndpoint: receiver.url, serviceName: 'qualink-sources' },
      translators: ['mes-mqtt', 'mes-nats', 'mes-amqp', 'lims-drop', 'line1-opc'].map(ping),
      ...(up.mqtt
        ? {
            mqtt: [
              {
                name: 'mes-mqtt',
                plant: 'P100',
                url: MQTT,
                clientId: names.mqttClient,
                topics: [`${names.topic}/#`],
              },
            ],
          }
        : {}),
      ...(up.nats
        ? {
            natsSources: [
              { name: 'mes-nats', plant: 'P100', servers: NATS, stream: names.stream, durable: 'qualink' },
            ],
          }
        : {}),
      ...(up.amqp
        ? {
            amqpSources: [
              {
                name: 'mes-amqp',
                plant: 'P100',
                url: AMQP,
                queue: names.queue,
                deadLetterExchange: `${names.queue}.dlx`,
              },
            ],
          }
        : {}),
      fileDrops: [
        {
          name: 'lims-drop',
          plant: 'P100',
          dir: path.join(dir, 'drop'),
          pattern: /\.(csv|json)$/,
          pollMs: 50,
          settleMs: 0,
        },
      ],
      opcua: opcUaSources(
        {
          'line1-opc': {
            plant: 'P100',
            endpoint: peer.url,
            samplingInterval: '10ms',
            publishingInterval: '50ms',
            equipment: 'L1',
            context: { productionOrder: PEER_NODES.order.id, operation: PEER_NODES.operation.id },
            measurements: [
              {
                nodeId: PEER_NODES.diameter.id,
                characteristic: 'TORQUE',
                unit: 'NM',
                sampling: { every: 1 },
              },
            ],
            reconnect: { initialDelay: '100ms', maxDelay: '500ms' },
          },
        },
        { dataDir: path.join(dir, 'opc'), baseDir: dir, secret: () => '', translatorOf: () => undefined },
      ),
    })
  }, 90_000)

  afterAll(async () => {
    await q?.close()
    if (up.mqtt) {
      const cleaner = await mqtt.connectAsync(MQTT, { clientId: names.mqttClient, clean: true })
      await cleaner.endAsync()
    }
    if (up.nats) {
      const nc = await natsConnect({ servers: NATS })
      await (await jetstreamManager(nc)).streams.delete(names.stream).catch(() => false)
      await nc.drain()
    }
    if (up.amqp) {
      const conn = await amqp.connect(AMQP)
      const ch = await conn.createChannel()
      await ch.deleteQueue(names.queue).catch(() => undefined)
      await ch.deleteExchange(`${names.queue}.dlx`).catch(() => undefined)
      await conn.close()
    }
    await store?.close()
    await db?.cleanup()
    await receiver?.close()
    await peer?.close()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  const stored = async (source: string) =>
    (await store.ingress.listRawDeliveries(ALL, { limit: 100 })).filter((r) => r.source === source)
  const translated = async (source: string, n: number) =>
    until(async () => (await stored(source)).filter((r) => r.status === 'translated').length >= n, 30_000)
  /** The exported spans so far: a flush of the batch exporter first. */
  const spans = async (): Promise<ReceivedSpan[]> => {
    await q!.flushTraces()
    return receiver.spans
  }
  /** The receive span of a delivery and its translation, which must be its child. */
  const receiveOf = async (source: string, deliveryId: string) => {
    const all = await spans()
    const receive = all.filter(
      (s) => s.name === `receive ${source}` && s.attributes['qualink.ingress.delivery_id'] === deliveryId,
    )
    expect(receive, `receive span of ${source} ${deliveryId}`).toHaveLength(1)
    expect(receive[0]!.kind).toBe(CONSUMER)
    const translate = all.filter(
      (s) => s.name === `translate ${source}` && s.attributes['qualink.ingress.delivery_id'] === deliveryId,
    )
    expect(translate.map((t) => [t.traceId, t.parentSpanId])).toEqual([
      [receive[0]!.traceId, receive[0]!.spanId],
    ])
    return receive[0]!
  }

  it.skipIf(!up.mqtt)(
    'MQTT: an MQTT 5 user property traceparent is continued; without one a trace starts',
    async () => {
      const tp = traceparent()
      const pub = await mqtt.connectAsync(MQTT, { clientId: uniqueName('qlk-trace-pub'), protocolVersion: 5 })
      await pub.publishAsync(`${names.topic}/a`, JSON.stringify({ messageId: 'm-traced' }), {
        qos: 1,
        properties: { userProperties: { traceparent: tp.header } },
      })
      await pub.publishAsync(`${names.topic}/a`, JSON.stringify({ messageId: 'm-plain' }), { qos: 1 })
      await pub.endAsync()
      await translated('mes-mqtt', 2)
      const traced = await receiveOf('mes-mqtt', 'm-traced')
      expect([traced.traceId, traced.parentSpanId]).toEqual([tp.traceId, tp.spanId])
      expect(traced.attributes).toMatchObject({ 'messaging.system': 'mqtt', 'qualink.plant': 'P100' })
      const plain = await receiveOf('mes-mqtt', 'm-plain')
      expect(plain.parentSpanId).toBeUndefined()
      expect(plain.traceId).not.toBe(tp.traceId)
      // the raw delivery keeps the receive span's trace context, which its translation continued
      const raw = (await stored('mes-mqtt')).find((r) => r.deliveryId === 'm-traced')!
      expect(raw.headers.traceparent).toBe(`00-${tp.traceId}-${traced.spanId}-01`)
    },
  )

  it.skipIf(!up.nats)('NATS: a traceparent header is continued', async () => {
    const tp = traceparent()
    const nc = await natsConnect({ servers: NATS })
    const h = natsHeaders()
    h.set('traceparent', tp.header)
    await jetstream(nc).publish(`${names.subject}.mes`, JSON.stringify({ n: 1 }), {
      msgID: 'n-traced',
      headers: h,
    })
    await nc.drain()
    await translated('mes-nats', 1)
    const span = await receiveOf('mes-nats', 'n-traced')
    expect([span.traceId, span.parentSpanId]).toEqual([tp.traceId, tp.spanId])
    expect(span.attributes['messaging.system']).toBe('nats')
  })

  it.skipIf(!up.amqp)('AMQP: a traceparent application header is continued', async () => {
    await until(async () => {
      const conn = await amqp.connect(AMQP)
      try {
        const ch = await conn.createChannel()
        return (await ch.checkQueue(names.queue).catch(() => undefined)) !== undefined
      } finally {
        await conn.close().catch(() => undefined)
      }
    }, 30_000)
    const tp = traceparent()
    const conn = await amqp.connect(AMQP)
    const ch = await conn.createConfirmChannel()
    ch.sendToQueue(names.queue, Buffer.from('{"n":1}'), {
      messageId: 'a-traced',
      headers: { traceparent: tp.header },
    })
    await ch.waitForConfirms()
    await conn.close()
    await translated('mes-amqp', 1)
    const span = await receiveOf('mes-amqp', 'a-traced')
    expect([span.traceId, span.parentSpanId]).toEqual([tp.traceId, tp.spanId])
  })

  it('file drop: a structured CloudEvent file continues its traceparent extension; a CSV starts a trace', async () => {
    const tp = traceparent()
    const event = {
      specversion: '1.0',
      id: 'f-1',
      source: 'urn:lims',
      type: 'x.y.z.v1',
      traceparent: tp.header,
    }
    expect(cloudEventTraceparent(Buffer.from(JSON.stringify(event)))).toBe(tp.header)
    writeFileSync(path.join(dir, 'drop', 'event.json'), JSON.stringify(event))
    writeFileSync(path.join(dir, 'drop', 'results.csv'), 'sample,value\nS1,7.1\n')
    await translated('lims-drop', 2)
    const [json, csv] = await Promise.all(
      ['event.json', 'results.csv'].map(
        async (f) => (await stored('lims-drop')).find((r) => r.headers['file-name'] === f)!,
      ),
    )
    const traced = await receiveOf('lims-drop', json!.deliveryId)
    expect([traced.traceId, traced.parentSpanId]).toEqual([tp.traceId, tp.spanId])
    expect(traced.attributes['messaging.system']).toBe('file')
    const plain = await receiveOf('lims-drop', csv!.deliveryId)
    expect(plain.parentSpanId).toBeUndefined()
  })

  it('OPC UA: each sampled value delivery is a span of its own trace', async () => {
    for (const v of [12.5, 12.6]) peer.set('diameter', v)
    await until(async () => (await stored('line1-opc')).some((r) => r.status === 'translated'), 30_000)
    const [first] = (await stored('line1-opc')).filter((r) => r.status === 'translated')
    const span = await receiveOf('line1-opc', first!.deliveryId)
    expect(span.parentSpanId).toBeUndefined()
    expect(span.attributes).toMatchObject({
      'messaging.system': 'opcua',
      'qualink.ingress.source': 'line1-opc',
    })
  })
})

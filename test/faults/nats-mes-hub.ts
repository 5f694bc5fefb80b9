/**
 * A Qualink on a fresh database ingesting MES completions from a private JetStream stream on
 * the shared NATS (unique stream and subject per test), for the broker fault scenarios (F7,
 * F15). `useNatsMesHub` registers it per test; `publish` sends an MES message with its
 * Nats-Msg-Id and returns the stream's PubAck.
 */
import { jetstream, jetstreamManager, type PubAck } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import pino from 'pino'
import { afterEach, beforeEach } from 'vitest'
import { mesTranslator } from '../../src/connectors/mes/mqtt/translator.ts'
import { type Qualink, type QualinkOptions, startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type Dialect, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { serviceUp, uniqueName } from '../services.ts'

export const NATS = 'nats://127.0.0.1:4222'
const DURABLE = 'qualink'

export const natsMissing = async () =>
  (await serviceUp('nats')) ? undefined : 'the local NATS on 127.0.0.1:4222 is not answering'

/** An MES operation-completed message (docs/simulators.md "mes") with one measurement. */
export const mesMessage = (id: string, order: string, sequence?: number, characteristic = 'DIAMETER') => ({
  messageId: id,
  ...(sequence === undefined ? {} : { sequence }),
  line: 'L1',
  operation: '0010',
  orderId: order,
  completedAt: '2026-11-27T08:00:00Z',
  consumed: [],
  produced: [],
  measurements: [{ characteristic, value: '10.01', unit: 'mm' }],
})

export interface NatsMesHub {
  readonly db: TestDatabase
  readonly store: Store
  readonly q: Qualink
  readonly nc: NatsConnection
  readonly stream: string
  publish(id: string, body: unknown): Promise<PubAck>
  /** resolves once every stream message up to `seq` is delivered to Qualink and acked by it */
  allAcked(seq?: number): Promise<void>
  runsOf(key: string): ReturnType<Store['engine']['listRuns']>
  storedIds(): Promise<string[]>
}

export function useNatsMesHub(
  dialect: Dialect,
  opts: { workflows: QualinkOptions['workflows']; duplicateWindowMs?: number },
): NatsMesHub {
  const hub = {} as { -readonly [K in keyof NatsMesHub]: NatsMesHub[K] }
  let subject = ''
  beforeEach(async () => {
    hub.db = await createTestDatabase(dialect, { migrated: true })
    hub.store = await hub.db.open()
    hub.stream = uniqueName('QLKFAULT').replace(/[^A-Za-z0-9_-]/g, '_')
    subject = uniqueName('qlkfault').replace(/[^A-Za-z0-9_-]/g, '_')
    hub.nc = await connect({ servers: NATS })
    await (await jetstreamManager(hub.nc)).streams.add({
      name: hub.stream,
      subjects: [`${subject}.>`],
      // nanoseconds, as the JetStream API takes durations
      ...(opts.duplicateWindowMs ? { duplicate_window: opts.duplicateWindowMs * 1_000_000 } : {}),
    })
    hub.q = await startQualink({
      store: hub.store,
      port: 0,
      logger: pino({ level: 'silent' }),
      anchorFile: `${hub.db.dir}/anchors.jsonl`,
      natsSources: [{ name: 'mes-nats', plant: 'P100', servers: NATS, stream: hub.stream, durable: DURABLE }],
      translators: [mesTranslator({ source: 'mes-nats' })],
      workflows: opts.workflows,
    })
  })
  afterEach(async () => {
    await hub.q?.close()
    if (hub.nc) {
      await (await jetstreamManager(hub.nc)).streams.delete(hub.stream).catch(() => false)
      await hub.nc.drain()
    }
    await hub.store?.close()
    await hub.db?.cleanup()
  })
  hub.publish = (id, body) => jetstream(hub.nc).publish(`${subject}.mes`, JSON.stringify(body), { msgID: id })
  hub.allAcked = (seq = 0) =>
    until(async () => {
      // The source creates its durable consumer when it starts: until then there is nothing to ask.
      const info = await (await jetstreamManager(hub.nc)).consumers
        .info(hub.stream, DURABLE)
        .catch(() => undefined)
      return (
        !!info && info.delivered.stream_seq >= seq && info.num_ack_pending === 0 && info.num_pending === 0
      )
    })
  hub.runsOf = (key) => hub.store.engine.listRuns(ALL, { key, limit: 10 })
  hub.storedIds = async () => (await hub.store.listEvents(ALL, { limit: 1000 })).map((e) => e.id)
  return hub
}

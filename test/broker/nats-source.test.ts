import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startNatsSource } from '../../src/connectors/broker/nats-source.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { serviceUp, uniqueName } from '../services.ts'

const NATS = 'nats://127.0.0.1:4222'

describe.skipIf(!(await serviceUp('nats')))('ingest from the local NATS JetStream', () => {
  let db: TestDatabase
  let store: Store
  let stream: string
  let prefix: string

  beforeEach(async () => {
    db = await createTestDatabase('sqlite', { migrated: true })
    store = await db.open()
    stream = uniqueName('QLKIN').replace(/[^A-Za-z0-9_-]/g, '_')
    prefix = uniqueName('qlkin').replace(/[^A-Za-z0-9_-]/g, '_')
    const nc = await connect({ servers: NATS })
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${prefix}.>`] })
    await nc.drain()
  })
  afterEach(async () => {
    const nc = await connect({ servers: NATS })
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false)
    await nc.drain()
    await store?.close()
    await db?.cleanup()
  })

  it('stores each message once through a durable consumer, across a restart, acking after commit', async () => {
    const nc = await connect({ servers: NATS })
    const js = jetstream(nc)
    const cfg = { name: 'mes-nats', plant: 'P100', servers: NATS, stream, durable: 'qualink' }
    let source = await startNatsSource(cfg, (d) => store.insertRawDelivery(d))
    for (const id of ['a', 'b', 'c']) await js.publish(`${prefix}.mes`, JSON.stringify({ id }), { msgID: id })
    await until(async () => (await store.ingress.listRawDeliveries(ALL, { limit: 10 })).length === 3)
    await source.close()
    // Published while Qualink was away, plus a publisher's resend of 'c' (JetStream drops it inside
    // its duplicate window; beyond it the raw-delivery table would).
    for (const id of ['d', 'e']) await js.publish(`${prefix}.mes`, JSON.stringify({ id }), { msgID: id })
    await js.publish(`${prefix}.mes`, JSON.stringify({ id: 'c' }), { msgID: 'c' })
    source = await startNatsSource(cfg, (d) => store.insertRawDelivery(d))
    await until(async () => {
      const info = await (await jetstreamManager(nc)).consumers.info(stream, 'qualink')
      return info.num_ack_pending === 0 && info.num_pending === 0
    })
    await source.close()
    await nc.drain()
    const raws = await store.ingress.listRawDeliveries(ALL, { limit: 10 })
    expect(raws.map((r) => r.deliveryId).sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
  })
})

import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startNatsRelay } from '../../src/connectors/broker/nats-relay.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import type { Store } from '../../src/store/types.ts'
import {
  AVAILABLE,
  createTestDatabase,
  DIALECTS,
  type Dialect,
  type TestDatabase,
  untilTailCaughtUp,
} from '../dialects.ts'
import { append } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { serviceUp, uniqueName } from '../services.ts'

const NATS = 'nats://127.0.0.1:4222'
const natsUp = await serviceUp('nats')

describe.each(DIALECTS)('relay to the local NATS JetStream on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store
  let stream: string
  let prefix: string

  beforeEach(async (ctx) => {
    if (!AVAILABLE[dialect] || !natsUp) ctx.skip()
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    stream = uniqueName('QLK').replace(/[^A-Za-z0-9_-]/g, '_')
    prefix = uniqueName('qlk').replace(/[^A-Za-z0-9_-]/g, '_')
    const nc = await connect({ servers: NATS })
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], duplicate_window: 120_000_000_000 })
    await nc.drain()
  })
  afterEach(async () => {
    if (stream && natsUp) {
      const nc = await connect({ servers: NATS })
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false)
      await nc.drain()
    }
    await store?.close()
    await db?.cleanup()
  })

  async function readAll(): Promise<Array<{ subject: string; id: string; msgId: string | undefined }>> {
    const nc = await connect({ servers: NATS })
    const js = jetstream(nc)
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info(stream)
    const out: Array<{ subject: string; id: string; msgId: string | undefined }> = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq })
      if (!m) continue
      out.push({
        subject: m.subject,
        id: (m.json() as { id: string }).id,
        msgId: m.header?.get('Nats-Msg-Id'),
      })
    }
    void js
    await nc.drain()
    return out
  }

  it('publishes every event once under its id, marks progress only after the PubAck, and dedups a re-publish', async () => {
    const events = [
      ping({ plant: 'P100' }),
      ping({ plant: 'P200' }),
      ping({ plant: 'P100', type: 'qualink.test.pinged.v1' }),
    ]
    await append(store, ...(events as unknown as CloudEvent[]))
    // the relay tails below the visibility watermark, which any open write transaction on the
    // PostgreSQL server holds back (other test files' included): one relayOnce must see all three
    await untilTailCaughtUp(store)
    const relay = await startNatsRelay(store, {
      servers: NATS,
      subjectPrefix: prefix,
      name: stream,
      pollMs: 60_000,
    })
    try {
      await relay.relayOnce()
      let got = await readAll()
      expect(got.map((g) => g.id).sort()).toEqual(events.map((e) => e.id as string).sort())
      expect(got.every((g) => g.msgId === g.id)).toBe(true)
      expect(got.map((g) => g.subject)).toContain(`${prefix}.P200.qualink.test.pinged.v1`)
      // A crash before the cursor moved: the relay republishes from the old cursor; JetStream
      // answers duplicates and the stream still holds each event once.
      await store.ingress.setCursor(`relay:${stream}`, '0.0')
      const again = await relay.relayOnce()
      expect(again).toEqual({ published: 3, duplicates: 3 })
      got = await readAll()
      expect(got).toHaveLength(3)
    } finally {
      await relay.close()
    }
  })
})

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startNatsRelay } from '../../src/connectors/broker/nats-relay.ts'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { append, until } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'
import { freePort } from '../services.ts'
import { NATS_BIN, natsServerMissing } from './prerequisites.ts'
import { faultDescribe, report } from './report.ts'

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * F6 (reference/perf-reliability.md §6): the broker is killed and restarted while the relay
 * publishes. A private nats-server on its own port and store directory; the shared one on 4222
 * is never touched. Invariants: every event delivered at least once, once in the stream after
 * deduplication by Nats-Msg-Id, and the cursor never passes an unacknowledged event.
 */
faultDescribe('F6: NATS restart during the relay', natsServerMissing(), () => {
  let dir: string
  let port: number
  let server: ChildProcess | undefined
  let db: TestDatabase
  let store: Store

  const startServer = async () => {
    server = spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' })
    await until(() => portOpen(port), 10_000)
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-nats-'))
    port = await freePort()
    await startServer()
    const nc = await connect({ servers: `nats://127.0.0.1:${port}` })
    await (await jetstreamManager(nc)).streams.add({
      name: 'F6',
      subjects: ['f6.>'],
      duplicate_window: 300_000_000_000,
    })
    await nc.drain()
    db = await createTestDatabase('sqlite')
    store = await db.open()
  }, 30_000)
  afterAll(async () => {
    server?.kill('SIGKILL')
    await store?.close()
    await db?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  it('delivers every event once after a kill -9 and restart of the broker', async () => {
    const url = `nats://127.0.0.1:${port}`
    const relay = await startNatsRelay(store, {
      servers: url,
      subjectPrefix: 'f6',
      name: 'f6',
      pollMs: 50,
      batch: 20,
    })
    const ids: string[] = []
    const add = async (n: number) => {
      const events = Array.from({ length: n }, () => ping())
      ids.push(...events.map((e) => e.id as string))
      await append(store, ...(events as unknown as CloudEvent[]))
    }
    try {
      await add(100)
      await until(async () => (await store.ingress.getCursor('relay:f6')) !== null)
      server!.kill('SIGKILL')
      await new Promise((r) => server!.once('exit', r))
      await add(100) // committed while the broker is down: must wait, not be skipped
      await startServer()
      const restartedAt = Date.now()
      await add(100)
      await until(async () => {
        const nc = await connect({ servers: url })
        const info = await (await jetstreamManager(nc)).streams.info('F6')
        await nc.drain()
        return info.state.messages === 300
      }, 30_000)
      const recoveredAt = Date.now()
      const nc = await connect({ servers: url })
      const jsm = await jetstreamManager(nc)
      const inStream: string[] = []
      const info = await jsm.streams.info('F6')
      for (let s = info.state.first_seq; s <= info.state.last_seq; s++) {
        const m = await jsm.streams.getMessage('F6', { seq: s })
        if (m) inStream.push((m.json() as { id: string }).id)
      }
      await nc.drain()
      expect(info.state.messages).toBe(300)
      // Acknowledged = committed to the outbox; stored = in the stream, once each after dedup.
      report('F6 NATS kill -9 and restart', {
        acked: ids,
        stored: inStream,
        faultEndedAt: restartedAt,
        recoveredAt,
        detail: 'recover = broker restart to all 300 events in the stream',
      })
    } finally {
      await relay.close().catch(() => {})
    }
  })
})

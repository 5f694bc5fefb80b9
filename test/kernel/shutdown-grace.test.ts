/**
 * Shutdown lets requests in flight finish, but not forever: a request that does not finish (here
 * a client that sent its headers and stalls in the body) is named in a warning after the grace and
 * its connection is cut, so close() returns. Nothing of it was stored or acknowledged.
 */
import net from 'node:net'
import path from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { startQualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { createTestDatabase, type TestDatabase } from '../dialects.ts'
import { ALL } from '../engine/harness.ts'

let db: TestDatabase
let store: Store
const warnings: Error[] = []
const onWarning = (w: Error) => warnings.push(w)

beforeEach(async () => {
  db = await createTestDatabase('sqlite', { migrated: true })
  store = await db.open()
  warnings.length = 0
  process.on('warning', onWarning)
})
afterEach(async () => {
  process.off('warning', onWarning)
  await store?.close()
  await db?.cleanup()
})

it('cuts a request that stalls past the grace, names it, and closes', async () => {
  const q = await startQualink({
    store,
    port: 0,
    logger: pino({ level: 'silent' }),
    anchorFile: path.join(db.dir, 'a.jsonl'),
    shutdownGraceMs: 300,
  })
  const { port } = new URL(q.url)
  const socket = net.connect(Number(port), '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  const closedByServer = new Promise((resolve) => socket.once('close', resolve))
  socket.on('error', () => {})
  socket.write(
    'POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 500\r\n\r\n{"specversion":',
  )
  // the request has reached the server (its route's hooks ran) before shutdown starts
  await new Promise((r) => setTimeout(r, 200))
  await q.close()
  await closedByServer
  const named = warnings.filter((w) => w.name === 'QualinkShutdownWarning').map((w) => w.message)
  expect(named.join('\n')).toContain('POST /v1/events')
  expect(await store.listEvents(ALL, { limit: 10 })).toEqual([])
})

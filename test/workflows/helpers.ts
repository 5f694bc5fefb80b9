import { randomUUID } from 'node:crypto'
import net from 'node:net'
import { expect } from 'vitest'
import type { Qualink } from '../../src/server/qualink.ts'

/** A free loopback port, for simulators that must know Qualink's URL before it starts. */
export async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

/** Posts one canonical event through the ingest API, as a connector would, and expects 202. */
export async function postEvent(
  q: Qualink,
  type: string,
  subject: string,
  data: Record<string, unknown>,
  plant = 'P100',
) {
  const r = await q.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:test',
      type,
      subject,
      plant,
      data,
    }),
  })
  expect(r.statusCode).toBe(202)
}

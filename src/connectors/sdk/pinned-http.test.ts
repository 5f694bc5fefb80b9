import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { FREE_SOCKET_IDLE_MS, pinnedAgents, sendPinned } from './pinned-http.ts'

const servers: http.Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

/** A server that never closes an idle keep-alive socket itself (keepAliveTimeout 0: no timeout, no hint). */
async function patientServer(): Promise<{ url: URL; sockets: Socket[] }> {
  const sockets: Socket[] = []
  const s = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => res.end('{}'))
  })
  s.keepAliveTimeout = 0
  s.on('connection', (c) => sockets.push(c))
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return { url: new URL(`http://127.0.0.1:${(s.address() as AddressInfo).port}/documents`), sockets }
}

describe('pinned keep-alive agents', () => {
  it('close an idle pooled socket themselves, before a server with the default keep-alive would', async () => {
    // The client must give up an idle socket before the server does, or a request sent on it as
    // the server closes it fails with ECONNRESET (measured before the fix against a server with
    // Node's default keepAliveTimeout: 1 of 100 requests sent ~6 s after the previous one).
    expect(FREE_SOCKET_IDLE_MS).toBeLessThan(new http.Server().keepAliveTimeout)
    const { url, sockets } = await patientServer()
    const agents = pinnedAgents(undefined, 150)
    const answer = await sendPinned(
      url,
      { address: '127.0.0.1', family: 4 },
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: new AbortController().signal,
        maxBytes: 1024,
        agents,
      },
    )
    expect(answer.status).toBe(200)
    expect(sockets).toHaveLength(1)
    const idleSince = performance.now()
    // the server never times it out; only the client's idle timeout can end it, after ~150 ms
    await new Promise<void>((resolve) => sockets[0]!.once('close', () => resolve()))
    expect(performance.now() - idleSince).toBeGreaterThanOrEqual(100)
    agents.http.destroy()
  })
})

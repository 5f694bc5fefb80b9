import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { EgressAllowlist, EgressClient, RecordingMetrics } from '../../src/connectors/sdk/index.ts'
import { PermanentError } from '../../src/engine/errors.ts'

/**
 * OWASP API10 (unsafe consumption of APIs): an upstream answer is read only up to a limit.
 * A real loopback server sends answers with and without a Content-Length.
 */
const LIMIT = 64 * 1024
const servers: http.Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise<void>((r) => s.close(() => r()))
  }
})

/** Answers /declared with a Content-Length, /streamed in chunks without one, /small normally. */
async function upstream(size: number): Promise<{ url: string; sent: () => number }> {
  let sent = 0
  const chunk = Buffer.alloc(8 * 1024, 'x')
  const server = http.createServer((req, res) => {
    if (req.url === '/small') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      return
    }
    const headers: Record<string, string | number> = { 'content-type': 'text/plain' }
    if (req.url === '/declared') headers['content-length'] = size
    res.writeHead(200, headers)
    // Write until done or until the client hangs up; a capped reader hangs up early.
    const pump = () => {
      while (sent < size && !res.destroyed) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    res.on('close', () => res.destroy())
    pump()
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent: () => sent }
}

describe('egress response size cap', () => {
  it('refuses an oversized answer, declared or streamed, as a permanent QLK_REMOTE_TOO_LARGE', async () => {
    const size = 16 * 1024 * 1024
    const up = await upstream(size)
    const metrics = new RecordingMetrics()
    const egress = new EgressClient({
      connector: 'erp',
      allowlist: new EgressAllowlist([up.url]),
      maxResponseBytes: LIMIT,
      metrics,
    })
    for (const path of ['/declared', '/streamed']) {
      const err = await egress.request({ method: 'GET', url: `${up.url}${path}` }).catch((e: unknown) => e)
      expect(err, path).toBeInstanceOf(PermanentError)
      expect((err as PermanentError).code).toBe('QLK_REMOTE_TOO_LARGE')
      expect((err as PermanentError).message).toMatch(new RegExp(`${LIMIT}-byte limit`))
    }
    const post = await egress
      .request({ method: 'POST', url: `${up.url}/streamed`, json: { lot: 'L1' } })
      .catch((e: unknown) => e)
    expect((post as PermanentError).message).toMatch(/may have been applied: read back first/)
    // The reader hung up early: the three answers together sent less than one full answer.
    expect(up.sent()).toBeLessThan(size)
    expect(metrics.calls.map((c) => c.code)).toEqual([
      'QLK_REMOTE_TOO_LARGE',
      'QLK_REMOTE_TOO_LARGE',
      'QLK_REMOTE_TOO_LARGE',
    ])
    expect(egress.circuitState(up.url)).toBe('closed')
    expect((await egress.request({ method: 'GET', url: `${up.url}/small` })).json()).toEqual({ ok: true })
  })
})

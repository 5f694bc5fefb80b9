/** A tiny loopback HTTP server whose answers a test scripts per request. */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StubRequest {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}
export type StubAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hang'

export interface HttpStub {
  readonly url: string
  readonly requests: StubRequest[]
  close(): Promise<void>
}

/** `host`/`port`: another loopback address or a fixed port (the DNS rebinding test needs both) */
export async function startStub(
  answer: (req: StubRequest) => StubAnswer,
  host = '127.0.0.1',
  port = 0,
): Promise<HttpStub> {
  const requests: StubRequest[] = []
  const open = new Set<http.ServerResponse>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      }
      requests.push(r)
      const a = answer(r)
      if (a === 'hang') {
        open.add(res)
        return
      }
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers })
      res.end(a.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(port, host, resolve))
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://${host}:${bound}`,
    requests,
    close: async () => {
      for (const res of open) res.socket?.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * Helpers for simulator tests: a webhook receiver that resolves when deliveries arrive, and a
 * condition waiter, so tests await events instead of sleeping.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

export interface Receiver {
  readonly url: string
  readonly received: Received[]
  /** Resolves once at least `n` deliveries have arrived. */
  waitFor(n: number): Promise<Received[]>
  close(): Promise<void>
}

export async function startReceiver(status = 200): Promise<Receiver> {
  const received: Received[] = []
  let waiters: Array<{ n: number; resolve: (r: Received[]) => void }> = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(status).end()
      waiters = waiters.filter((w) => {
        if (received.length < w.n) return true
        w.resolve([...received])
        return false
      })
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    waitFor: (n) =>
      received.length >= n
        ? Promise.resolve([...received])
        : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r())
        server.closeAllConnections()
      }),
  }
}

/**
 * A loopback HTTP forwarder between a connector and its simulator that lets a test act at one
 * exact moment: after the simulator answered a request and before the connector sees the answer
 * (another user changes the entity the connector just read), or rewrite that answer. Deterministic
 * interleaving without timing: the connector waits for the hook like for a slow network.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Exchange {
  readonly method: string
  readonly path: string
  readonly status: number
  /** the answer's body as the simulator sent it */
  readonly body: string
}

/** Returns a replacement body, or nothing to pass the answer on unchanged. */
export type OnAnswer = (x: Exchange) => Promise<string | undefined> | string | undefined

export interface Interposer {
  readonly url: string
  onAnswer: OnAnswer | undefined
  close(): Promise<void>
}

export async function startInterposer(target: string): Promise<Interposer> {
  const to = new URL(target)
  const self: Interposer = { url: '', onAnswer: undefined, close: async () => {} }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers = { ...req.headers, host: to.host }
      const up = http.request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
        (answer) => {
          const body: Buffer[] = []
          answer.on('data', (c: Buffer) => body.push(c))
          answer.on('end', async () => {
            const text = Buffer.concat(body).toString('utf8')
            const exchange = {
              method: req.method ?? '',
              path: req.url ?? '',
              status: answer.statusCode ?? 0,
              body: text,
            }
            const replaced = await self.onAnswer?.(exchange)
            const out = replaced ?? text
            const h = { ...answer.headers, 'content-length': String(Buffer.byteLength(out)) }
            delete h['transfer-encoding']
            res.writeHead(answer.statusCode ?? 502, h)
            res.end(out)
          })
        },
      )
      // the simulator dropped the connection (commit-then-drop): so does the interposer
      up.on('error', () => req.socket.destroy())
      up.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(self, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}

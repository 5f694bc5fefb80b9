import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FaultProxy } from './fault-proxy.ts'

/** The proxy's own behaviour over real sockets: an HTTP target that records what it was sent. */
describe('the TCP fault proxy', () => {
  let target: http.Server
  let seen: string[]
  let proxy: FaultProxy

  beforeEach(async () => {
    seen = []
    target = http.createServer(async (req, res) => {
      let body = ''
      for await (const c of req) body += c
      seen.push(body)
      res.end(`ok:${body}`)
    })
    target.listen(0, '127.0.0.1')
    await once(target, 'listening')
    proxy = await FaultProxy.start({ port: (target.address() as net.AddressInfo).port })
  })
  afterEach(async () => {
    await proxy.close()
    target.closeAllConnections()
    await new Promise((r) => target.close(r))
  })

  /** One POST on its own connection (no keep-alive pool between cases). */
  const send = (body: string) =>
    fetch(`http://${proxy.host}/x`, {
      method: 'POST',
      body,
      headers: { connection: 'close' },
      signal: AbortSignal.timeout(5000),
    }).then((r) => r.text())

  /** A raw HTTP/1.1 request in one write, and everything the socket receives until it closes. */
  const raw = async (body: string, onWritten?: () => void): Promise<string> => {
    const s = net.connect({ host: '127.0.0.1', port: proxy.port })
    await once(s, 'connect')
    s.write(`POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    onWritten?.()
    let got = ''
    s.on('data', (c) => {
      got += c.toString()
    })
    s.on('error', () => {})
    setTimeout(() => s.end(), 300)
    await once(s, 'close')
    return got
  }

  it('forwards unchanged, and keeps order under a delay', async () => {
    proxy.delay(20)
    expect(await send('a')).toBe('ok:a')
    expect(await send('b')).toBe('ok:b')
    expect(seen).toEqual(['a', 'b'])
  })

  it('cuts the answer after the target applied the request', async () => {
    proxy.cutAfterForward('POST /x', 1)
    await expect(send('once')).rejects.toThrow()
    expect(seen).toEqual(['once']) // applied, unanswered
    expect(proxy.counts.cut).toBe(1)
    expect(await send('again')).toBe('ok:again') // one cut only
  })

  it('drops a connection after N bytes', async () => {
    proxy.dropAfterBytes(5, 'down')
    const got = await raw('abc')
    expect(got).toBe('HTTP/') // the first five bytes of the answer, then the reset
    expect(proxy.counts.dropped).toBe(1)
  })

  it('refuses while partitioned (REJECT) and forwards again after the heal', async () => {
    proxy.partition('refuse')
    await expect(send('lost')).rejects.toThrow()
    expect(seen).toEqual([])
    proxy.heal()
    expect(await send('back')).toBe('ok:back')
  })

  it('holds bytes while blackholed (DROP) and delivers them after the heal', async () => {
    proxy.partition('blackhole')
    const answer = send('held')
    await new Promise((r) => setTimeout(r, 100))
    expect(seen).toEqual([]) // accepted, not forwarded
    proxy.heal()
    expect(await answer).toBe('ok:held')
  })

  it('duplicates a request written in one piece', async () => {
    proxy.duplicateNext('POST /x', 1)
    const got = await raw('dup')
    expect(seen).toEqual(['dup', 'dup'])
    expect(got.match(/ok:dup/g)).toHaveLength(2)
  })

  it('reorders two connections by holding one request back', async () => {
    proxy.holdNext('first')
    const first = raw('first')
    await new Promise((r) => setTimeout(r, 50))
    expect(await send('second')).toBe('ok:second')
    proxy.release()
    await first
    expect(seen).toEqual(['second', 'first'])
  })
})

/**
 * OWASP API7 (SSRF), issue 10 item 5: the egress client resolves a host once, vets every answer,
 * and connects to the vetted address; DNS rebinding (a second, different answer) never gets a
 * connection; redirects leave neither the origin nor the address policy; metadata, link-local and
 * unspecified addresses are refused unless explicitly allowed. Real local HTTP servers; DNS is
 * simulated through the client's resolver injection point (the machine has no DNS of its own).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Resolver } from '../../src/connectors/sdk/address-policy.ts'
import { EgressAllowlist, EgressClient, RecordingMetrics } from '../../src/connectors/sdk/index.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import { type HttpStub, startStub } from '../connectors/http-stub.ts'
import { openssl } from './openssl.ts'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  while (closers.length) await closers.pop()?.()
})

async function stub(
  answer: Parameters<typeof startStub>[0],
  host?: string,
  port?: string,
): Promise<HttpStub> {
  const s = await startStub(answer, host, port === undefined ? 0 : Number(port))
  closers.push(() => s.close())
  return s
}

/** A resolver answering from a script, one answer per call (the last repeats), counting calls. */
function scripted(...answers: string[][]): Resolver & { calls: string[] } {
  const calls: string[] = []
  const r = async (host: string) => {
    calls.push(host)
    const a = answers[Math.min(calls.length - 1, answers.length - 1)]!
    return a.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }))
  }
  return Object.assign(r, { calls })
}

function client(origins: string[], resolver: Resolver, allowAddresses?: string[]) {
  const metrics = new RecordingMetrics()
  const egress = new EgressClient({
    connector: 'erp-a',
    allowlist: new EgressAllowlist(origins, { allowAddresses }),
    resolver,
    metrics,
  })
  return { egress, metrics }
}

const portOf = (s: HttpStub) => new URL(s.url).port
const codeOf = (e: unknown) => (e instanceof PermanentError ? e.code : `not permanent: ${String(e)}`)

describe('DNS rebinding', () => {
  it('connects to the address that was checked, never to a second answer', async () => {
    const good = await stub(() => ({ status: 200, body: '{"who":"erp"}' }), '127.0.0.1')
    // The "attacker" listens on the same port of another loopback address, so a client that
    // resolved again before connecting would reach it with the very same URL.
    const evil = await stub(() => ({ status: 200, body: '{"who":"attacker"}' }), '127.0.0.2', portOf(good))
    const resolver = scripted(['127.0.0.1'], ['127.0.0.2'])
    const { egress } = client([`http://erp.plant-a.test:${portOf(good)}`], resolver, ['127.0.0.0/8'])
    const res = await egress.request({ method: 'GET', url: `http://erp.plant-a.test:${portOf(good)}/x` })
    expect(res.json()).toEqual({ who: 'erp' })
    expect(resolver.calls).toEqual(['erp.plant-a.test'])
    expect(good.requests).toHaveLength(1)
    expect(evil.requests).toHaveLength(0)
    // Host keeps the name (virtual hosts, TLS SNI), although the socket went to an address.
    expect(good.requests[0]!.headers.host).toBe(`erp.plant-a.test:${portOf(good)}`)
  })

  it('a rebound answer pointing at the metadata address is refused before any connection', async () => {
    const s = await stub(() => ({ status: 200, body: '{}' }))
    const resolver = scripted(['127.0.0.1'], ['169.254.169.254'])
    const { egress } = client([`http://erp.plant-a.test:${portOf(s)}`], resolver, ['127.0.0.1'])
    await egress.request({ method: 'GET', url: `http://erp.plant-a.test:${portOf(s)}/first` })
    const err = await egress
      .request({ method: 'GET', url: `http://erp.plant-a.test:${portOf(s)}/second` })
      .catch((e: unknown) => e)
    expect(codeOf(err)).toBe('QLK_EGRESS_ADDRESS_BLOCKED')
    expect((err as Error).message).toMatch(/169\.254\.169\.254 \(metadata\)/)
    expect(s.requests.map((r) => r.url)).toEqual(['/first'])
  })

  it('one blocked address among the answers refuses the name as a whole', async () => {
    const s = await stub(() => ({ status: 200, body: '{}' }))
    const { egress } = client([`http://erp.plant-a.test:${portOf(s)}`], scripted(['127.0.0.1', 'fe80::1']), [
      '127.0.0.1',
    ])
    const err = await egress
      .request({ method: 'GET', url: `http://erp.plant-a.test:${portOf(s)}/x` })
      .catch((e: unknown) => e)
    expect(codeOf(err)).toBe('QLK_EGRESS_ADDRESS_BLOCKED')
    expect(s.requests).toHaveLength(0)
  })
})

describe('blocked address classes', () => {
  it.each([
    ['cloud metadata (IPv4)', '169.254.169.254'],
    ['cloud metadata (AWS IPv6)', 'fd00:ec2::254'],
    ['metadata as an IPv4-mapped IPv6 address', '::ffff:169.254.169.254'],
    ['link-local', '169.254.10.20'],
    ['IPv6 link-local', 'fe80::abcd'],
    ['unspecified', '0.0.0.0'],
    ['loopback behind a name', '127.0.0.1'],
  ])('a listed name resolving to %s is refused with QLK_EGRESS_ADDRESS_BLOCKED', async (_what, address) => {
    const s = await stub(() => ({ status: 200, body: '{}' }))
    const { egress, metrics } = client([`http://erp.plant-a.test:${portOf(s)}`], scripted([address]))
    const err = await egress
      .request({ method: 'POST', url: `http://erp.plant-a.test:${portOf(s)}/x`, json: {} })
      .catch((e: unknown) => e)
    expect(codeOf(err)).toBe('QLK_EGRESS_ADDRESS_BLOCKED')
    expect(s.requests).toHaveLength(0)
    expect(metrics.calls.map((c) => c.code)).toEqual(['QLK_EGRESS_ADDRESS_BLOCKED'])
  })

  it('metadata endpoints cannot be allowlisted by address or by name without allowAddresses', () => {
    for (const origin of [
      'http://169.254.169.254',
      'http://[fd00:ec2::254]',
      'http://metadata.google.internal',
      'http://0.0.0.0:80',
    ]) {
      const err = (() => {
        try {
          new EgressAllowlist([origin])
        } catch (e) {
          return e
        }
      })()
      expect(err, origin).toBeInstanceOf(PermanentError)
      expect((err as PermanentError).code).toBe('QLK_CONFIG_INVALID')
    }
    // A link-local device the admin names explicitly (a directly attached controller) is allowed.
    expect(
      new EgressAllowlist(['http://169.254.10.20:80'], { allowAddresses: ['169.254.10.0/24'] }).entries,
    ).toEqual(['http://169.254.10.20:80'])
    expect(() => new EgressAllowlist([], { allowAddresses: ['not-an-address'] })).toThrow(
      /allowAddresses\[0\].*CIDR/,
    )
  })

  it('a loopback address or localhost listed by the admin is reached (the simulators)', async () => {
    const s = await stub(() => ({ status: 200, body: '{"ok":true}' }))
    const never = scripted(['169.254.169.254'])
    const literal = client([s.url], never)
    expect((await literal.egress.request({ method: 'GET', url: `${s.url}/a` })).status).toBe(200)
    expect(never.calls).toHaveLength(0) // an address literal is not resolved
    // `localhost` through the machine's own resolver (real DNS path: /etc/hosts)
    const byName = new EgressClient({
      connector: 'sim',
      allowlist: new EgressAllowlist([`http://localhost:${portOf(s)}`]),
    })
    const res = await byName.request({ method: 'GET', url: `http://localhost:${portOf(s)}/b` })
    expect(res.status).toBe(200)
    expect(s.requests.map((r) => r.url)).toEqual(['/a', '/b'])
  })
})

describe('redirects', () => {
  it('a redirect to the metadata address is refused; a same-origin redirect is vetted again', async () => {
    const s = await stub((r) =>
      r.url === '/to-metadata'
        ? { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/iam' } }
        : r.url === '/moved'
          ? { status: 301, headers: { location: '/final' } }
          : { status: 200, body: '{"ok":true}' },
    )
    const origin = `http://erp.plant-a.test:${portOf(s)}`
    // second resolution (for the redirect's target) rebinds to a link-local address
    const resolver = scripted(['127.0.0.1'], ['127.0.0.1'], ['169.254.1.1'])
    const { egress } = client([origin], resolver, ['127.0.0.1'])
    const away = await egress
      .request({ method: 'GET', url: `${origin}/to-metadata` })
      .catch((e: unknown) => e)
    expect(codeOf(away)).toBe('QLK_EGRESS_REDIRECT')
    const moved = await egress.request({ method: 'GET', url: `${origin}/moved` }).catch((e: unknown) => e)
    expect(codeOf(moved)).toBe('QLK_EGRESS_ADDRESS_BLOCKED')
    expect(s.requests.map((r) => r.url)).toEqual(['/to-metadata', '/moved'])
    expect(resolver.calls).toHaveLength(3)
  })
})

describe('HTTPS to a pinned address', () => {
  it('keeps the name for SNI and the certificate check while connecting to the checked address', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qualink-egress-tls-'))
    closers.push(async () => rmSync(dir, { recursive: true, force: true }))
    // a certificate for the ERP's name only (not for 127.0.0.1), made at test time
    openssl(
      dir,
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2']
        .concat(['-keyout', 'erp.key', '-out', 'erp.crt', '-subj', '/CN=erp.plant-a.test'])
        .concat(['-addext', 'subjectAltName=DNS:erp.plant-a.test']),
    )
    const cert = readFileSync(path.join(dir, 'erp.crt'))
    const seen: Array<{ sni: string | false | null; host: string | undefined }> = []
    const server = https.createServer({ key: readFileSync(path.join(dir, 'erp.key')), cert }, (req, res) => {
      seen.push({ sni: (req.socket as import('node:tls').TLSSocket).servername, host: req.headers.host })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    const port = (server.address() as AddressInfo).port
    const origin = `https://erp.plant-a.test:${port}`
    const egress = new EgressClient({
      connector: 'erp-a',
      allowlist: new EgressAllowlist([origin], { allowAddresses: ['127.0.0.1'] }),
      resolver: scripted(['127.0.0.1']),
      ca: cert,
    })
    expect((await egress.request({ method: 'GET', url: `${origin}/x` })).json()).toEqual({ ok: true })
    expect(seen).toEqual([{ sni: 'erp.plant-a.test', host: `erp.plant-a.test:${port}` }])
    // the same server under a name its certificate does not carry is refused by the TLS check
    const other = `https://other.plant-a.test:${port}`
    const wrongName = new EgressClient({
      connector: 'erp-b',
      allowlist: new EgressAllowlist([other], { allowAddresses: ['127.0.0.1'] }),
      resolver: scripted(['127.0.0.1']),
      ca: cert,
    })
    const err = await wrongName.request({ method: 'GET', url: `${other}/x` }).catch((e: unknown) => e)
    // refused in the handshake, before any request byte: not ambiguous
    expect((err as { code?: string }).code).toBe('QLK_EGRESS_NETWORK')
    expect(String((err as Error).message)).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/)
    expect(seen).toHaveLength(1)
  })
})

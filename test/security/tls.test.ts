/**
 * Optional TLS (issue 10 item 4; OWASP API8 security misconfiguration): `server.tls` serves HTTPS
 * with a certificate made here by `openssl`, refuses plain HTTP and TLS below 1.2, marks the
 * dashboard cookie Secure, requires a client certificate when `caFile` is set, and names the field
 * of an unreadable certificate file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { isQualinkError } from '../../src/contracts/errors.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'
import { hashPassword } from '../../src/signatures/password.ts'
import { openssl } from './openssl.ts'

const CHEAP = { N: 2 ** 14, r: 8, p: 1 }
let dir: string
let pemOf: (name: string) => Buffer

/** A self-signed certificate for localhost / 127.0.0.1 (and a client one signed by a test CA). */
function makeCertificates(d: string): void {
  const ssl = (...args: string[]) => openssl(d, args)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  ssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-keyout',
    'server.key',
    '-out',
    'server.crt',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  )
  ssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=Plant client CA',
  )
  ssl('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=mes-gateway')
  ssl(
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    'client.crt',
  )
}

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

function request(url: string, o: https.RequestOptions & { body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http
    const req = lib.request(url, { agent: false, ...o }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(o.body)
  })
}

async function start(extra: Parameters<typeof startQualink>[0]): Promise<Qualink> {
  return startQualink({
    dataDir: mkdtempSync(path.join(dir, 'data-')),
    port: 0,
    logger: pino({ level: 'silent' }),
    ...extra,
  })
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'qualink-tls-'))
  makeCertificates(dir)
  pemOf = (name) => readFileSync(path.join(dir, name))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('server.tls', () => {
  it('serves HTTPS only, TLS 1.2 at least, and the dashboard cookie is Secure', async () => {
    const q = await start({
      tls: { certFile: path.join(dir, 'server.crt'), keyFile: path.join(dir, 'server.key') },
      users: [
        {
          id: 'ada',
          name: 'Ada Auditor',
          passwordHash: await hashPassword('ada-pass-5d0e', CHEAP),
          roles: ['viewer'],
          plants: ['*'],
        },
      ],
    })
    try {
      expect(q.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      const ca = pemOf('server.crt')
      const health = await request(`${q.url}/healthz`, { ca })
      expect(health.status).toBe(200)
      // the certificate is checked: without trusting it the client refuses
      await expect(request(`${q.url}/healthz`)).rejects.toThrow(/self-signed|self signed/)
      // plain HTTP on the same port gets no HTTP answer
      const plain = await request(q.url.replace('https:', 'http:') + '/healthz').catch((e: Error) => e)
      expect(plain instanceof Error || (plain as Answer).status === 400).toBe(true)
      // TLS 1.1 is refused by the server
      await expect(
        request(`${q.url}/healthz`, { ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }),
      ).rejects.toThrow()
      const login = await request(`${q.url}/ui/login`, {
        ca,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
        body: new URLSearchParams({ user: 'ada', password: 'ada-pass-5d0e' }).toString(),
      })
      expect(login.status).toBe(303)
      const cookie = String(login.headers['set-cookie'])
      expect(cookie).toMatch(/qualink_session=[\w-]{43}; Path=\/ui; HttpOnly; SameSite=Strict; Secure/)
    } finally {
      await q.close()
    }
  })

  it('with caFile, a client certificate signed by that CA is required (mutual TLS)', async () => {
    const q = await start({
      tls: {
        certFile: path.join(dir, 'server.crt'),
        keyFile: path.join(dir, 'server.key'),
        caFile: path.join(dir, 'ca.crt'),
        minVersion: 'TLSv1.3',
      },
    })
    try {
      const ca = pemOf('server.crt')
      const withCert = await request(`${q.url}/healthz`, {
        ca,
        cert: pemOf('client.crt'),
        key: pemOf('client.key'),
      })
      expect(withCert.status).toBe(200)
      // TLS 1.3 sends the refusal after the handshake: the request fails either way
      await expect(request(`${q.url}/healthz`, { ca })).rejects.toThrow()
      // a certificate not signed by the CA (the server's own) is refused too
      await expect(
        request(`${q.url}/healthz`, { ca, cert: pemOf('server.crt'), key: pemOf('server.key') }),
      ).rejects.toThrow()
    } finally {
      await q.close()
    }
  })

  it('an unreadable certificate file is QLK_CONFIG_INVALID naming the field, before anything starts', async () => {
    const err = await start({
      tls: { certFile: path.join(dir, 'missing.crt'), keyFile: path.join(dir, 'server.key') },
    }).catch((e: unknown) => e)
    expect(isQualinkError(err) && err.code).toBe('QLK_CONFIG_INVALID')
    expect((err as { errors: { path: string }[] }).errors[0]!.path).toBe('/server/tls/certFile')
    expect((err as Error).message).toMatch(/missing\.crt.*ENOENT/)
  })
})

describe('server.tls and server.limits in qualink.yaml', () => {
  it('reach startQualink with paths relative to the file, and a start serves HTTPS', async () => {
    const file = path.join(dir, 'qualink.yaml')
    // YAML is a superset of JSON
    const doc = {
      version: 1,
      server: {
        dataDir: './data-yaml',
        tls: { certFile: 'server.crt', keyFile: 'server.key', minVersion: 'TLSv1.3' },
        limits: {
          ratePerSecond: 5,
          burst: 10,
          shared: false,
          callers: { importer: { ratePerSecond: 50, burst: 100 } },
        },
      },
      connectors: {
        'sap-p100': { kind: 'erp/sap-s4', config: { baseUrl: 'http://127.0.0.1:4101' } },
        'qms-cloud': { kind: 'qms/rest', config: { baseUrl: 'http://127.0.0.1:4104' } },
      },
      egress: {
        allowlist: { 'sap-p100': ['http://127.0.0.1:4101'], 'qms-cloud': ['http://127.0.0.1:4104'] },
      },
      plants: { P100: { erp: 'sap-p100', qms: 'qms-cloud' } },
    }
    writeFileSync(file, JSON.stringify(doc, null, 2))
    const { options } = buildRuntime(loadConfig(file, {}), {})
    expect(options.tls).toEqual({
      certFile: path.join(dir, 'server.crt'),
      keyFile: path.join(dir, 'server.key'),
      caFile: undefined,
      minVersion: 'TLSv1.3',
    })
    expect(options.apiLimits).toEqual({
      ratePerSecond: 5,
      burst: 10,
      shared: false,
      callers: { importer: { ratePerSecond: 50, burst: 100 } },
    })
    const q = await startQualink({ ...options, port: 0, logger: pino({ level: 'silent' }) })
    try {
      expect((await request(`${q.url}/healthz`, { ca: pemOf('server.crt') })).status).toBe(200)
    } finally {
      await q.close()
    }
  })
})

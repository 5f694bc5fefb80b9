/**
 * OWASP API8 (security misconfiguration), issue 10: error answers are problem+json without stack
 * traces or internals; no CORS is granted to another origin; no server banner; the dashboard
 * sends its security headers; and qualink.yaml refuses bad security settings (limits, TLS,
 * egress exceptions) naming the field. The loopback-only default without authentication is
 * covered by access.test.ts, HTTPS by tls.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configProblems } from '../../src/config/load.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { type Qualink, startQualink } from '../../src/server/qualink.ts'

const KEY = 'k-misconfig-admin-4c2e8a'
let dir: string
let q: Qualink

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'qualink-api8-'))
  q = await startQualink({
    dataDir: dir,
    port: 0,
    logger: pino({ level: 'silent' }),
    apiKeys: [{ id: 'admin', sha256: hashApiKey(KEY), roles: ['admin'], plants: ['*'] }],
  })
})
afterAll(async () => {
  await q?.close()
  rmSync(dir, { recursive: true, force: true })
})

const auth = { authorization: `Bearer ${KEY}` }

describe('security misconfiguration', () => {
  it('errors are problem+json with a code, never a stack trace or a file path', async () => {
    const answers = [
      await q.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: auth }),
      await q.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...auth, 'content-type': 'application/cloudevents+json' },
        payload: '{"specversion": "1.0", broken',
      }),
      await q.app.inject({ method: 'GET', url: '/v1/events?limit=abc', headers: auth }),
      await q.app.inject({ method: 'GET', url: '/v1/events' }),
    ]
    expect(answers.map((r) => r.statusCode)).toEqual([404, 400, 400, 401])
    for (const r of answers) {
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(r.json().code).toMatch(/^QLK_[A-Z_]+$/)
      expect(r.body).not.toMatch(/\bat .+\.(ts|js):\d+|node_modules|\/src\/|stack/i)
    }
  })

  it('grants no cross-origin access and sends no server banner', async () => {
    const preflight = await q.app.inject({
      method: 'OPTIONS',
      url: '/v1/events',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    })
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
    const get = await q.app.inject({
      method: 'GET',
      url: '/v1/events',
      headers: { ...auth, origin: 'https://evil.example' },
    })
    expect(get.statusCode).toBe(200)
    expect(get.headers['access-control-allow-origin']).toBeUndefined()
    expect(get.headers['x-powered-by']).toBeUndefined()
    expect(get.headers.server).toBeUndefined()
  })

  it('the dashboard sends its security headers', async () => {
    const page = await q.app.inject({ method: 'GET', url: '/ui/login' })
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/)
    expect(page.headers['x-frame-options']).toBe('DENY')
    expect(page.headers['x-content-type-options']).toBe('nosniff')
  })

  it('qualink.yaml refuses bad limits, TLS settings and egress exceptions, naming the field', () => {
    const problems = (doc: object) =>
      configProblems({ version: 1, plants: { P100: {} }, ...doc }).map((p) => p.path)
    expect(problems({ server: { limits: { ratePerSecond: 0 } } })).toContain('/server/limits/ratePerSecond')
    expect(problems({ server: { limits: { burst: 10, perKey: 5 } } })).toContain('/server/limits/perKey')
    expect(problems({ server: { tls: { certFile: 'server.crt' } } }).join()).toMatch(/\/server\/tls/)
    expect(problems({ server: { tls: { certFile: 'a', keyFile: 'b', minVersion: 'TLSv1' } } })).toContain(
      '/server/tls/minVersion',
    )
    expect(
      problems({
        connectors: {
          'erp-a': { kind: 'erp/sap-s4', config: { baseUrl: 'http://169.254.169.254', client: '100' } },
        },
        egress: { allowlist: { 'erp-a': ['http://169.254.169.254'] }, allowAddresses: { 'erp-a': ['nope'] } },
      }),
    ).toEqual(expect.arrayContaining(['/egress/allowAddresses/erp-a', '/egress/allowlist/erp-a/0']))
  })
})

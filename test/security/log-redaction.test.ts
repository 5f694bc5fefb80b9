/**
 * Secrets stay out of the logs (issue 10 item 4): API keys sent as `Authorization: Bearer` or
 * `X-API-Key`, right or wrong, a webhook source's secret and its deliveries' signatures, and
 * credentials a component logs under `password` / `secret` or with request headers. The logger
 * is the one `qualink start` uses (src/observability/logger.ts), at debug level, on a live hub.
 */
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signWebhook } from '../../src/connectors/ingress/webhook-signature.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { hashApiKey } from '../../src/server/auth.ts'
import { type DemoHub, startDemoHub } from '../engine/harness.ts'
import { ping } from '../event-fixtures.ts'

const KEY = 'k-logs-operator-5e2b7c9d1f'
const WRONG = 'k-logs-wrong-3a8d6f0b2c'
const SECRET = 'logs-webhook-secret-8c1e4a'
const PASSWORD = 'erp-password-77d2c09b'

describe('secrets in the logs', () => {
  const lines: string[] = []
  let hub: DemoHub | undefined

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    hub = await startDemoHub('sqlite', {
      logger: createLogger('debug', sink),
      apiKeys: [{ id: 'operator', sha256: hashApiKey(KEY), roles: ['operator'], plants: ['*'] }],
      webhooks: [{ name: 'qms', plant: 'P100', secrets: [SECRET] }],
    })
  })
  afterAll(async () => {
    await hub?.close()
  })

  it('never writes an API key, a webhook secret or signature, or a logged password', async () => {
    const { q } = hub!
    const post = (headers: Record<string, string>) =>
      q.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/cloudevents+json', ...headers },
        payload: JSON.stringify(ping()),
      })
    expect((await post({ authorization: `Bearer ${WRONG}` })).statusCode).toBe(401)
    expect((await post({ 'x-api-key': WRONG })).statusCode).toBe(401)
    expect((await post({ authorization: `Bearer ${KEY}` })).statusCode).toBe(202)
    expect((await post({ 'x-api-key': KEY })).statusCode).toBe(202)
    // a malformed body with a valid key: a 400 logged with its problem
    const bad = await q.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${KEY}` },
      payload: '{"specversion":',
    })
    expect(bad.statusCode).toBe(400)

    const body = JSON.stringify({ id: 'IL-1', type: 'inspection_lot.created' })
    const signatures = [signWebhook(SECRET, body), signWebhook('not-the-secret', body)]
    for (const [i, signature] of signatures.entries()) {
      const r = await q.app.inject({
        method: 'POST',
        url: '/v1/ingress/qms',
        headers: {
          'content-type': 'application/json',
          'x-qualink-signature': signature,
          'x-delivery-id': `d-${i}`,
        },
        payload: body,
      })
      expect(r.statusCode).toBe(i === 0 ? 202 : 401)
    }

    // what a component might log: request headers, a connector's credentials
    q.app.log.warn(
      {
        req: { headers: { authorization: `Bearer ${KEY}`, 'x-api-key': KEY } },
        erp: { password: PASSWORD, secret: SECRET },
      },
      'connector probe',
    )

    const text = lines.join('')
    expect(lines.length).toBeGreaterThan(3) // the requests above were logged
    expect(text).toContain('connector probe')
    for (const s of [KEY, WRONG, SECRET, PASSWORD, ...signatures.map((x) => x.split('=').pop()!)])
      expect(text).not.toContain(s)
    const probe = JSON.parse(lines.find((l) => l.includes('connector probe'))!)
    // through fastify's logger a request object keeps no headers at all; a credential is redacted
    expect(probe.req.headers).toBeUndefined()
    expect(probe.erp).toEqual({ password: '[redacted]', secret: '[redacted]' })

    // the same logger outside a request (a connector, the CLI): request headers are redacted
    const direct: string[] = []
    const plain = createLogger(
      'info',
      new Writable({
        write(chunk, _encoding, done) {
          direct.push(String(chunk))
          done()
        },
      }),
    )
    plain.warn({ req: { headers: { authorization: `Bearer ${KEY}`, 'x-api-key': KEY } } }, 'outbound')
    expect(direct.join('')).not.toContain(KEY)
    expect(JSON.parse(direct[0]!).req.headers).toEqual({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
    })
  })
})

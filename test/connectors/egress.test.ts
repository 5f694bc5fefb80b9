import { afterEach, describe, expect, it } from 'vitest'
import { startQms } from '../../simulators/qms/server.ts'
import {
  EgressAllowlist,
  EgressClient,
  type EgressFailure,
  type EgressOptions,
  ManualClock,
  RecordingMetrics,
  RemoteRejected,
} from '../../src/connectors/sdk/index.ts'
import { PermanentError, RetryableError } from '../../src/engine/errors.ts'
import { type HttpStub, startStub } from './http-stub.ts'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  while (closers.length) await closers.pop()?.()
})

async function stub(answer: Parameters<typeof startStub>[0]): Promise<HttpStub> {
  const s = await startStub(answer)
  closers.push(() => s.close())
  return s
}

function client(urls: string[], o: Partial<EgressOptions> = {}) {
  const metrics = new RecordingMetrics()
  const clock = new ManualClock()
  const egress = new EgressClient({
    connector: 'test',
    allowlist: new EgressAllowlist(urls),
    metrics,
    clock,
    ...o,
  })
  return { egress, metrics, clock }
}

describe('egress allowlist', () => {
  it('refuses an unlisted host before connecting', async () => {
    const s = await stub(() => ({ status: 200, body: '{}' }))
    const { egress, metrics } = client(['http://127.0.0.2:1'])
    const err = await egress.request({ method: 'GET', url: `${s.url}/x` }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).code).toBe('QLK_EGRESS_DENIED')
    expect(s.requests).toHaveLength(0)
    expect(metrics.calls).toHaveLength(0)
  })

  it('refuses a redirect to another host and follows one within the origin', async () => {
    const other = await stub(() => ({ status: 200, body: '{"other":true}' }))
    const s = await stub((r) =>
      r.url === '/away'
        ? { status: 302, headers: { location: `${other.url}/steal` } }
        : r.url === '/here'
          ? { status: 307, headers: { location: '/final' } }
          : { status: 200, body: '{"ok":true}' },
    )
    // Even an allowlisted second origin is not a redirect target.
    const { egress } = client([s.url, other.url])
    const err = await egress.request({ method: 'GET', url: `${s.url}/away` }).catch((e: unknown) => e)
    expect((err as PermanentError).code).toBe('QLK_EGRESS_REDIRECT')
    expect(other.requests).toHaveLength(0)
    const ok = await egress.request({ method: 'GET', url: `${s.url}/here` })
    expect(ok.json()).toEqual({ ok: true })
  })

  it('rejects allowlist entries with paths, credentials or link-local hosts', () => {
    expect(() => new EgressAllowlist(['http://h:1/path'])).toThrow(/scheme:\/\/host/)
    expect(() => new EgressAllowlist(['http://u:p@h:1'])).toThrow(/credentials/)
    expect(() => new EgressAllowlist(['http://169.254.169.254'])).toThrow(/metadata/)
    expect(() => new EgressAllowlist(['ftp://h'])).toThrow(/http, https, mqtt or mqtts/)
  })
})

describe('egress classification', () => {
  it('5xx → RetryableError, 400 → PermanentError with the remote message', async () => {
    const s = await stub((r) =>
      r.url === '/bad'
        ? {
            status: 400,
            body: JSON.stringify({ error: { code: 'QA/185', message: { value: 'already posted' } } }),
          }
        : { status: 503, body: 'maintenance' },
    )
    const { egress, metrics } = client([s.url])
    const e5 = await egress.request({ method: 'POST', url: `${s.url}/x`, json: {} }).catch((e: unknown) => e)
    expect(e5).toBeInstanceOf(RetryableError)
    expect((e5 as EgressFailure).code).toBe('QLK_REMOTE_UNAVAILABLE')
    const e4 = await egress
      .request({ method: 'POST', url: `${s.url}/bad`, json: {} })
      .catch((e: unknown) => e)
    expect(e4).toBeInstanceOf(PermanentError)
    expect(e4).toBeInstanceOf(RemoteRejected)
    expect((e4 as RemoteRejected).remoteCode).toBe('QA/185')
    expect((e4 as RemoteRejected).message).toContain('already posted')
    expect(metrics.calls.map((c) => c.outcome)).toEqual(['retryable', 'permanent'])
  })

  it('a hanging remote ends in a retryable timeout; a lost answer is ambiguous', async () => {
    const qms = await startQms({ port: 0 })
    closers.push(() => qms.close())
    const { egress } = client([qms.url], { timeoutMs: 150 })
    qms.faults.set({ hangRate: 1, times: 1 })
    const t = await egress.request({ method: 'GET', url: `${qms.url}/api/v1/capas` }).catch((e: unknown) => e)
    expect((t as EgressFailure).code).toBe('QLK_EGRESS_TIMEOUT')
    qms.faults.set({ dropResponseRate: 1, times: 1 })
    const d = await egress
      .request({ method: 'POST', url: `${qms.url}/api/v1/capas`, json: { title: 'x', type: 'CORRECTIVE' } })
      .catch((e: unknown) => e)
    expect(d).toBeInstanceOf(RetryableError)
    expect((d as EgressFailure).code).toBe('QLK_EGRESS_AMBIGUOUS')
    expect((d as EgressFailure).ambiguous).toBe(true)
    expect(qms.state.capas).toBe(1)
  })

  it('a refused connection is retryable and not ambiguous', async () => {
    const s = await stub(() => ({ status: 200 }))
    const url = s.url
    await s.close()
    closers.pop()
    const { egress } = client([url])
    const e = await egress.request({ method: 'POST', url: `${url}/x`, json: {} }).catch((x: unknown) => x)
    expect((e as EgressFailure).code).toBe('QLK_EGRESS_NETWORK')
    expect((e as EgressFailure).ambiguous).toBe(false)
  })

  it('passes a valid traceparent through and drops a malformed one', async () => {
    const s = await stub(() => ({ status: 200, body: '{}' }))
    const { egress } = client([s.url])
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    await egress.request({ method: 'GET', url: s.url, traceparent: tp })
    await egress.request({ method: 'GET', url: s.url, traceparent: 'nonsense' })
    expect(s.requests[0]?.headers.traceparent).toBe(tp)
    expect(s.requests[1]?.headers.traceparent).toBeUndefined()
  })
})

describe('egress rate limit', () => {
  it('honours 429 Retry-After: waits on the clock, then succeeds', async () => {
    const qms = await startQms({ port: 0 })
    closers.push(() => qms.close())
    const { egress, metrics, clock } = client([qms.url])
    qms.faults.set({ rateLimitRate: 1, retryAfterSeconds: 2, times: 1 })
    const res = await egress.request({ method: 'GET', url: `${qms.url}/api/v1/capas` })
    expect(res.status).toBe(200)
    expect(metrics.waits).toEqual([
      { connector: 'test', target: expect.any(String), waitMs: 2000, reason: 'retry-after' },
    ])
    expect(clock.sleeps).toEqual([2000])
    expect(qms.state.http.requests).toBe(2)
  })

  it('a Retry-After longer than the inline limit goes to the engine as retryAfterMs', async () => {
    const s = await stub(() => ({ status: 429, headers: { 'retry-after': '120' } }))
    const { egress } = client([s.url])
    const e = await egress.request({ method: 'GET', url: s.url }).catch((x: unknown) => x)
    expect((e as EgressFailure).code).toBe('QLK_REMOTE_RATE_LIMITED')
    expect((e as EgressFailure).retryAfterMs).toBe(120_000)
    expect(s.requests).toHaveLength(1)
  })

  it('the token bucket makes a burst wait at the configured rate', async () => {
    const s = await stub(() => ({ status: 200, body: '{}' }))
    const { egress, metrics } = client([s.url], { rateLimit: { ratePerSecond: 10, burst: 2 } })
    for (let i = 0; i < 4; i++) await egress.request({ method: 'GET', url: s.url })
    expect(metrics.waits.map((w) => [w.reason, w.waitMs])).toEqual([
      ['bucket', 100],
      ['bucket', 100],
    ])
  })
})

describe('egress circuit breaker', () => {
  it('opens after N failures, refuses without connecting, half-opens after openMs, closes on success', async () => {
    let fail = true
    const s = await stub(() => (fail ? { status: 502, body: 'bad gateway' } : { status: 200, body: '{}' }))
    const { egress, metrics, clock } = client([s.url], {
      breaker: { failureThreshold: 3, openMs: 10_000, halfOpenProbes: 1 },
    })
    for (let i = 0; i < 3; i++)
      await expect(egress.request({ method: 'GET', url: s.url })).rejects.toThrow(/502/)
    const target = `${new URL(s.url).origin}`
    expect(egress.circuitState(`${target}`)).toBe('open')
    const open = await egress.request({ method: 'GET', url: s.url }).catch((x: unknown) => x)
    expect((open as EgressFailure).code).toBe('QLK_CIRCUIT_OPEN')
    expect((open as EgressFailure).retryAfterMs).toBe(10_000)
    expect(s.requests).toHaveLength(3)
    clock.advance(10_000)
    // half-open probe fails → open again
    await expect(egress.request({ method: 'GET', url: s.url })).rejects.toThrow(/502/)
    expect(egress.circuitState(target)).toBe('open')
    clock.advance(10_000)
    fail = false
    await egress.request({ method: 'GET', url: s.url })
    expect(egress.circuitState(target)).toBe('closed')
    expect(metrics.states.map((x) => x.state)).toEqual(['open', 'half-open', 'open', 'half-open', 'closed'])
  })
})

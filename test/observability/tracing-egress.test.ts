import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { startQms } from '../../simulators/index.ts'
import { EgressAllowlist, EgressClient } from '../../src/connectors/sdk/index.ts'
import { enableTracing } from '../../src/observability/tracing.ts'
import { startOtlpReceiver } from './otlp-receiver.ts'

const hex = (bytes: number) => randomBytes(bytes).toString('hex')
const CLIENT = 3

describe('egress trace context', () => {
  it('outside any span, a call continues the traceparent its connector passes with a span of its own; a 5xx is an error', async () => {
    const qms = await startQms({ port: 0 })
    const receiver = await startOtlpReceiver()
    const tracing = enableTracing({ otlpEndpoint: receiver.url })
    try {
      const egress = new EgressClient({ connector: 'qms-a', allowlist: new EgressAllowlist([qms.url]) })
      const [traceId, caller] = [hex(16), hex(8)]
      const ok = await egress.request({
        method: 'GET',
        url: `${qms.url}/api/v1/capas?limit=5`,
        traceparent: `00-${traceId}-${caller}-01`,
      })
      expect(ok.status).toBe(200)
      qms.faults.set({ errorRate: 1, errorStatus: 503, times: 1 })
      const failed = await egress
        .request({
          method: 'POST',
          url: `${qms.url}/api/v1/capas`,
          json: {},
          traceparent: `00-${traceId}-${caller}-01`,
        })
        .catch((e: unknown) => e)
      expect((failed as { code?: string }).code).toBe('QLK_REMOTE_UNAVAILABLE')
      await tracing.shutdown()
      const calls = receiver.spans.filter((s) => s.kind === CLIENT)
      expect(calls.map((c) => [c.name, c.traceId, c.parentSpanId, c.status])).toEqual([
        ['GET qms-a', traceId, caller, 0],
        ['POST qms-a', traceId, caller, 2],
      ])
      expect(calls[0]!.attributes).toMatchObject({
        'url.full': `${qms.url}/api/v1/capas`,
        'http.response.status_code': 200,
        'qualink.egress.outcome': 'ok',
      })
      expect(calls[1]!.attributes).toMatchObject({
        'http.response.status_code': 503,
        'error.type': 'QLK_REMOTE_UNAVAILABLE',
      })
      expect(qms.state.http.traceparents).toEqual(calls.map((c) => `00-${traceId}-${c.spanId}-01`))
    } finally {
      await tracing.shutdown()
      await receiver.close()
      await qms.close()
    }
  })
})

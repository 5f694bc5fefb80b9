import { describe, expect, it } from 'vitest'
import { buildRuntime } from '../../src/config/build-runtime.ts'
import { loadConfig } from '../../src/config/load.ts'
import { tracingSettings } from '../../src/observability/tracing.ts'
import { problemsOf, TempDir } from '../config/fixture.ts'

describe('tracing configuration', () => {
  const doc = (tracing: Record<string, unknown>) => ({
    version: 1,
    server: { tracing },
    connectors: {
      sap: { kind: 'erp/sap-s4', config: { baseUrl: 'https://s4.example' } },
      qms: { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
    },
    egress: { allowlist: { sap: ['https://s4.example'], qms: ['https://qms.example'] } },
    plants: { P100: { erp: 'sap', qms: 'qms' } },
  })

  it('reads server.tracing from qualink.yaml and names each bad field', () => {
    const tmp = new TempDir()
    try {
      const tracing = {
        otlpEndpoint: 'http://collector:4318',
        serviceName: 'qualink-p100',
        sampleRatio: 0.25,
      }
      const rt = buildRuntime(loadConfig(tmp.write('qualink.yaml', doc(tracing)), {}), {})
      expect(rt.options.tracing).toEqual(tracing)
      const problems = problemsOf(tmp, doc({ otlpEndpoint: 'collector:4318', sampleRatio: 2, sampler: 'x' }))
      expect(problems).toEqual(
        expect.arrayContaining([
          { path: '/server/tracing/otlpEndpoint', message: expect.stringContaining('must match') },
          { path: '/server/tracing/sampleRatio', message: 'must be <= 1' },
          { path: '/server/tracing/sampler', message: 'unknown key' },
        ]),
      )
    } finally {
      tmp.remove()
    }
  })

  it('is off unless configured; the OTel environment variables override the file', () => {
    expect(tracingSettings(undefined, {})).toBeUndefined()
    expect(tracingSettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' })).toEqual({
      otlpEndpoint: 'http://otel:4318',
    })
    expect(
      tracingSettings(
        { otlpEndpoint: 'http://file:4318', sampleRatio: 0.5 },
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318', OTEL_SERVICE_NAME: 'qualink-a' },
      ),
    ).toEqual({ otlpEndpoint: 'http://env:4318', sampleRatio: 0.5, serviceName: 'qualink-a' })
    expect(() => tracingSettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/,
    )
  })
})

import { describe, expect, it } from 'vitest'
import { activeTraceIds, detached, enableTracing, isTraceparent, startSpan, tracesUrl } from './tracing.ts'

// The example value of W3C Trace Context (www.w3.org/TR/trace-context/, §3.2 "traceparent Header");
// the same section makes version ff invalid.
const EXAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('tracing', () => {
  it('accepts the W3C traceparent shape and refuses the forbidden version ff and malformed values', () => {
    expect(isTraceparent(EXAMPLE)).toBe(true)
    expect(isTraceparent(`ff${EXAMPLE.slice(2)}`)).toBe(false)
    expect(isTraceparent(EXAMPLE.toUpperCase())).toBe(false)
    expect(isTraceparent('nonsense')).toBe(false)
    expect(isTraceparent(undefined)).toBe(false)
  })

  it('appends the signal path to an OTLP base URL as OTEL_EXPORTER_OTLP_ENDPOINT does', () => {
    expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces')
    expect(tracesUrl('http://collector:4318/otlp/')).toBe('http://collector:4318/otlp/v1/traces')
  })

  it('off: passes a given traceparent through, makes none, tracks no context', () => {
    expect(startSpan('x', { parent: EXAMPLE }).traceparent).toBe(EXAMPLE)
    expect(startSpan('x', { parent: 'nonsense' }).traceparent).toBeUndefined()
    expect(startSpan('x').traceparent).toBeUndefined()
    expect(startSpan('x', { parent: EXAMPLE }).run(() => activeTraceIds())).toBeUndefined()
  })

  it('on: a child continues its parent trace with its own span id; the active span is what logs see', async () => {
    const tracing = enableTracing({})
    try {
      const parent = startSpan('parent', { parent: EXAMPLE })
      const [, traceId, spanId, flags] = parent.traceparent!.split('-')
      expect([traceId, flags]).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', '01'])
      expect(spanId).not.toBe('00f067aa0ba902b7')
      const child = await parent.run(async () => {
        await Promise.resolve()
        expect(activeTraceIds()).toEqual({ trace_id: traceId, span_id: spanId })
        return startSpan('child')
      })
      expect(child.traceparent!.split('-')[1]).toBe(traceId)
      expect(startSpan('root', { parent: null }).traceparent!.split('-')[1]).not.toBe(traceId)
      // a sender's unsampled flag is followed
      const unsampled = startSpan('x', { parent: `${EXAMPLE.slice(0, -2)}00` })
      expect(unsampled.traceparent!.endsWith('-00')).toBe(true)
    } finally {
      await tracing.shutdown()
    }
    expect(startSpan('after', { parent: EXAMPLE }).traceparent).toBe(EXAMPLE)
  })

  it('childOnly: a span only under an active, still recording span; detached work has none', async () => {
    const tracing = enableTracing({})
    try {
      expect(startSpan('db', { childOnly: true }).traceparent).toBeUndefined()
      const request = startSpan('request', { parent: EXAMPLE })
      const traceId = request.traceparent!.split('-')[1]
      const child = request.run(() => startSpan('db', { childOnly: true }))
      expect(child.traceparent!.split('-')[1]).toBe(traceId)
      // a background tick armed from inside the request runs outside it
      expect(
        request.run(() => detached(() => startSpan('db', { childOnly: true }).traceparent)),
      ).toBeUndefined()
      request.end()
      // the request has answered: what still runs in its context is not its work
      expect(request.run(() => startSpan('db', { childOnly: true }).traceparent)).toBeUndefined()
    } finally {
      await tracing.shutdown()
    }
  })
})

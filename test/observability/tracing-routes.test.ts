/**
 * Server spans for every /v1 and /ui route, named by the route template and not the raw URL,
 * continuing an incoming traceparent; a store span per store call made inside them, with the
 * dialect and the operation and no SQL parameters. One Qualink per dialect exporting over OTLP
 * to an in-test receiver.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { useQualink } from '../qualink-fixture.ts'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts'

const hex = (bytes: number) => randomBytes(bytes).toString('hex')
const SERVER = 2
const CLIENT = 3
const UNSET = 0
const ERROR = 2

describe.each(DIALECTS)('route and store spans on %s', (dialect: Dialect) => {
  let receiver: OtlpReceiver
  // Registered before the server's hooks, so (hooks run as a stack) it closes after the server.
  afterEach(async () => {
    await receiver?.close()
  })
  const bed = useQualink(dialect, 'test', async () => {
    receiver = await startOtlpReceiver()
    return { tracing: { otlpEndpoint: receiver.url, serviceName: 'qualink-routes' } }
  })

  const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, body?: object) =>
    fetch(`${bed.q.url}${url}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    })
  const exported = async (): Promise<ReceivedSpan[]> => {
    await bed.q.flushTraces()
    return receiver.spans
  }
  const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name)

  it('names each request by its route template, continues its traceparent, and spans its store calls', async () => {
    const [traceId, caller] = [hex(16), hex(8)]
    const secretKey = `lot-${randomUUID()}`
    const runs = await call('GET', `/v1/runs?key=${secretKey}&limit=5`, {
      traceparent: `00-${traceId}-${caller}-01`,
    })
    expect(runs.status).toBe(200)
    const missing = await call('GET', `/v1/runs/${secretKey}`)
    expect(missing.status).toBe(404)
    const invalid = await call('POST', '/v1/dead-letters/replay', {}, { connector: '' })
    expect(invalid.status).toBe(400)
    const page = await call('GET', '/ui/exceptions')
    expect(page.status).toBe(200)
    const posted = await fetch(`${bed.q.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:test',
        type: 'qualink.test.pinged.v1',
        plant: 'P100',
        data: { n: 1 },
      }),
    })
    expect(posted.status).toBe(202)

    const spans = await exported()
    // the raw URL (its path ids and query) is in no span name or attribute
    expect(JSON.stringify(spans)).not.toContain(secretKey)

    const [list] = named(spans, 'GET /v1/runs')
    expect(list).toMatchObject({ kind: SERVER, traceId, parentSpanId: caller, status: UNSET })
    expect(list!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/v1/runs',
      'http.response.status_code': 200,
    })
    const listRuns = spans.filter((s) => s.parentSpanId === list!.spanId)
    expect(listRuns.map((s) => [s.name, s.kind, s.traceId])).toContainEqual([
      'store engine.listRuns',
      CLIENT,
      traceId,
    ])
    expect(listRuns.find((s) => s.name === 'store engine.listRuns')!.attributes).toEqual({
      'db.system.name': dialect === 'sqlite' ? 'sqlite' : 'postgresql',
      'db.operation.name': 'engine.listRuns',
    })

    const [notFound] = named(spans, 'GET /v1/runs/:id')
    expect(notFound).toMatchObject({ kind: SERVER, status: UNSET, parentSpanId: undefined })
    expect(notFound!.attributes).toMatchObject({
      'http.route': '/v1/runs/:id',
      'http.response.status_code': 404,
      'error.type': 'QLK_NOT_FOUND',
    })
    const [refused] = named(spans, 'POST /v1/dead-letters/replay')
    expect(refused!.attributes).toMatchObject({
      'http.response.status_code': 400,
      'error.type': 'QLK_VALIDATION',
    })

    const [ui] = named(spans, 'GET /ui/exceptions')
    expect(ui).toMatchObject({ kind: SERVER, status: UNSET })
    const uiStore = spans.filter((s) => s.parentSpanId === ui!.spanId).map((s) => s.name)
    expect(uiStore).toContain('store engine.listDeadLetters')

    // the event route keeps its own span: one server span per request, not two; the group
    // commit it opened is its store span
    const ingest = spans.filter((s) => s.kind === SERVER && s.name.startsWith('POST /v1/events'))
    expect(ingest).toHaveLength(1)
    expect(spans.filter((s) => s.parentSpanId === ingest[0]!.spanId).map((s) => s.name)).toContain(
      'store appendEvents',
    )
    // store spans exist only inside a trace: the background loops' polls start none
    const storeSpans = spans.filter((s) => s.name.startsWith('store '))
    expect(storeSpans.length).toBeGreaterThan(0)
    expect(storeSpans.every((s) => s.parentSpanId !== undefined)).toBe(true)
    expect(spans.every((s) => s.status !== ERROR)).toBe(true)
  })
})

import { randomBytes, randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CloudEvent } from '../../src/contracts/envelope.ts'
import type { Translator } from '../../src/engine/translation-stage.ts'
import { createLogger } from '../../src/observability/logger.ts'
import type { TracingSettings } from '../../src/observability/tracing.ts'
import { eventLogHistory } from '../../src/projections/measurement-history.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import { inProcessQualityCheck } from '../../src/workflows/in-process-check.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { workNonconformance } from '../workflows/helpers.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts'

const hex = (bytes: number) => randomBytes(bytes).toString('hex')
const SERVER = 2
const CLIENT = 3
const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'mes-p100', approvalStatus: 'not_required' }

/** An MES completion of PO-1 measuring `torque` Nm (the limit is 13 Nm: 13.6 puts the order on hold). */
const completion = (lot: string, torque: string) => ({
  operation: { productionOrder: 'PO-1', number: '0010', workCenter: 'L1' },
  plant: 'P100',
  measurements: [{ characteristic: 'TORQUE', value: torque, unit: 'NM' }],
  consumed: [],
  produced: [{ lot, material: 'FG-1', quantity: { units: 10, scale: 0, uom: 'PC' } }],
  audit,
})

/** Raw MES deliveries on /v1/ingress/mes-test: the body is the completion's data. */
const mesTranslator: Translator = {
  source: 'mes-test',
  async translate(raw) {
    return [
      {
        specversion: '1.0',
        id: `${raw.deliveryId}#0`,
        source: 'urn:mes-test',
        type: 'mes.operation.completed.v1',
        subject: 'PO-1',
        plant: raw.plant,
        data: JSON.parse(raw.body.toString('utf8')),
      } as CloudEvent,
    ]
  },
}

/** The pino lines Qualink wrote, parsed. */
function logSink() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, stream }
}

describe.each(DIALECTS)('OpenTelemetry tracing end to end on %s', (dialect: Dialect) => {
  let receiver: OtlpReceiver
  let logs: ReturnType<typeof logSink>

  afterEach(async () => {
    await receiver?.close()
  })
  const hub = usePlantHub(dialect, () => ({
    erp: {
      productionOrders: [
        { ManufacturingOrder: 'PO-1', Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '100' },
      ],
    },
    qms: {},
    workflows: [inProcessQualityCheck()],
    ports: ({ store }) => ({ history: eventLogHistory(store) }),
    deferStart: true,
  }))
  beforeEach(async () => {
    receiver = await startOtlpReceiver()
    logs = logSink()
  })

  const start = (tracing?: TracingSettings) =>
    hub.start({
      logger: createLogger('info', logs.stream),
      webhooks: [{ name: 'mes-test', plant: 'P100' }],
      translators: [mesTranslator],
      tracing,
    })
  const post = (qualink: Qualink, event: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${qualink.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', ...headers },
      body: JSON.stringify({ specversion: '1.0', source: 'urn:test', plant: 'P100', ...event }),
    })
  const run = async () => (await hub.store.engine.listRuns(ALL, { key: 'PO-1', limit: 5 }))[0]
  const storedTraceparent = async (qualink: Qualink, id: string) =>
    ((await (await fetch(`${qualink.url}/v1/events/${encodeURIComponent(id)}`)).json()) as CloudEvent)
      .traceparent
  /** What the simulators received from Qualink: every traceparent header, as [trace id, parent id]. */
  const sentToSystems = () =>
    [...hub.erp.state.http.traceparents, ...hub.qms.state.http.traceparents].map((tp) =>
      tp.split('-').slice(1, 3),
    )
  /** Each span's children must sit under one of `parents` in the same trace. */
  const expectChildren = (children: ReceivedSpan[], parents: ReceivedSpan[], traceId: string) => {
    const ids = new Set(parents.map((p) => p.spanId))
    for (const c of children) {
      expect(c.traceId, c.name).toBe(traceId)
      expect(ids.has(c.parentSpanId ?? ''), `${c.name} under ${c.parentSpanId}`).toBe(true)
    }
  }

  /** Works the NC through the QMS and sends its disposition from another trace (a header only). */
  const disposition = async (qualink: Qualink, otherTrace: string) => {
    const ncs = (await (await fetch(`${hub.qms.url}/api/v1/nonconformances`)).json()) as
      | { items?: { id: string }[] }
      | { id: string }[]
    const ncId = (Array.isArray(ncs) ? ncs : (ncs.items ?? []))[0]!.id
    await workNonconformance(hub.qms.url, ncId)
    const id = randomUUID()
    const header = `00-${otherTrace}-${hex(8)}-01`
    const r = await post(
      qualink,
      {
        id,
        type: 'qms.nonconformance.dispositioned.v1',
        subject: 'F1-1',
        data: {
          disposition: {
            id: 'DISP-1',
            plant: 'P100',
            lot: 'F1-1',
            nonconformance: ncId,
            lines: [{ code: 'REWORK', quantity: { units: 10, scale: 0, uom: 'PC' } }],
            audit: { ...audit, sourceSystem: 'qms' },
          },
        },
      },
      { traceparent: header },
    )
    expect(r.status).toBe(202)
    return { id, header }
  }

  it("continues an event's traceparent from ingest through each run attempt and step to every egress call, exported over OTLP", async () => {
    const qualink = await start({ otlpEndpoint: receiver.url, serviceName: 'qualink-test' })
    const traceId = hex(16)
    const caller = hex(8)
    const id = randomUUID()
    const posted = await post(qualink, {
      id,
      type: 'mes.operation.completed.v1',
      subject: 'PO-1',
      traceparent: `00-${traceId}-${caller}-01`,
      data: completion('F1-1', '13.6'),
    })
    expect(posted.status).toBe(202)
    // The run parks on the disposition: the durable boundary the trace has to cross.
    await until(async () => (await run())?.status === 'waiting')
    expect(hub.erp.state.productionOrders.find((o) => o.order === 'PO-1')?.onHold).toBe(true)
    const otherTrace = hex(16)
    const disp = await disposition(qualink, otherTrace)
    await until(async () => (await run())?.status === 'completed')
    expect(hub.erp.state.productionOrders.find((o) => o.order === 'PO-1')?.onHold).toBe(false)
    // Stored with the event: its own traceparent, or the HTTP header's when it had none.
    expect(await storedTraceparent(qualink, id)).toBe(`00-${traceId}-${caller}-01`)
    expect(await storedTraceparent(qualink, disp.id)).toBe(disp.header)
    await qualink.close() // flushes the batch exporter

    const spans = receiver.spans
    expect(receiver.contentTypes.length).toBeGreaterThan(0)
    expect(receiver.contentTypes.every((c) => c.startsWith('application/json'))).toBe(true)
    expect(spans.every((s) => s.service === 'qualink-test')).toBe(true)

    const ingest = spans.filter((s) => s.name === 'POST /v1/events' && s.traceId === traceId)
    expect(ingest).toHaveLength(1)
    expect(ingest[0]).toMatchObject({ parentSpanId: caller, kind: SERVER })
    expect(ingest[0]!.attributes).toMatchObject({
      'http.response.status_code': 202,
      'cloudevents.event_id': id,
      'cloudevents.event_type': 'mes.operation.completed.v1',
      'qualink.plant': 'P100',
    })

    const attempts = spans.filter((s) => s.name === 'run in-process-quality-check')
    expect(attempts.map((a) => a.attributes['qualink.run.outcome'])).toEqual(['suspended', 'completed'])
    for (const a of attempts) {
      expect(a).toMatchObject({ traceId, parentSpanId: caller })
      expect(a.attributes).toMatchObject({ 'qualink.run.key': 'PO-1', 'cloudevents.event_id': id })
    }

    const steps = spans.filter((s) => s.name.startsWith('step '))
    expect(steps.map((s) => s.attributes['qualink.step.name'])).toEqual(
      expect.arrayContaining(['evaluate', 'hold-order', 'open-nonconformance', 'release-hold']),
    )
    expectChildren(steps, attempts, traceId)
    // the step after the wait ran in the second attempt: same trace across the durable boundary
    const release = steps.find((s) => s.attributes['qualink.step.name'] === 'release-hold')!
    expect(release.parentSpanId).toBe(attempts[1]!.spanId)
    // and that attempt links to the trace of the disposition it received
    expect(attempts[1]!.links).toEqual([
      expect.objectContaining({ traceId: otherTrace, spanId: disp.header.split('-')[2] }),
    ])
    expect(attempts[0]!.links).toEqual([])

    // egress calls; the store's client spans (`store …`) are checked below
    const calls = spans.filter((s) => s.kind === CLIENT && !s.name.startsWith('store '))
    expect(new Set(calls.map((c) => c.attributes['qualink.connector']))).toEqual(new Set(['erp', 'qms']))
    expectChildren(calls, steps, traceId)
    for (const c of calls) expect(c.attributes['http.response.status_code']).toEqual(expect.any(Number))

    // Each request reached its system with its own client span as the parent: nothing else.
    const sent = sentToSystems()
    expect(sent.length).toBe(calls.length)
    expect(sent.every(([t]) => t === traceId)).toBe(true)
    expect(new Set(sent.map(([, parent]) => parent))).toEqual(new Set(calls.map((c) => c.spanId)))

    // The run's journal writes are store spans of its attempts, in its trace.
    const journal = spans.filter((s) => s.name.startsWith('store engine.') && s.traceId === traceId)
    expect(journal.length).toBeGreaterThan(0)
    expect(
      journal.every(
        (j) => j.attributes['db.system.name'] === (dialect === 'sqlite' ? 'sqlite' : 'postgresql'),
      ),
    ).toBe(true)

    // The disposition's own ingest is in the trace its sender gave.
    const dispIngest = spans.find((s) => s.attributes['cloudevents.event_id'] === disp.id)
    expect(dispIngest).toMatchObject({ traceId: otherTrace, parentSpanId: disp.header.split('-')[2] })

    // The log line of the ingest request carries the trace and the ingest span.
    const ingested = logs.lines.filter((l) => l.msg === 'ingested' && l.trace_id === traceId)
    expect(ingested).toHaveLength(1)
    expect(ingested[0]).toMatchObject({ span_id: ingest[0]!.spanId })
  })

  it('continues the traceparent header of a raw delivery through translation into the run', async () => {
    const qualink = await start({ otlpEndpoint: receiver.url })
    const traceId = hex(16)
    const caller = hex(8)
    const r = await fetch(`${qualink.url}/v1/ingress/mes-test`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-delivery-id': 'mes-1',
        traceparent: `00-${traceId}-${caller}-01`,
      },
      body: JSON.stringify(completion('F2-1', '13.6')),
    })
    expect(r.status).toBe(202)
    const refused = await fetch(`${qualink.url}/v1/ingress/mes-test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${hex(8)}-01` },
      body: '{}',
    })
    expect(refused.status).toBe(400)
    const unreadable = await fetch(`${qualink.url}/v1/ingress/mes-test`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-delivery-id': 'mes-2',
        traceparent: `00-${traceId}-${hex(8)}-01`,
      },
      body: '{"torque":',
    })
    expect(unreadable.status).toBe(202)
    const dead = async () =>
      (
        (await (await fetch(`${qualink.url}/v1/raw-deliveries?status=dead`)).json()) as {
          deliveries: unknown[]
        }
      ).deliveries.length
    await until(async () => (await dead()) === 1)
    await until(async () => (await run())?.status === 'waiting')
    // The translated event carries the translation span's context, which continues the sender's trace.
    const stored = await storedTraceparent(qualink, 'mes-1#0')
    expect(stored?.split('-')[1]).toBe(traceId)
    await qualink.close()

    const spans = receiver.spans
    const deliveries = spans.filter((s) => s.name === 'POST /v1/ingress/:source')
    const ingest = deliveries.find((s) => s.attributes['qualink.ingress.delivery_id'] === 'mes-1')
    expect(ingest).toMatchObject({ traceId, parentSpanId: caller, kind: SERVER })
    expect(ingest!.attributes).toMatchObject({
      'qualink.ingress.delivery_id': 'mes-1',
      'http.response.status_code': 202,
    })
    // A refused delivery is the caller's error: named, but the span's status stays unset (HTTP semconv).
    const refusal = deliveries.find((s) => s.attributes['qualink.ingress.delivery_id'] === undefined)
    expect(refusal).toMatchObject({ traceId, status: 0 })
    expect(refusal!.attributes).toMatchObject({
      'http.response.status_code': 400,
      'error.type': 'QLK_VALIDATION',
    })
    const translate = spans.find(
      (s) => s.name === 'translate mes-test' && s.attributes['qualink.ingress.delivery_id'] === 'mes-1',
    )
    expect(translate).toMatchObject({ traceId, parentSpanId: caller, spanId: stored!.split('-')[2] })
    expect(translate!.attributes).toMatchObject({
      'qualink.translation.outcome': 'translated',
      'qualink.translation.events': 1,
    })
    // A delivery that cannot be translated is dead-lettered with its body kept: an error in its trace.
    const failed = spans.find(
      (s) => s.name === 'translate mes-test' && s.attributes['qualink.ingress.delivery_id'] === 'mes-2',
    )
    expect(failed).toMatchObject({ traceId, status: 2 })
    expect(failed!.attributes).toMatchObject({
      'qualink.translation.outcome': 'dead',
      'error.type': expect.any(String),
    })
    const attempt = spans.find((s) => s.name === 'run in-process-quality-check')
    expect(attempt).toMatchObject({ traceId, parentSpanId: translate!.spanId })
    const sent = sentToSystems()
    expect(sent.length).toBeGreaterThan(0)
    expect(sent.every(([t]) => t === traceId)).toBe(true)
  })

  it('a collector that cannot be reached costs a warning, not the shutdown', async () => {
    const gone = await startOtlpReceiver()
    await gone.close()
    const qualink = await start({ otlpEndpoint: gone.url })
    const r = await post(qualink, {
      id: randomUUID(),
      type: 'mes.operation.completed.v1',
      subject: 'PO-1',
      data: completion('F4-1', '12.5'),
    })
    expect(r.status).toBe(202)
    await until(async () => (await run())?.status === 'completed')
    await qualink.close()
    const warnings = logs.lines.filter((l) => l.level === 40 && String(l.msg).startsWith('opentelemetry:'))
    expect(warnings.length).toBeGreaterThan(0)
    expect(String(warnings[0]!.msg)).toMatch(/ECONNREFUSED/)
  })

  it('is off without configuration: nothing is exported, no trace ids in logs, no traceparent sent', async () => {
    const qualink = await start()
    const traceparent = `00-${hex(16)}-${hex(8)}-01`
    const id = randomUUID()
    const r = await post(qualink, {
      id,
      type: 'mes.operation.completed.v1',
      subject: 'PO-1',
      traceparent,
      data: completion('F3-1', '13.6'),
    })
    expect(r.status).toBe(202)
    await until(async () => (await run())?.status === 'waiting')
    expect(hub.erp.state.productionOrders.find((o) => o.order === 'PO-1')?.onHold).toBe(true)
    // The event keeps its traceparent for whoever reads it; Qualink itself traced nothing.
    expect(await storedTraceparent(qualink, id)).toBe(traceparent)
    await qualink.close()
    expect(logs.lines.some((l) => l.msg === 'ingested')).toBe(true)
    expect(logs.lines.filter((l) => 'trace_id' in l)).toEqual([])
    expect(sentToSystems()).toEqual([])
    expect(receiver.contentTypes).toEqual([])
  })
})

import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConnectorMetrics } from '../../src/observability/connector-metrics.ts'
import { inProcessQualityCheck } from '../../src/workflows/in-process-check.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { inspectionLotOf, REJECT_50_AS_IS, receiveGoods } from '../workflows/helpers.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'
import { parsePrometheus } from './prom-text.ts'

const P100 = { plant: 'P100' }
const RECEIPT = { ...P100, workflow: 'supplier-receipt-inspection' }

/**
 * Each business and connector metric moves when the scenario that drives it runs: the receipt
 * inspection and in-process check workflows over the ERP and QMS simulators, on both dialects,
 * read back through a real /metrics scrape parsed as Prometheus text.
 */
describe.each(DIALECTS)('business and connector metrics on %s', (dialect: Dialect) => {
  const hub = usePlantHub(dialect, () => ({
    erp: {
      materials: { 'RAW-100': { baseUnit: 'KG' } },
      productionOrders: [
        { ManufacturingOrder: 'PO-2', Material: 'FG-1', ProductionPlant: '1000', TotalQuantity: '100' },
      ],
      webhook: true,
    },
    qms: { webhook: true },
    connectorMetrics: new ConnectorMetrics(),
    // A breaker that opens on the first failure and probes after 300 ms, so one QMS outage opens it.
    egress: { timeoutMs: 2000, breaker: { failureThreshold: 1, openMs: 300, halfOpenProbes: 1 } },
    workflows: [supplierReceiptInspection(), inProcessQualityCheck()],
  }))

  const scrape = async () => {
    const r = await hub.q.app.inject({ method: 'GET', url: '/metrics' })
    expect(r.statusCode).toBe(200)
    return parsePrometheus(r.body)
  }
  const runOf = async (key: string) => (await hub.store.engine.listRuns(ALL, { key, limit: 5 }))[0]
  const receive = (batch: string, qty: string) => receiveGoods(hub.erp, batch, qty)
  const qmsLotFor = (batch: string) => inspectionLotOf(hub.qms, batch)

  it('receipt inspection: awaiting creation, connector errors and circuit, rate-limit waits, duplicates, legs', async () => {
    const before = await scrape()
    expect(before.types.get('qualink_business_leg_duration_seconds')).toBe('histogram')
    expect(before.value('qualink_inspections_awaiting_creation', P100)).toBe(0)
    expect(before.value('qualink_lots_awaiting_usage_decision', P100)).toBe(0)

    // The QMS is down: the receipt's inspection lot cannot be created, the breaker opens.
    hub.qms.faults.set({ errorRate: 1, errorStatus: 503, match: { method: 'POST' } })
    await receive('B1', '100')
    await until(async () => (await scrape()).value('qualink_inspections_awaiting_creation', P100) === 1)
    await until(
      async () => (await scrape()).value('qualink_connector_circuit_state', { connector: 'qms' }) === 2,
    )
    const down = await scrape()
    expect(
      down.value('qualink_inspections_awaiting_creation_oldest_age_seconds', P100),
    ).toBeGreaterThanOrEqual(0)
    expect(
      down.value('qualink_connector_errors_total', {
        connector: 'qms',
        class: 'retryable',
        code: 'QLK_REMOTE_UNAVAILABLE',
      }),
    ).toBeGreaterThan(0)
    expect(
      down.value('qualink_connector_calls_total', { connector: 'qms', outcome: 'retryable' }),
    ).toBeGreaterThan(0)
    expect(down.value('qualink_connector_call_duration_seconds_count', { connector: 'qms' })).toBeGreaterThan(
      0,
    )
    expect(
      down.value('qualink_business_leg_duration_seconds_count', {
        ...P100,
        leg: 'receipt-to-qms-inspection',
      }),
    ).toBe(0)

    // The QMS recovers: a probe closes the breaker and the inspection lot is created.
    hub.qms.faults.reset()
    const lot = await qmsLotFor('B1')
    await until(async () => (await scrape()).value('qualink_inspections_awaiting_creation', P100) === 0)
    const up = await scrape()
    expect(up.value('qualink_connector_circuit_state', { connector: 'qms' })).toBe(0)
    expect(
      up.value('qualink_business_leg_duration_seconds_count', { ...P100, leg: 'receipt-to-qms-inspection' }),
    ).toBe(1)
    // the lot is on hold in quality inspection from the step that created its inspection lot
    const inspectionHold = { ...P100, hold: 'quality-inspection' }
    expect(up.value('qualink_lots_on_hold_by_age', { ...inspectionHold, age: 'lt_1h' })).toBe(1)
    expect(up.value('qualink_lots_on_hold_by_age', { ...inspectionHold, age: '1h_1d' })).toBe(0)
    // the received lot now waits for its usage decision in the QMS
    expect(up.value('qualink_lots_awaiting_usage_decision', P100)).toBe(1)
    const waited = up.samples.find(
      (x) =>
        x.name === 'qualink_lots_awaiting_usage_decision_oldest_age_seconds' && x.labels.plant === 'P100',
    )
    expect(waited?.value).toBeGreaterThanOrEqual(0)

    // The ERP asks for a pause once (429, Retry-After 1 s) on the stock posting; the QMS
    // delivers its usage-decision webhook twice.
    hub.erp.faults.set({
      rateLimitRate: 1,
      retryAfterSeconds: 1,
      times: 1,
      match: { method: 'POST', path: 'A_InspLotMatlDocItem' },
    })
    hub.qms.faults.set({ duplicateRate: 1, seed: 3 })
    hub.qms.makeUsageDecision(lot.id, {
      decision: 'ACCEPT',
      code: 'A1',
      dispositions: [{ disposition: 'USE_AS_IS', quantity: '100' }],
    })
    await until(async () => (await runOf('B1'))?.status === 'completed', 45_000)
    await until(
      async () =>
        (await scrape()).value('qualink_duplicate_events_total', {
          ...P100,
          type: 'qms.usage_decision.made.v1',
        }) >= 1,
    )
    const done = await scrape()
    expect(done.value('qualink_lots_on_hold_by_age', inspectionHold)).toBe(0) // released
    expect(done.value('qualink_lots_awaiting_usage_decision', P100)).toBe(0)
    expect(hub.erp.faults.counts.rateLimit).toBe(1)
    // every ERP request inside the 1 s pause waits once: the retried posting, and any other ERP
    // call that happens to fall in that second
    expect(
      done.value('qualink_connector_rate_limit_waits_total', { connector: 'erp', reason: 'retry-after' }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      done.value('qualink_connector_rate_limit_wait_seconds_total', {
        connector: 'erp',
        reason: 'retry-after',
      }),
    ).toBeGreaterThan(0)
    expect(
      done.value('qualink_connector_errors_total', { connector: 'erp', code: 'QLK_REMOTE_RATE_LIMITED' }),
    ).toBe(1)
    expect(done.value('qualink_connector_calls_total', { connector: 'erp', outcome: 'ok' })).toBeGreaterThan(
      0,
    )
    const posting = { ...P100, leg: 'receipt-to-erp-posting' }
    expect(done.value('qualink_business_leg_duration_seconds_count', posting)).toBe(1)
    expect(done.value('qualink_business_leg_duration_seconds_bucket', { ...posting, le: '+Inf' })).toBe(1)
    // the leg is observed once per process, however often it is scraped
    expect((await scrape()).value('qualink_business_leg_duration_seconds_count', posting)).toBe(1)

    // The Connectors page shows the same state.
    const page = await hub.q.app.inject({ method: 'GET', url: '/ui/connectors' })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(`<code>${hub.qms.url.replace(/\/$/, '')}</code>`)
    expect(page.body).toMatch(/data-connector="qms"[\s\S]*QLK_REMOTE_UNAVAILABLE/)
    expect(page.body).toMatch(/data-connector="erp"[\s\S]*remote Retry-After/)
  })

  it('failed disposition updates: a rejecting decision that dead-letters counts until discarded', async () => {
    await receive('B2', '50')
    const lot = await qmsLotFor('B2')
    hub.qms.makeUsageDecision(lot.id, REJECT_50_AS_IS)
    await until(
      async () => (await scrape()).value('qualink_disposition_updates_failed', RECEIPT) === 1,
      45_000,
    )
    const [dl] = await hub.store.engine.listDeadLetters(ALL, { limit: 5 })
    expect(dl).toMatchObject({ key: 'B2', errorCode: 'QLK_RELEASE_WITHOUT_ACCEPTANCE' })
    const overview = async () => (await hub.q.app.inject({ method: 'GET', url: '/' })).body
    expect(await overview()).toMatch(
      /<div class="value bad">1<\/div><div class="label">failed disposition updates<br>/,
    )
    const r = await hub.q.app.inject({
      method: 'POST',
      url: `/v1/dead-letters/${dl!.id}/discard`,
      payload: { reason: 'returned to vendor by hand' },
    })
    expect(r.statusCode).toBeLessThan(300)
    expect((await scrape()).value('qualink_disposition_updates_failed', RECEIPT)).toBe(0)
    expect(await overview()).toMatch(
      /<div class="value ">0<\/div><div class="label">failed disposition updates<br>/,
    )
  })

  it('in-process check: completion → ERP hold leg, and a re-posted completion counts as a duplicate', async () => {
    const completion = {
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:test',
      type: 'mes.operation.completed.v1',
      subject: 'PO-2',
      plant: 'P100',
      data: {
        operation: { productionOrder: 'PO-2', number: '0010', workCenter: 'L1' },
        plant: 'P100',
        measurements: [{ characteristic: 'TORQUE', value: '13.6', unit: 'NM' }], // above the 13 Nm limit
        consumed: [],
        produced: [{ lot: 'F2-1', material: 'FG-1', quantity: { units: 10, scale: 0, uom: 'PC' } }],
        audit: {
          timestamp: '2026-11-27T08:00:00Z',
          sourceSystem: 'mes-p100',
          approvalStatus: 'not_required',
        },
      },
    }
    const post = () =>
      hub.q.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/cloudevents+json' },
        payload: JSON.stringify(completion),
      })
    expect((await post()).statusCode).toBe(202)
    await until(async () => (await runOf('PO-2'))?.status === 'waiting')
    expect(
      (await scrape()).value('qualink_lots_on_hold_by_age', { ...P100, hold: 'order-hold', age: 'lt_1h' }),
    ).toBe(1)
    expect(hub.erp.state.productionOrders.find((o) => o.order === 'PO-2')).toMatchObject({ onHold: true })
    const hold = { ...P100, leg: 'completion-to-erp-hold' }
    const s = await scrape()
    expect(s.value('qualink_business_leg_duration_seconds_count', hold)).toBe(1)
    expect(s.value('qualink_duplicate_events_total', { ...P100, type: 'mes.operation.completed.v1' })).toBe(0)
    expect((await post()).json()).toMatchObject({ duplicate: true })
    expect(
      (await scrape()).value('qualink_duplicate_events_total', {
        ...P100,
        type: 'mes.operation.completed.v1',
      }),
    ).toBe(1)
  })
})

import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { complaintTraceability } from '../../src/workflows/complaint-traceability.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { parsePrometheus } from '../observability/prom-text.ts'
import { caughtUpTracePort } from './complaint-scene.ts'
import { postEvent, receiveGoods } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const audit = { timestamp: '2026-11-27T08:00:00Z', sourceSystem: 'test', approvalStatus: 'not_required' }

describe.each(DIALECTS)('complaint traceability end to end on %s', (dialect: Dialect) => {
  // The first investigation is held until the test has seen the complaint open on /metrics.
  let letGo: () => void = () => {}
  const held = new Promise<void>((r) => {
    letGo = r
  })
  const hub = usePlantHub(dialect, () => ({
    // Not inspection-relevant: the receipt lands in unrestricted stock, ready to be used.
    erp: { materials: { 'RAW-100': { inspectionRelevant: false, baseUnit: 'KG' } }, webhook: true },
    qms: {},
    // every complaint webhook is delivered twice (same delivery id), and the test sends it again
    // as a new delivery of a new event after the first run completed
    crm: { webhook: true, faults: { duplicateRate: 1 } },
    workflows: [complaintTraceability()],
    ports: ({ store }) => {
      const trace = caughtUpTracePort(store)
      return {
        trace: {
          ...trace,
          investigate: async (...a: Parameters<typeof trace.investigate>) => {
            await held
            return trace.investigate(...a)
          },
        },
      }
    },
  }))

  const post = (type: string, subject: string, data: Record<string, unknown>) =>
    postEvent(hub.q, type, subject, data)

  it('traces to the supplier lot and every customer, blocks the suspect stock once, opens one NC and one CAPA with the trace, however often the complaint arrives', async () => {
    await receiveGoods(hub.erp, 'RAW-B1', '100')
    await until(
      async () =>
        (await hub.store.listEvents(ALL, { type: 'erp.goods_receipt.posted.v1', limit: 5 })).length === 1,
    )
    const op = (order: string, produced: string) =>
      post('mes.operation.completed.v1', order, {
        operation: { productionOrder: order, number: '0010' },
        plant: 'P100',
        measurements: [],
        consumed: [{ lot: 'RAW-B1', material: 'RAW-100', quantity: { units: 10_000, scale: 3, uom: 'KG' } }],
        produced: [{ lot: produced, material: 'FG-1', quantity: { units: 40, scale: 0, uom: 'PC' } }],
        audit,
      })
    await op('PO-1', 'FG-1')
    await op('PO-2', 'FG-2')
    for (const [lot, customer] of [
      ['FG-1', 'CUST-1'],
      ['FG-2', 'CUST-2'],
    ] as const) {
      await post('erp.delivery.shipped.v1', lot, {
        delivery: `80-${lot}`,
        plant: 'P100',
        customer,
        lines: [{ item: '000010', material: 'FG-1', lot, quantity: { units: 40, scale: 0, uom: 'PC' } }],
        audit,
      })
    }

    const complaint = hub.crm.fileComplaint({
      customer: 'CUST-1',
      material: 'FG-1',
      batch: 'FG-1',
      severity: 'HIGH',
      description: 'cracked housing',
    })
    const runs = () => hub.store.engine.listRuns(ALL, { workflow: 'complaint-traceability', limit: 5 })
    // While its investigation runs the complaint is open (metrics.md), and 0 once it completed.
    const openComplaints = async () =>
      parsePrometheus((await hub.q.app.inject({ method: 'GET', url: '/metrics' })).body).value(
        'qualink_complaints_open',
        { plant: 'P100' },
      )
    await until(async () => (await openComplaints()) === 1, 20_000)
    letGo()
    await until(async () => (await runs())[0]?.status === 'completed', 20_000)
    expect(await openComplaints()).toBe(0)
    // The CRM sends the case again as a new event (new event and delivery ids): a second run
    // starts for the same complaint and finds the records the first one opened.
    hub.crm.webhooks.send('complaint.created', {
      id: randomUUID(),
      type: 'complaint.created',
      occurredAt: new Date().toISOString(),
      data: complaint,
    })
    await until(async () => {
      const all = await runs()
      return all.length === 2 && all.every((r) => r.status === 'completed')
    }, 20_000)
    await hub.crm.webhooks.idle()
    expect(hub.crm.state.webhooks).toHaveLength(4) // two events, each delivered twice
    const [run, again] = await runs()
    expect(again!.result).toMatchObject({
      nonconformance: (run!.result as { nonconformance: string }).nonconformance,
      correctiveAction: (run!.result as { correctiveAction: string }).correctiveAction,
    })
    expect(run!.result).toMatchObject({
      supplierLots: [{ lot: 'RAW-B1', supplier: 'SUP-7' }],
      productionOrders: ['PO-1'],
      customers: ['CUST-1', 'CUST-2'],
      deliveries: ['80-FG-1', '80-FG-2'],
      affectedLots: 3,
    })
    // The raw lot's unrestricted stock is blocked, with one document; the FG lots hold no ERP stock.
    const stock = hub.erp.state.stock.find((s) => s.key.batch === 'RAW-B1')!
    expect(stock.buckets).toMatchObject({ unrestricted: 0, blocked: 100_000 })
    expect(hub.erp.state.counts.documentsByLotAndBucket['RAW-100|1000|RAW-B1']).toMatchObject({ blocked: 1 })
    expect(hub.qms.state.nonconformances).toBe(1)
    // one CAPA, linked to the NC, with the trace summary attached
    expect(hub.qms.state.capas).toBe(1)
    const [capa] = [...hub.qms.model.capas.values()]
    const [nc] = [...hub.qms.model.nonconformances.values()]
    expect(capa).toMatchObject({
      id: (run!.result as { correctiveAction: string }).correctiveAction,
      nonconformanceId: nc!.id,
      type: 'CORRECTIVE',
      externalRef: `complaint/${complaint.caseId}/capa`,
    })
    expect(capa!.attachments?.map((a) => a.name)).toEqual(['trace.json'])
    expect(JSON.parse(capa!.attachments![0]!.content)).toMatchObject({
      complaint: complaint.caseId,
      suspectLots: expect.arrayContaining([expect.objectContaining({ lot: 'RAW-B1' })]),
      supplierLots: [{ lot: 'RAW-B1', supplier: 'SUP-7' }],
      deliveries: ['80-FG-1', '80-FG-2'],
      customers: ['CUST-1', 'CUST-2'],
      blocked: [{ lot: 'RAW-B1' }],
    })
  })
})

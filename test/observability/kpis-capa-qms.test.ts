import { describe, expect, it } from 'vitest'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { usePlantHub } from '../workflows/plant-hub.ts'
import { parsePrometheus } from './prom-text.ts'

const DAY = 86_400_000

/**
 * The supplier CAPA response KPI from real QMS traffic: CAPAs opened, worked through the 8D steps
 * and completed in the QMS simulator reach Qualink only as the QMS's signed capa.* webhooks
 * (delivered twice each), each step change as one qms.capa.step_changed.v1; the KPI
 * (GET /v1/kpis, /metrics) moves by the QMS's own clock.
 */
describe.each(DIALECTS)('supplier CAPA response from QMS webhooks on %s', (dialect: Dialect) => {
  let qmsNow = Date.now() - 3 * DAY
  const hub = usePlantHub(dialect, () => ({ qms: { webhook: true, clock: () => qmsNow } }))

  const qms = async (method: 'POST' | 'PATCH', path: string, body: unknown) => {
    const r = await fetch(`${hub.qms.url}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(r.status, `${method} ${path}`).toBeLessThan(300)
    return (await r.json()) as { id: string }
  }
  const events = (type: string) => hub.store.listEvents(ALL, { type, limit: 100 })
  const kpi = async () => {
    const k = (await hub.q.app.inject({ method: 'GET', url: '/v1/kpis' })).json() as {
      plants: Array<{ plant: string; capaResponse: Array<{ count: number; p50Seconds: number | null }> }>
    }
    return k.plants.find((p) => p.plant === 'P100')?.capaResponse.filter((d) => d.count > 0) ?? []
  }

  it('a supplier CAPA opened, stepped through 8D and closed in the QMS is one response time', async () => {
    hub.qms.faults.set({ duplicateRate: 1, seed: 11 })
    qmsNow = Date.now() - 3 * DAY
    const openedAt = qmsNow
    expect(await kpi()).toEqual([])
    const supplierCapa = await qms('POST', '/capas', { title: 'Hardness out of spec', supplier: 'V-77' })
    const internal = await qms('POST', '/capas', { title: 'Operator training' }) // no supplier: not counted
    await until(async () => (await events('qms.capa.opened.v1')).length === 2)

    for (const [i, step] of ['D1', 'D2', 'D3', 'D4', 'D5', 'D6', 'D7'].entries()) {
      qmsNow += 3_600_000
      await qms('PATCH', `/capas/${supplierCapa.id}`, {
        eightDStep: step,
        ...(step === 'D4' ? { rootCause: 'furnace temperature drift' } : {}),
      })
      if (i === 0) {
        // a step going back is refused by the QMS; the same step again sends nothing
        const back = await fetch(`${hub.qms.url}/api/v1/capas/${supplierCapa.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ eightDStep: 'D0' }),
        })
        expect(back.status).toBe(409)
      }
    }
    qmsNow = Date.now() - DAY
    const closedAt = qmsNow
    await qms('PATCH', `/capas/${supplierCapa.id}`, { status: 'COMPLETED' })
    await qms('PATCH', `/capas/${internal.id}`, { status: 'COMPLETED' })
    await until(async () => (await events('qms.capa.closed.v1')).length === 2)
    // every webhook (2 created, 7 step changes, 2 completed) was delivered, twice, yet no extra events
    await until(() => {
      const w = hub.qms.state.webhooks
      return w.sent === 11 && w.deliveries.every((d) => d.status === 202 || d.status === 200)
    })
    expect(hub.qms.state.webhooks.deliveries.filter((d) => d.duplicate).length).toBeGreaterThan(0)
    expect(await events('qms.capa.opened.v1')).toHaveLength(2)
    // each 8D step change is one qms.capa.step_changed.v1, at the QMS's time of the change
    const steps = (await events('qms.capa.step_changed.v1')).map((e) => {
      const ca = (e.envelope.data as { correctiveAction: { id: string; eightDStep: string; status: string } })
        .correctiveAction
      return [ca.id, ca.eightDStep, ca.status, Date.parse(String(e.envelope.time)) - openedAt]
    })
    expect(steps.sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual(
      ['D1', 'D2', 'D3', 'D4', 'D5', 'D6', 'D7'].map((step, i) => [
        supplierCapa.id,
        step,
        'open',
        (i + 1) * 3_600_000,
      ]),
    )
    const closed = (await events('qms.capa.closed.v1')).find((e) => e.subject === supplierCapa.id)!
    expect(closed.envelope.data).toMatchObject({
      correctiveAction: {
        id: supplierCapa.id,
        supplier: 'V-77',
        status: 'closed',
        eightDStep: 'D8',
        rootCause: 'furnace temperature drift',
      },
      effective: true,
    })

    const days = await kpi()
    expect(days).toHaveLength(1)
    expect(days[0]!.count).toBe(1)
    // timed by the QMS's clock: opened at openedAt, completed at closedAt (ISO, millisecond precision)
    expect(days[0]!.p50Seconds).toBe((closedAt - openedAt) / 1000)

    const m = parsePrometheus((await hub.q.app.inject({ method: 'GET', url: '/metrics' })).body)
    expect(m.value('qualink_kpi_duration_count', { plant: 'P100', kpi: 'capa-response' })).toBe(1)
    expect(
      m.value('qualink_kpi_duration_seconds', { plant: 'P100', kpi: 'capa-response', quantile: '0.5' }),
    ).toBe(days[0]!.p50Seconds)
  })
})

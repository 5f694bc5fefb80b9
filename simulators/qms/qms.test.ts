import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifySignature } from '../shared/signing.ts'
import { type Receiver, startReceiver } from '../shared/test-support.ts'
import { type QmsSim, startQms } from './server.ts'

let sim: QmsSim
let hook: Receiver
const auth = { authorization: 'Bearer k1', 'content-type': 'application/json' }

beforeEach(async () => {
  hook = await startReceiver()
  sim = await startQms({ port: 0, apiKey: 'k1', webhook: { url: hook.url, secret: 'qms-secret' } })
})
afterEach(async () => {
  await sim.close()
  await hook.close()
})

const api = (path: string, method = 'GET', body?: unknown) =>
  fetch(`${sim.url}/api/v1${path}`, {
    method,
    headers: auth,
    body: body === undefined ? undefined : JSON.stringify(body),
  })

type Event = { id: string; type: string; data: Record<string, unknown> }

describe('qms simulator', () => {
  it('creates a lot with a Z1.4 level II sample size, records results and refuses bad auth', async () => {
    expect((await fetch(`${sim.url}/api/v1/inspection-lots`)).status).toBe(401)
    const res = await api('/inspection-lots', 'POST', {
      externalRef: 'QLK-1',
      material: 'RAW-100',
      batch: 'B1',
      quantity: '1000',
      unit: 'KG',
    })
    expect(res.status).toBe(201)
    const lot = (await res.json()) as { id: string; sampleSize: number }
    // Lot size 1000 → code letter J → n = 80 (Table I, level II).
    expect(lot.sampleSize).toBe(80)
    const r = await api(`/inspection-lots/${lot.id}/results`, 'POST', {
      characteristic: 'diameter',
      values: [9.9, 10.4],
      lowerLimit: 9.5,
      upperLimit: 10.2,
    })
    expect(((await r.json()) as { valuation: string }).valuation).toBe('REJECTED')
    const byRef = (await (await api('/inspection-lots?externalRef=QLK-1')).json()) as { total: number }
    expect(byRef.total).toBe(1)
  })

  it('sends a signed usage_decision.made webhook with split quantities when told to decide', async () => {
    const lot = sim.createInspectionLot({ material: 'RAW-100', batch: 'B2', quantity: '50' })
    sim.makeUsageDecision(lot.id, {
      decision: 'REJECT',
      dispositions: [
        { disposition: 'USE_AS_IS', quantity: '25' },
        { disposition: 'SCRAP', quantity: '25' },
      ],
    })
    const got = await hook.waitFor(2)
    const ud = got.find((d) => d.headers['x-qms-event'] === 'usage_decision.made')!
    expect(verifySignature('qms-secret', String(ud.headers['x-qms-signature']), ud.body)).toBe(true)
    expect(String(ud.headers['x-qms-signature'])).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(ud.headers['x-qms-delivery-id']).toBeTruthy()
    const ev = JSON.parse(ud.body) as Event
    expect(ev.data).toMatchObject({
      inspectionLotId: lot.id,
      decision: 'REJECT',
      dispositions: [{ quantity: '25.000' }, { disposition: 'SCRAP' }],
    })
  })

  it('refuses dispositions that do not add up and a second decision', async () => {
    const lot = sim.createInspectionLot({ material: 'M', batch: 'B3', quantity: '10' })
    const bad = await api(`/inspection-lots/${lot.id}/usage-decision`, 'POST', {
      decision: 'ACCEPT',
      dispositions: [{ disposition: 'USE_AS_IS', quantity: '9.999' }],
    })
    expect(bad.status).toBe(422)
    expect(
      (await api(`/inspection-lots/${lot.id}/usage-decision`, 'POST', { decision: 'ACCEPT' })).status,
    ).toBe(201)
    expect(
      (await api(`/inspection-lots/${lot.id}/usage-decision`, 'POST', { decision: 'ACCEPT' })).status,
    ).toBe(409)
  })

  it('walks a nonconformance through its lifecycle and links a CAPA', async () => {
    const nc = (await (
      await api('/nonconformances', 'POST', { title: 'burr on edge', batch: 'B4' })
    ).json()) as { id: string }
    expect((await api(`/nonconformances/${nc.id}`, 'PATCH', { status: 'CLOSED' })).status).toBe(409)
    expect((await api(`/nonconformances/${nc.id}`, 'PATCH', { status: 'CONTAINED' })).status).toBe(200)
    const capa = await api('/capas', 'POST', { title: 'deburr step', nonconformanceId: nc.id })
    expect(capa.status).toBe(201)
    expect(sim.state).toMatchObject({ nonconformances: 1, capas: 1 })
  })

  it('duplicates webhooks on demand, keeping the delivery id', async () => {
    sim.faults.set({ duplicateRate: 1, times: 1 })
    sim.createInspectionLot({ material: 'M', batch: 'B5', quantity: '1' })
    const got = await hook.waitFor(2)
    expect(got[0]!.headers['x-qms-delivery-id']).toBe(got[1]!.headers['x-qms-delivery-id'])
    expect(got[0]!.body).toBe(got[1]!.body)
  })

  it('commit-then-drop on create: the lot exists, found by externalRef', async () => {
    sim.faults.set({ dropResponseRate: 1, times: 1, match: { method: 'POST', path: '/inspection-lots' } })
    await expect(
      api('/inspection-lots', 'POST', { externalRef: 'QLK-9', material: 'M', batch: 'B6', quantity: '5' }),
    ).rejects.toThrow()
    const back = (await (await api('/inspection-lots?externalRef=QLK-9')).json()) as { total: number }
    expect(back.total).toBe(1)
  })

  it('resizes an undecided lot, then refuses once it is decided', async () => {
    const lot = sim.createInspectionLot({ material: 'M', batch: 'B7', quantity: '60', sampleSize: 13 })
    const r = await api(`/inspection-lots/${lot.id}`, 'PATCH', { quantity: '100', sampleSize: 20 })
    expect(r.status).toBe(200)
    expect(await r.json()).toMatchObject({ quantity: '100.000', sampleSize: 20 })
    // The decision must now cover the new quantity.
    expect(
      (await api(`/inspection-lots/${lot.id}/usage-decision`, 'POST', { decision: 'ACCEPT' })).status,
    ).toBe(201)
    expect(sim.model.lots.get(lot.id)!.usageDecision!.dispositions[0]!.quantity).toBe(100_000)
    const late = await api(`/inspection-lots/${lot.id}`, 'PATCH', { quantity: '120' })
    expect(late.status).toBe(409)
    expect(await late.json()).toMatchObject({ error: { code: 'LOT_DECIDED' } })
  })

  it('cancels an undecided lot once (webhook with the reason) and refuses decisions after it', async () => {
    const lot = sim.createInspectionLot({ material: 'M', batch: 'B8', quantity: '5' })
    expect((await api(`/inspection-lots/${lot.id}/cancel`, 'POST', {})).status).toBe(400)
    expect((await api(`/inspection-lots/${lot.id}/cancel`, 'POST', { reason: 'GR reversed' })).status).toBe(
      200,
    )
    expect((await api(`/inspection-lots/${lot.id}/cancel`, 'POST', { reason: 'again' })).status).toBe(200)
    const got = await hook.waitFor(2)
    const cancelled = got.filter((d) => d.headers['x-qms-event'] === 'inspection_lot.cancelled')
    expect(cancelled).toHaveLength(1)
    expect((JSON.parse(cancelled[0]!.body) as Event).data).toMatchObject({
      id: lot.id,
      batch: 'B8',
      status: 'CANCELLED',
      reason: 'GR reversed',
    })
    const ud = await api(`/inspection-lots/${lot.id}/usage-decision`, 'POST', { decision: 'ACCEPT' })
    expect(ud.status).toBe(409)
  })

  it('changes a decision, keeping the replaced one, and sends both splits', async () => {
    const lot = sim.createInspectionLot({ material: 'M', batch: 'B9', quantity: '10' })
    const noDecision = await api(`/inspection-lots/${lot.id}/usage-decision`, 'PUT', {
      decision: 'REJECT',
      reason: 'x',
    })
    expect(noDecision.status).toBe(409)
    sim.makeUsageDecision(lot.id, { decision: 'ACCEPT', code: 'A1' })
    const r = await api(`/inspection-lots/${lot.id}/usage-decision`, 'PUT', {
      decision: 'REJECT',
      code: 'R2',
      reason: 'customer complaint',
      dispositions: [
        { disposition: 'REWORK', quantity: '7' },
        { disposition: 'SCRAP', quantity: '3' },
      ],
    })
    expect(r.status).toBe(200)
    expect(sim.model.lots.get(lot.id)!.replacedDecisions!.map((d) => d.code)).toEqual(['A1'])
    const got = await hook.waitFor(3)
    const change = got.find((d) => d.headers['x-qms-event'] === 'usage_decision.changed')!
    expect((JSON.parse(change.body) as Event).data).toMatchObject({
      code: 'R2',
      reason: 'customer complaint',
      dispositions: [{ disposition: 'REWORK', quantity: '7.000' }, { disposition: 'SCRAP' }],
      previous: { code: 'A1', dispositions: [{ disposition: 'USE_AS_IS', quantity: '10.000' }] },
      inspectionLot: { batch: 'B9' },
    })
  })
})

/** qms/rest against the qms simulator over real sockets; records are counted from its state. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type QmsSim, startQms } from '../../simulators/qms/server.ts'
import { qmsRestConnector } from '../../src/connectors/qms/rest/connector.ts'
import { ManualClock } from '../../src/connectors/sdk/index.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { CreateInspectionLotInput, QmsPort } from '../../src/workflows/ports/qms.ts'
import { asEngine } from './engine-retry.ts'

let sim: QmsSim
let qms: QmsPort

beforeEach(async () => {
  process.env.QLK_TEST_QMS_KEY = 'sekret'
  sim = await startQms({ port: 0, apiKey: 'sekret' })
  qms = qmsRestConnector.instantiate(
    { baseUrl: sim.url, apiKeyEnv: 'QLK_TEST_QMS_KEY', egress: { timeoutMs: 300 } },
    { name: 'qms-test', allowlist: [sim.url], clock: new ManualClock() },
  )
})
afterEach(() => sim.close())

const lotInput: CreateInspectionLotInput = {
  idempotencyKey: 'receipt-4900000001/create-inspection',
  plant: '1000',
  material: 'RAW-100',
  lot: 'B1',
  quantity: { units: 100_000, scale: 3, uom: 'KG' },
  sampleSize: 13,
  origin: '01',
}

describe('qms/rest', () => {
  for (const [name, faults] of [
    ['commit-then-drop-response', { dropResponseRate: 1, times: 1, match: { method: 'POST' } }],
    ['5xx', { errorRate: 1, times: 2 }],
    ['429', { rateLimitRate: 1, retryAfterSeconds: 1, times: 1 }],
    ['hang', { hangRate: 1, times: 1, match: { method: 'POST' } }],
  ] as const) {
    it(`${name}: one inspection lot per key, with the sample size`, async () => {
      sim.faults.set(faults)
      const r = await asEngine(() => qms.createInspectionLot(lotInput))
      expect(r.record).toMatchObject({
        lot: 'B1',
        sampleSize: 13,
        status: 'released',
        quantity: lotInput.quantity,
      })
      const again = await qms.createInspectionLot(lotInput)
      expect(again).toEqual({ record: r.record, created: false })
      expect(sim.state.inspectionLots).toHaveLength(1)
    })
  }

  it('reads the usage decision as canonical lines, null before it is made', async () => {
    const { record } = await qms.createInspectionLot(lotInput)
    expect(await qms.getUsageDecision(record.id)).toBeNull()
    sim.makeUsageDecision(record.id, {
      decision: 'REJECT',
      dispositions: [
        { disposition: 'SCRAP', quantity: '10' },
        { disposition: 'USE_AS_IS', quantity: '90' },
      ],
    })
    const ud = await qms.getUsageDecision(record.id)
    expect(ud).toMatchObject({
      valuation: 'rejected',
      lines: [
        { code: 'SCRAP', quantity: { units: 10_000, scale: 3, uom: 'KG' } },
        { code: 'USE_AS_IS', quantity: { units: 90_000, scale: 3, uom: 'KG' } },
      ],
    })
    expect((await qms.getInspectionLot(record.id))?.status).toBe('usage_decision')
  })

  it('opens one nonconformance per key across a dropped answer and moves its status once', async () => {
    sim.faults.set({ dropResponseRate: 1, times: 2 })
    const input = {
      idempotencyKey: 'op-0010/nc',
      plant: '1000',
      title: 'Torque out of tolerance',
      severity: 'major',
    } as const
    const nc = await asEngine(() => qms.openNonconformance(input))
    expect(sim.state.nonconformances).toBe(1)
    expect(nc.record.status).toBe('open')
    expect(
      await asEngine(() => qms.setNonconformanceStatus({ id: nc.record.id, status: 'contained' })),
    ).toEqual({
      changed: true,
    })
    expect(await qms.setNonconformanceStatus({ id: nc.record.id, status: 'contained' })).toEqual({
      changed: false,
    })
  })

  it('opens one CAPA per key across a dropped answer, linked to its NC, with the attachment', async () => {
    const nc = await qms.openNonconformance({
      idempotencyKey: 'complaint/CASE-1/nonconformance',
      plant: '1000',
      title: 'Cracked housing',
      severity: 'major',
    })
    sim.faults.set({ dropResponseRate: 1, times: 2 })
    const input = {
      idempotencyKey: 'complaint/CASE-1/capa',
      plant: '1000',
      title: 'Corrective action for complaint CASE-1',
      nonconformance: nc.record.id,
      attachments: [{ name: 'trace.json', contentType: 'application/json', content: '{"lots":["B1"]}' }],
    }
    const capa = await asEngine(() => qms.openCorrectiveAction(input))
    expect(capa.record).toMatchObject({
      status: 'open',
      nonconformance: nc.record.id,
      attachments: ['trace.json'],
    })
    expect(await qms.openCorrectiveAction(input)).toEqual({ record: capa.record, created: false })
    expect(sim.state.capas).toBe(1)
    expect(sim.model.capas.get(capa.record.id)).toMatchObject({
      type: 'CORRECTIVE',
      externalRef: 'complaint/CASE-1/capa',
      attachments: [{ name: 'trace.json', contentType: 'application/json', content: '{"lots":["B1"]}' }],
    })
  })

  it('an illegal status move is permanent (409)', async () => {
    const nc = await qms.openNonconformance({
      idempotencyKey: 'k',
      plant: '1000',
      title: 't',
      severity: 'minor',
    })
    const err = await qms
      .setNonconformanceStatus({ id: nc.record.id, status: 'closed' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
  })
})

/** erp/erpnext against the erpnext simulator: Stock Entries counted per batch from its state. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpNextSim, startErpNext } from '../../simulators/erpnext/server.ts'
import { erpNextConnector } from '../../src/connectors/erp/erpnext/connector.ts'
import { ManualClock } from '../../src/connectors/sdk/index.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { ErpPort, PostStockDispositionInput } from '../../src/workflows/ports/erp.ts'
import { asEngine } from './engine-retry.ts'

let sim: ErpNextSim
let erp: ErpPort
const AUTH = { authorization: 'token simkey:simsecret', 'content-type': 'application/json' }
const kg = (n: number) => ({ units: n * 1000, scale: 3, uom: 'Kg' })

beforeEach(async () => {
  sim = await startErpNext({ port: 0 })
  const receipt = await fetch(`${sim.url}/api/resource/Stock%20Entry`, {
    method: 'POST',
    headers: AUTH,
    body: JSON.stringify({
      purpose: 'Material Receipt',
      docstatus: 1,
      items: [
        {
          item_code: 'RAW-100',
          batch_no: 'B1',
          qty: '100',
          uom: 'Kg',
          t_warehouse: 'Quality Inspection - SIM',
        },
      ],
    }),
  })
  expect(receipt.status).toBe(200)
  process.env.QLK_TEST_ERPNEXT_KEY = 'simkey'
  process.env.QLK_TEST_ERPNEXT_SECRET = 'simsecret'
  erp = erpNextConnector.instantiate(
    {
      baseUrl: sim.url,
      apiKeyEnv: 'QLK_TEST_ERPNEXT_KEY',
      apiSecretEnv: 'QLK_TEST_ERPNEXT_SECRET',
      warehouses: {
        unrestricted: 'Stores - SIM',
        qualityInspection: 'Quality Inspection - SIM',
        blocked: 'Quarantine - SIM',
        scrap: 'Scrap - SIM',
      },
      egress: { timeoutMs: 300 },
    },
    { name: 'erpnext-test', allowlist: [sim.url], clock: new ManualClock() },
  )
})
afterEach(() => sim.close())

const split: PostStockDispositionInput = {
  idempotencyKey: 'run-7/post-stock',
  inspectionLot: 'MAT-QA-2025-00001',
  lot: { plant: 'P1', material: 'RAW-100', lot: 'B1' },
  lines: [
    { bucket: 'release', quantity: kg(70) },
    { bucket: 'block', quantity: kg(20) },
    { bucket: 'scrap', quantity: kg(10) },
  ],
}

describe('erp/erpnext', () => {
  for (const [name, faults] of [
    ['commit-then-drop-response', { dropResponseRate: 1, times: 2, match: { method: 'POST' } }],
    ['5xx', { errorRate: 1, times: 2 }],
    ['hang', { hangRate: 1, times: 1, match: { method: 'POST' } }],
  ] as const) {
    it(`${name}: one submitted Stock Entry for the decision`, async () => {
      sim.faults.set(faults)
      const r = await asEngine(() => erp.postStockDisposition(split))
      expect(r.documents).toHaveLength(1)
      expect(await erp.postStockDisposition(split)).toEqual({ documents: r.documents, alreadyDone: true })
      // the receipt plus exactly one transfer (whose three rows the simulator counts per batch)
      const submitted = (sim.state.docs['Stock Entry'] ?? []).filter((d) => d.docstatus === 1)
      expect(submitted).toHaveLength(2)
      expect(sim.state.counts.submittedStockEntriesByBatch.B1).toBe(1 + 3)
      const bins = Object.fromEntries(sim.state.bins.map((b) => [b.warehouse, b.qty]))
      expect(bins).toMatchObject({
        'Stores - SIM': 70_000,
        'Quarantine - SIM': 20_000,
        'Scrap - SIM': 10_000,
      })
      expect(sim.state.counts.conservationViolations).toEqual([])
    })
  }

  it('methods ERPNext has no equivalent for refuse permanently, naming why', async () => {
    await expect(
      erp.setProductionOrderHold({ idempotencyKey: 'k', order: 'WO-1', onHold: true }),
    ).rejects.toThrow(/Work Order has no hold flag/)
    const err = await erp
      .setDeliveryBlock({ idempotencyKey: 'k', delivery: 'DN-1', blocked: true })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).code).toBe('QLK_VALIDATION')
  })

  it('reads the lot stock from the Stock Ledger: physical warehouses only, cancelled entries excluded', async () => {
    // ERPNext's stock UOM 'Kg' read as the canonical unit code 'KG'
    const KG = (n: number) => ({ ...kg(n), uom: 'KG' })
    expect((await erp.readLotStock(split.lot)).quantities).toEqual({ qualityInspection: KG(100) })
    await erp.postStockDisposition(split)
    expect((await erp.readLotStock(split.lot)).quantities).toEqual({ unrestricted: KG(70), blocked: KG(20) })
  })
})

describe('erp/erpnext usage decision on the Quality Inspection', () => {
  async function draftInspection(): Promise<string> {
    const res = await fetch(`${sim.url}/api/resource/Quality%20Inspection`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({
        inspection_type: 'Incoming',
        reference_type: 'Stock Entry',
        reference_name: 'MAT-STE-2025-00001',
        item_code: 'RAW-100',
        batch_no: 'B1',
        sample_size: 13,
        readings: [{ specification: 'Moisture', min_value: 0, max_value: 5, reading_1: '9' }],
      }),
    })
    expect(res.status).toBe(200)
    return String(((await res.json()) as { data: { name: string } }).data.name)
  }
  const qi = (name: string) => (sim.state.docs['Quality Inspection'] ?? []).find((d) => d.name === name)!

  it('submits it Accepted once across a dropped answer, though its readings said Rejected', async () => {
    const name = await draftInspection()
    expect(qi(name)).toMatchObject({ status: 'Rejected', docstatus: 0 })
    sim.faults.set({ dropResponseRate: 1, times: 1, match: { method: 'PUT' } })
    const ud = { idempotencyKey: 'run-7/ud', inspectionLot: name, valuation: 'accepted', code: 'A2' } as const
    await asEngine(() => erp.recordUsageDecision({ ...ud, reference: 'QMS-LOT-9' }))
    expect(sim.state.faultsInjected.dropResponse).toBe(1)
    expect(qi(name)).toMatchObject({
      status: 'Accepted',
      docstatus: 1,
      manual_inspection: 1,
      remarks: 'A2 QMS-LOT-9',
    })
    expect(await erp.recordUsageDecision(ud)).toEqual({ changed: false })
    const other = await erp.recordUsageDecision({ ...ud, valuation: 'rejected' }).catch((e: unknown) => e)
    expect((other as PermanentError).code).toBe('QLK_REMOTE_CONFLICT')
  })
})

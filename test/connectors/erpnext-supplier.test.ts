/**
 * erp/erpnext's purchasing block against the erpnext simulator: the Supplier's hold (on_hold,
 * hold_type) set and lifted, read first, checked by what ERPNext itself does with it — a Purchase
 * Order for a blocked supplier is refused (AccountsController.ensure_supplier_is_not_blocked,
 * reproduced in simulators/erpnext/buying.ts). And the production confirmation, which has no
 * faithful equivalent, refused naming why.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpNextSim, startErpNext } from '../../simulators/erpnext/server.ts'
import { erpNextConnector } from '../../src/connectors/erp/erpnext/connector.ts'
import { ManualClock } from '../../src/connectors/sdk/index.ts'
import { PermanentError } from '../../src/engine/errors.ts'
import type { ErpPort, SupplierBlockInput } from '../../src/workflows/ports/erp.ts'
import { asEngine } from './engine-retry.ts'

let sim: ErpNextSim
let erp: ErpPort
const AUTH = { authorization: 'token simkey:simsecret', 'content-type': 'application/json' }

beforeEach(async () => {
  sim = await startErpNext({ port: 0, suppliers: ['V-77', 'V-42'] })
  erp = erpNextConnector.instantiate(
    {
      baseUrl: sim.url,
      apiKeyEnv: 'QLK_TEST_ERPNEXT_KEY',
      apiSecretEnv: 'QLK_TEST_ERPNEXT_SECRET',
      warehouses: { unrestricted: 'Stores - SIM', qualityInspection: 'Quality Inspection - SIM' },
      egress: { timeoutMs: 300 },
    },
    {
      name: 'erpnext-test',
      allowlist: [sim.url],
      clock: new ManualClock(),
      environment: {
        env: { QLK_TEST_ERPNEXT_KEY: 'simkey', QLK_TEST_ERPNEXT_SECRET: 'simsecret' },
        baseDir: process.cwd(),
      },
    },
  )
})
afterEach(() => sim.close())

const block = (supplier: string, blocked: boolean): SupplierBlockInput => ({
  idempotencyKey: `capa-1/${blocked ? 'block' : 'release'}`,
  supplier,
  blocked,
  reason: 'CAPA-1: moisture above limit',
})
const supplier = (id: string) => sim.state.docs.Supplier!.find((s) => s.name === id)!
/** What ERPNext answers a new Purchase Order for the supplier. */
const purchaseOrder = async (id: string) => {
  const r = await fetch(`${sim.url}/api/resource/Purchase%20Order`, {
    method: 'POST',
    headers: AUTH,
    body: JSON.stringify({ supplier: id, items: [{ item_code: 'RAW-100', qty: 10 }] }),
  })
  return { status: r.status, body: (await r.json()) as { exc_type?: string; exception?: string } }
}
const setHold = (id: string, fields: Record<string, unknown>) =>
  fetch(`${sim.url}/api/resource/Supplier/${id}`, {
    method: 'PUT',
    headers: AUTH,
    body: JSON.stringify(fields),
  })

describe('erp/erpnext supplier purchasing block', () => {
  it('puts the supplier on hold for invoices (no new purchase orders), once, and lifts it', async () => {
    expect((await purchaseOrder('V-77')).status).toBe(200)
    expect(await erp.setSupplierPurchasingBlock!(block('V-77', true))).toEqual({ changed: true })
    expect(supplier('V-77')).toMatchObject({ on_hold: 1, hold_type: 'Invoices', release_date: null })
    const refused = await purchaseOrder('V-77')
    expect(refused.status).toBe(417)
    expect(refused.body.exception).toContain('V-77 is blocked so this transaction cannot proceed')
    // the other supplier is untouched
    expect((await purchaseOrder('V-42')).status).toBe(200)
    // read first: blocking a blocked supplier writes nothing
    const modified = supplier('V-77').modified
    expect(await erp.setSupplierPurchasingBlock!(block('V-77', true))).toEqual({ changed: false })
    expect(supplier('V-77').modified).toBe(modified)

    expect(await erp.setSupplierPurchasingBlock!(block('V-77', false))).toEqual({ changed: true })
    expect(supplier('V-77')).toMatchObject({ on_hold: 0, hold_type: '' })
    expect((await purchaseOrder('V-77')).status).toBe(200)
    expect(await erp.setSupplierPurchasingBlock!(block('V-77', false))).toEqual({ changed: false })
    expect(sim.state.docs['Purchase Order']!.map((p) => p.supplier)).toEqual(['V-77', 'V-42', 'V-77'])
  })

  it("keeps finance's payment hold: Payments becomes All while blocked and Payments again after", async () => {
    expect((await setHold('V-77', { on_hold: 1, hold_type: 'Payments' })).status).toBe(200)
    expect((await purchaseOrder('V-77')).status).toBe(200) // a payment hold does not stop buying
    expect(await erp.setSupplierPurchasingBlock!(block('V-77', true))).toEqual({ changed: true })
    expect(supplier('V-77')).toMatchObject({ on_hold: 1, hold_type: 'All' })
    expect((await purchaseOrder('V-77')).status).toBe(417)
    expect(await erp.setSupplierPurchasingBlock!(block('V-77', false))).toEqual({ changed: true })
    expect(supplier('V-77')).toMatchObject({ on_hold: 1, hold_type: 'Payments' })
    expect((await purchaseOrder('V-77')).status).toBe(200)
  })

  it('a hold whose release date has passed is no block: it is set again', async () => {
    expect((await setHold('V-77', { on_hold: 1, hold_type: 'All', release_date: '2020-01-31' })).status).toBe(
      200,
    )
    expect((await purchaseOrder('V-77')).status).toBe(200)
    expect(await erp.setSupplierPurchasingBlock!(block('V-77', true))).toEqual({ changed: true })
    expect(supplier('V-77')).toMatchObject({ on_hold: 1, release_date: null })
    expect((await purchaseOrder('V-77')).status).toBe(417)
  })

  it('a lost answer to the write is settled by reading the supplier again', async () => {
    sim.faults.set({ dropResponseRate: 1, times: 1, match: { method: 'PUT' } })
    expect(await asEngine(() => erp.setSupplierPurchasingBlock!(block('V-77', true)))).toEqual({
      changed: true,
    })
    expect(sim.faults.counts.dropResponse).toBe(1)
    expect(supplier('V-77')).toMatchObject({ on_hold: 1, hold_type: 'Invoices' })
  })

  it('an unknown supplier is refused permanently', async () => {
    const err = await erp.setSupplierPurchasingBlock!(block('V-00', true)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).message).toMatch(/Supplier V-00 does not exist in ERPNext/)
  })

  it('a production confirmation, held with an order hold ERPNext does not have, is refused naming why', async () => {
    const err = await erp.confirmOperation!({
      idempotencyKey: 'k',
      order: 'WO-1',
      operation: '0010',
      yieldQuantity: { units: 40, scale: 0, uom: 'PC' },
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).code).toBe('QLK_VALIDATION')
    expect((err as PermanentError).message).toMatch(/confirmOperation .*Work Order does not have/)
  })
})

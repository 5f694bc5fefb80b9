/**
 * Supplier quality status on a plant whose ERP is ERPNext (issue 8 item 5b): a supplier CAPA opened
 * in the QMS puts the ERPNext Supplier on hold for purchasing — a Purchase Order for it is then
 * refused by ERPNext itself (the simulator reproduces ensure_supplier_is_not_blocked) — and closing
 * it lifts the hold. Counted in the erpnext simulator's state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ErpNextSim, startErpNext } from '../../simulators/erpnext/server.ts'
import { erpNextConnector } from '../../src/connectors/erp/erpnext/connector.ts'
import { supplierQuality } from '../../src/workflows/supplier-quality.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { usePlantHub } from './plant-hub.ts'

const AUTH = { authorization: 'token simkey:simsecret', 'content-type': 'application/json' }

describe.each(DIALECTS)('supplier quality status on ERPNext end to end on %s', (dialect: Dialect) => {
  let erpnext: ErpNextSim
  beforeAll(async () => {
    erpnext = await startErpNext({ port: 0, suppliers: ['SUP-7'] })
  })
  afterAll(() => erpnext?.close())
  const hub = usePlantHub(dialect, () => ({
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierQuality(() => ({ onCorrectiveAction: 'block-purchasing' }))],
    capaPolicy: () => 'block-purchasing',
    ports: () => ({
      erp: erpNextConnector.instantiate(
        {
          baseUrl: erpnext.url,
          apiKeyEnv: 'ERPNEXT_KEY',
          apiSecretEnv: 'ERPNEXT_SECRET',
          warehouses: { unrestricted: 'Stores - SIM', qualityInspection: 'Quality Inspection - SIM' },
          egress: { timeoutMs: 2000 },
        },
        {
          name: 'erpnext',
          allowlist: [erpnext.url],
          leaseMs: 30_000,
          environment: {
            env: { ERPNEXT_KEY: 'simkey', ERPNEXT_SECRET: 'simsecret' },
            baseDir: process.cwd(),
          },
        },
      ),
    }),
  }))

  const supplier = () => erpnext.state.docs.Supplier!.find((s) => s.name === 'SUP-7')!
  const purchaseOrder = async () =>
    (
      await fetch(`${erpnext.url}/api/resource/Purchase%20Order`, {
        method: 'POST',
        headers: AUTH,
        body: JSON.stringify({ supplier: 'SUP-7', items: [{ item_code: 'RAW-100', qty: 5 }] }),
      })
    ).status
  const qms = async (method: 'POST' | 'PATCH', path: string, body: unknown) => {
    const r = await fetch(`${hub.qms.url}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(r.status, `${method} ${path}`).toBeLessThan(300)
    return (await r.json()) as { id: string }
  }
  const runs = () => hub.store.engine.listRuns(ALL, { key: 'P100/SUP-7', limit: 10 })

  it('holds the supplier for purchasing while its CAPA is open, once, and lifts the hold', async () => {
    hub.qms.faults.set({ duplicateRate: 1, seed: 3 }) // every webhook delivered twice
    const capa = await qms('POST', '/capas', { title: 'Moisture above limit', supplier: 'SUP-7' })
    await until(() => supplier().on_hold === 1)
    expect(supplier()).toMatchObject({ on_hold: 1, hold_type: 'Invoices' })
    expect(await purchaseOrder()).toBe(417)

    await qms('PATCH', `/capas/${capa.id}`, { status: 'COMPLETED' })
    await until(async () => (await runs())[0]?.status === 'completed')
    expect(supplier()).toMatchObject({ on_hold: 0, hold_type: '' })
    expect(await purchaseOrder()).toBe(200)
    const all = await runs()
    expect(all).toHaveLength(1)
    expect(all[0]!.result).toEqual({ supplier: 'SUP-7', capas: [capa.id], blocked: true, released: true })
    // one Purchase Order reached ERPNext: the one after the release
    expect(erpnext.state.docs['Purchase Order']).toHaveLength(1)
  })
})

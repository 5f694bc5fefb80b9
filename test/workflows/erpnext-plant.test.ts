/**
 * Supplier receipt inspection on a plant that runs ERPNext, end to end on both dialects: the
 * ERPNext simulator's Purchase Receipt (into its QI warehouse, its row naming a draft Quality
 * Inspection) arrives as a Frappe-signed webhook, the QMS simulator inspects and decides by its
 * webhook, and Qualink records the decision on ERPNext's Quality Inspection, posts the split as
 * one Stock Entry and confirms it from ERPNext's Stock Ledger. Effects are counted in the
 * simulator's state.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type ErpNextSim, startErpNext } from '../../simulators/erpnext/server.ts'
import { erpNextConnector } from '../../src/connectors/erp/erpnext/connector.ts'
import { erpNextReceiptTranslator } from '../../src/connectors/erp/erpnext/receipt-translator.ts'
import { supplierReceiptInspection } from '../../src/workflows/supplier-receipt-inspection.ts'
import { DIALECTS, type Dialect } from '../dialects.ts'
import { ALL, until } from '../engine/harness.ts'
import { submitReceiptWithInspection } from './erpnext-receipts.ts'
import { ACCEPT_SPLIT_60_30_10, inspectionLotOf } from './helpers.ts'
import { usePlantHub } from './plant-hub.ts'

const WAREHOUSES = {
  unrestricted: 'Stores - SIM',
  qualityInspection: 'Quality Inspection - SIM',
  blocked: 'Quarantine - SIM',
  scrap: 'Scrap - SIM',
}

describe.each(DIALECTS)('supplier receipt inspection on an ERPNext plant on %s', (dialect: Dialect) => {
  let erpnext: ErpNextSim | undefined
  const hub = usePlantHub(dialect, () => ({
    qms: { webhook: true },
    egress: { timeoutMs: 2000 },
    leaseTtlMs: 30_000,
    workflows: [supplierReceiptInspection()],
    deferStart: true,
  }))
  afterEach(async () => {
    await erpnext?.close()
    erpnext = undefined
  })

  it('decides on the Quality Inspection, posts one Stock Entry and confirms it from the Stock Ledger', async () => {
    erpnext = await startErpNext({
      port: 0,
      webhook: { url: `http://127.0.0.1:${hub.port}/v1/ingress/erpnext-p100`, secret: 'frappe-secret' },
    })
    process.env.QLK_TEST_ERPNEXT_KEY = 'simkey'
    process.env.QLK_TEST_ERPNEXT_SECRET = 'simsecret'
    const erp = erpNextConnector.instantiate(
      {
        baseUrl: erpnext.url,
        apiKeyEnv: 'QLK_TEST_ERPNEXT_KEY',
        apiSecretEnv: 'QLK_TEST_ERPNEXT_SECRET',
        warehouses: WAREHOUSES,
        egress: { timeoutMs: 2000 },
      },
      { name: 'erpnext-p100', allowlist: [erpnext.url], leaseMs: 30_000 },
    )
    await hub.start({
      webhooks: [
        { name: 'erpnext-p100', plant: 'P100', secrets: ['frappe-secret'], signatureScheme: 'frappe' },
      ],
      translators: [erpNextReceiptTranslator('erpnext-p100', { warehouses: WAREHOUSES })],
      ports: { erp },
    })

    // ERPNext: the receipt in draft, its incoming inspection, then the receipt submitted naming it
    const { qi } = await submitReceiptWithInspection(erpnext, 'Quality Inspection - SIM')

    const lot = await inspectionLotOf(hub.qms, 'B200')
    hub.qms.makeUsageDecision(lot.id, ACCEPT_SPLIT_60_30_10)
    const run = async () => (await hub.store.engine.listRuns(ALL, { key: 'B200', limit: 5 }))[0]
    await until(async () => (await run())?.status === 'completed', 45_000)

    const state = erpnext.state
    expect(state.docs['Quality Inspection']!.find((d) => d.name === qi.name)).toMatchObject({
      status: 'Accepted',
      docstatus: 1,
      remarks: `A2 ${lot.id}`,
    })
    // one Stock Entry (Material Transfer) of three rows; the receipt itself is the Purchase Receipt
    expect(state.docs['Stock Entry']!.filter((d) => d.docstatus === 1)).toHaveLength(1)
    expect(state.counts.submittedStockEntriesByBatch.B200).toBe(3)
    const bins = Object.fromEntries(
      state.bins.filter((b) => b.batch === 'B200').map((b) => [b.warehouse, b.qty]),
    )
    expect(bins).toEqual({
      'Quality Inspection - SIM': 0,
      'Stores - SIM': 60_000,
      'Quarantine - SIM': 30_000,
      'Scrap - SIM': 10_000,
    })
    expect(state.counts.conservationViolations).toEqual([])
    expect((await run())!.result).toMatchObject({ score: { supplier: 'SUP-9', accepted: true } })
  })
})

/**
 * An ERPNext plant's goods receipts from qualink.yaml: a webhook source with the
 * `erpnext-purchase-receipt` translator and `signatureScheme: frappe`, its warehouses read from the
 * plant's erp/erpnext connector. The ERPNext simulator submits a Purchase Receipt into its quality
 * inspection warehouse and posts it as Frappe does (base64 HMAC of the body, no delivery id, a
 * duplicate copy by fault); Qualink stores it once (keyed by the body) and translates it into
 * `erp.goods_receipt.posted.v1` in QI stock; a cancelled receipt becomes its reversal; a receipt
 * signed with another secret is refused and nothing stored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ErpNextSim, startErpNext } from '../../simulators/erpnext/server.ts'
import { frappeSignature } from '../../simulators/erpnext/webhooks.ts'
import type { Qualink } from '../../src/server/qualink.ts'
import type { Store } from '../../src/store/types.ts'
import { ALL, until } from '../engine/harness.ts'
import { type Doc, TempDir } from './fixture.ts'
import { type IngressQualink, startIngressFromConfig } from './ingress-qualink.ts'

const WAREHOUSES = {
  unrestricted: 'Stores - SIM',
  qualityInspection: 'Quality Inspection - SIM',
  blocked: 'Quarantine - SIM',
}
const AUTH = { authorization: 'token simkey:simsecret', 'content-type': 'application/json' }

function doc(): Doc {
  return {
    version: 1,
    connectors: {
      'erpnext-p200': {
        kind: 'erp/erpnext',
        config: {
          baseUrl: 'https://erp.plant-b.example',
          apiKeyEnv: 'ERPNEXT_KEY',
          apiSecretEnv: 'ERPNEXT_SECRET',
          warehouses: WAREHOUSES,
        },
      },
      qms: { kind: 'qms/rest', config: { baseUrl: 'https://qms.example' } },
    },
    egress: {
      allowlist: { 'erpnext-p200': ['https://erp.plant-b.example'], qms: ['https://qms.example'] },
    },
    ingress: {
      webhooks: {
        'erpnext-p200-receipts': {
          plant: 'P200',
          translator: 'erpnext-purchase-receipt',
          signatureScheme: 'frappe',
          secrets: [{ secretFile: 'frappe-secret' }],
        },
      },
    },
    plants: { P200: { erp: 'erpnext-p200', qms: 'qms' } },
  }
}

let tmp: TempDir
let hub: IngressQualink
let store: Store
let q: Qualink
let erp: ErpNextSim | undefined

beforeEach(async () => {
  tmp = new TempDir()
  tmp.write('frappe-secret', 'webhook-secret\n')
  hub = await startIngressFromConfig(tmp, doc(), { ERPNEXT_KEY: 'simkey', ERPNEXT_SECRET: 'simsecret' })
  ;({ store, q } = hub)
})
afterEach(async () => {
  await erp?.close()
  erp = undefined
  await hub?.close()
  tmp.remove()
})

const rawDeliveries = () => hub.rawDeliveries()

async function submitReceipt(sim: ErpNextSim): Promise<string> {
  const res = await fetch(`${sim.url}/api/resource/Purchase%20Receipt`, {
    method: 'POST',
    headers: AUTH,
    body: JSON.stringify({
      supplier: 'SUP-7',
      posting_date: '2025-03-01',
      posting_time: '08:30:00.000000',
      docstatus: 1,
      items: [
        {
          item_code: 'RAW-200',
          batch_no: 'B200',
          qty: '50',
          stock_uom: 'Kg',
          warehouse: 'Quality Inspection - SIM',
          purchase_order: 'PUR-ORD-2025-00017',
        },
      ],
    }),
  })
  expect(res.status).toBe(200)
  return String(((await res.json()) as { data: { name: string } }).data.name)
}

describe('ERPNext Purchase Receipt webhooks from qualink.yaml', () => {
  it('stores a Frappe-signed receipt once and translates it into QI stock; a cancel reverses it', async () => {
    erp = await startErpNext({
      port: 0,
      webhook: { url: `${q.url}/v1/ingress/erpnext-p200-receipts`, secret: 'webhook-secret' },
      faults: { duplicateRate: 1, times: 1 },
    })
    const name = await submitReceipt(erp)
    await erp.webhooks.idle()
    expect(erp.webhooks.sent.map((w) => [w.status, w.duplicate])).toEqual([
      [202, false],
      [202, true],
    ])
    await until(async () => (await rawDeliveries()).length === 1)
    await q.translation.runOnce()
    const [gr, ...rest] = await store.listEvents(ALL, { limit: 10 })
    expect(rest).toEqual([])
    expect(gr).toMatchObject({ type: 'erp.goods_receipt.posted.v1', subject: 'B200', plant: 'P200' })
    expect(gr!.envelope.data).toEqual({
      materialDocument: { id: name, year: 2025, item: '1' },
      lot: { id: 'B200', material: 'RAW-200', plant: 'P200' },
      supplier: 'SUP-7',
      purchaseOrder: 'PUR-ORD-2025-00017',
      quantity: { units: 50_000, scale: 3, uom: 'KG' },
      bucket: 'qualityInspection',
      audit: {
        timestamp: '2025-03-01T08:30:00.000Z',
        sourceSystem: 'erpnext-p200-receipts',
        approvalStatus: 'not_required',
      },
    })

    const cancel = await fetch(`${erp.url}/api/resource/Purchase%20Receipt/${name}`, {
      method: 'PUT',
      headers: AUTH,
      body: JSON.stringify({ docstatus: 2 }),
    })
    expect(cancel.status).toBe(200)
    // the simulator posts on_submit only: the cancel is what a Frappe on_cancel webhook would send
    const cancelled = (erp.state.docs['Purchase Receipt'] ?? []).find((d) => d.name === name)!
    const body = JSON.stringify(cancelled)
    const res = await fetch(`${q.url}/v1/ingress/erpnext-p200-receipts`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-frappe-webhook-signature': frappeSignature('webhook-secret', body),
      },
      body,
    })
    expect(res.status).toBe(202)
    await q.translation.runOnce()
    const reversed = await store.listEvents(ALL, { type: 'erp.goods_receipt.reversed.v1', limit: 10 })
    expect(reversed.map((e) => e.envelope.data)).toMatchObject([
      { reversedDocument: { id: name, item: '1' }, bucket: 'qualityInspection', quantity: { units: 50_000 } },
    ])
  })

  it('refuses a receipt signed with another secret and stores nothing', async () => {
    erp = await startErpNext({
      port: 0,
      webhook: { url: `${q.url}/v1/ingress/erpnext-p200-receipts`, secret: 'guessed' },
    })
    await submitReceipt(erp)
    await erp.webhooks.idle()
    expect(erp.webhooks.sent.map((w) => w.status)).toEqual([401, 401, 401]) // Frappe tries three times
    expect(await rawDeliveries()).toEqual([])
    expect(await store.listEvents(ALL, { limit: 10 })).toEqual([])
  })
})

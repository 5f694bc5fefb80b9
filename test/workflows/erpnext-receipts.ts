/**
 * Driving the ERPNext simulator as its users do, for the workflow tests of an ERPNext plant: the
 * Frappe REST resource API, and a supplier receipt into quality inspection with its incoming
 * Quality Inspection, submitted (which sends ERPNext's on_submit webhook).
 */
import { expect } from 'vitest'
import type { ErpNextSim } from '../../simulators/index.ts'

const FRAPPE = { authorization: 'token simkey:simsecret', 'content-type': 'application/json' }

/** One Frappe resource call (`Purchase%20Receipt`, `Quality%20Inspection/<name>`…), expected to succeed. */
export async function frappe(sim: ErpNextSim, method: string, resource: string, body: unknown) {
  const res = await fetch(`${sim.url}/api/resource/${resource}`, {
    method,
    headers: FRAPPE,
    body: JSON.stringify(body),
  })
  expect(res.status, `${method} ${resource}`).toBe(200)
  return ((await res.json()) as { data: Record<string, unknown> & { name: string } }).data
}

/** The receipt row of the tests: 100 Kg of RAW-200, batch B200. */
export const RECEIPT_ROW = { item_code: 'RAW-200', batch_no: 'B200', qty: '100', stock_uom: 'Kg' }

/**
 * A Purchase Receipt of `row` (RECEIPT_ROW unless given) into `warehouse` in draft, its incoming
 * Quality Inspection, then the receipt submitted naming it. `company`: the receipt's, when not the
 * simulator's own.
 */
export async function submitReceiptWithInspection(
  sim: ErpNextSim,
  warehouse: string,
  row: typeof RECEIPT_ROW = RECEIPT_ROW,
  company?: string,
) {
  const pr = await frappe(sim, 'POST', 'Purchase%20Receipt', {
    supplier: 'SUP-9',
    posting_date: '2025-03-01',
    posting_time: '08:00:00',
    ...(company ? { company } : {}),
    items: [{ ...row, warehouse }],
  })
  const qi = await frappe(sim, 'POST', 'Quality%20Inspection', {
    inspection_type: 'Incoming',
    reference_type: 'Purchase Receipt',
    reference_name: pr.name,
    item_code: row.item_code,
    batch_no: row.batch_no,
    sample_size: 13,
  })
  await frappe(sim, 'PUT', `Purchase%20Receipt/${pr.name}`, {
    items: [{ ...row, warehouse, quality_inspection: qi.name }],
    docstatus: 1,
  })
  return { pr, qi }
}

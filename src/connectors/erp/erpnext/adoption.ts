/**
 * AdoptionErpPort over Frappe REST (`qualink adopt`, docs/workflows.md "Go-live adoption"). Read-only.
 *
 * ERPNext has no inspection lot: a receipt into quality inspection is a submitted Purchase Receipt
 * whose row puts the batch into the QI warehouse (the connector's `warehouses.qualityInspection`)
 * and names its incoming Quality Inspection (`quality_inspection`); the decision is that
 * inspection's `status` once submitted (quality.ts). So an open "inspection lot" here is such a
 * row with stock still to post out of QI, listed as:
 * - `inspectionLot`: the row's Quality Inspection (what the receipt webhook names too);
 * - `plant`: the receipt's `company` (ERPNext's plant; `opts.plant` filters on it);
 * - `materialDocument`: the Purchase Receipt, its posting year and the row's `idx`;
 * - `quantity`: the row's accepted `qty`;
 * - `toBePosted`: ERPNext keeps no remainder per inspection (SAP's InspLotQtyToBePosted), so it
 *   is the row's quantity less what submitted Stock Entries naming the inspection moved out of
 *   the QI warehouse (frappe-read.ts), at most the batch's QI-warehouse stock (Stock Ledger);
 * - `decidedInErp`: the Quality Inspection is submitted (docstatus 1);
 * - `text`: none (a Quality Inspection's `remarks` is free text, not a reference field).
 * A row whose stock left the QI warehouse by entries that do not name the inspection, or a row
 * naming no Quality Inspection (or a cancelled one), is listed with `unsettled`: adopt leaves it
 * for a person instead of guessing what was posted.
 *
 * Production orders on hold: none. ERPNext's Work Order has no hold (stopping one is a different
 * state, which the connector does not use), and erp/erpnext refuses setProductionOrderHold, so no
 * order of an ERPNext plant can be on quality hold; its open nonconformances are recorded.
 */
import { formatDecimal, type Quantity } from '../../../model/quantity.ts'
import type { AdoptionErpPort, OpenErpInspectionLot } from '../../../workflows/ports/adoption.ts'
import { type FrappeRead, type Json, quantityOf } from './frappe-read.ts'

export function adoptionErpNext(read: FrappeRead, qiWarehouse: string): AdoptionErpPort {
  return {
    async listOpenInspectionLots(opts = {}) {
      const receipts = await read.list(
        'Purchase Receipt',
        [
          ['docstatus', '=', 1],
          ['Purchase Receipt Item', 'warehouse', '=', qiWarehouse],
          ...(opts.plant ? [['company', '=', opts.plant]] : []),
        ],
        ['name'],
      )
      const out: OpenErpInspectionLot[] = []
      for (const r of receipts) {
        const pr = await read.get('Purchase Receipt', String(r.name))
        if (pr?.docstatus !== 1) continue
        const rows = Array.isArray(pr.items) ? (pr.items as Json[]) : []
        for (const [i, row] of rows.entries()) {
          if (row.warehouse !== qiWarehouse || !row.item_code || !row.batch_no) continue
          const open = await openRow(read, qiWarehouse, pr, row, i)
          if (open) out.push(open)
        }
      }
      return out
    },
    // ERPNext has no production order hold (see above): nothing to read.
    listHeldProductionOrders: async () => [],
  }
}

async function openRow(
  read: FrappeRead,
  qiWarehouse: string,
  pr: Json,
  row: Json,
  i: number,
): Promise<OpenErpInspectionLot | null> {
  const name = String(pr.name)
  const quantity = quantityOf(row.qty, row.stock_uom ?? row.uom, `Purchase Receipt ${name}/items/${i}/qty`)
  if (quantity.units <= 0) return null
  const material = String(row.item_code)
  const batch = String(row.batch_no)
  const inQi = await qiStock(read, qiWarehouse, material, batch, quantity.uom)
  if (inQi.units <= 0) return null
  const qiName = typeof row.quality_inspection === 'string' ? row.quality_inspection : ''
  const qi = qiName ? await read.get('Quality Inspection', qiName) : null
  const posted = qi ? await read.postedForInspection(qiName, qiWarehouse) : undefined
  let movedForIt = 0
  for (const q of posted?.byWarehouse.values() ?? []) movedForIt += q.units
  const leftOfRow = quantity.units - movedForIt
  if (qi && leftOfRow <= 0) return null
  const fmt = (units: number) => `${formatDecimal({ ...quantity, units })} ${quantity.uom}`
  const unsettled = !qiName
    ? `Purchase Receipt ${name} row ${String(row.idx ?? i + 1)} names no Quality Inspection`
    : !qi || qi.docstatus === 2
      ? `its Quality Inspection ${qiName} ${qi ? 'is cancelled' : 'does not exist'} in ERPNext`
      : inQi.units < leftOfRow
        ? `${fmt(leftOfRow)} of it not posted by entries naming Quality Inspection ${qiName}, but only ${fmt(inQi.units)} of the batch left in ${qiWarehouse}: stock left QI without naming the inspection`
        : undefined
  const toBePosted: Quantity = { ...quantity, units: Math.min(inQi.units, leftOfRow) }
  const year = Number(String(pr.posting_date ?? '').slice(0, 4))
  return {
    inspectionLot: qi ? qiName : '',
    plant: String(pr.company ?? ''),
    material,
    lot: batch,
    ...(typeof pr.supplier === 'string' && pr.supplier ? { supplier: pr.supplier } : {}),
    materialDocument: {
      id: name,
      ...(Number.isInteger(year) && year > 0 ? { year } : {}),
      item: String(row.idx ?? i + 1),
    },
    quantity,
    toBePosted,
    decidedInErp: qi?.docstatus === 1,
    ...(unsettled ? { unsettled } : {}),
  }
}

/** The batch's stock in the QI warehouse: its Stock Ledger Entries' `actual_qty`, cancelled ones excluded. */
async function qiStock(
  read: FrappeRead,
  qiWarehouse: string,
  material: string,
  batch: string,
  uom: string,
): Promise<Quantity> {
  const rows = await read.list(
    'Stock Ledger Entry',
    [
      ['item_code', '=', material],
      ['batch_no', '=', batch],
      ['warehouse', '=', qiWarehouse],
      ['is_cancelled', '=', 0],
    ],
    ['actual_qty', 'stock_uom'],
  )
  let units = 0
  for (const [i, r] of rows.entries())
    units += quantityOf(r.actual_qty, r.stock_uom, `/data/${i}/actual_qty`).units
  return { units, scale: 3, uom }
}

/**
 * The buying side of the ERPNext simulator: the Supplier master and Purchase Orders, with the one
 * rule that makes a supplier's block mean something. Supplier carries `on_hold` ("Block Supplier"),
 * `hold_type` ∈ {"", All, Invoices, Payments} and `release_date` (frappe/erpnext
 * erpnext/buying/doctype/supplier/supplier.json). Every save of a Purchase Order runs
 * AccountsController.validate → ensure_supplier_is_not_blocked (erpnext/controllers/
 * accounts_controller.py): a supplier on hold with hold type All or Invoices, and no release date
 * or one not yet passed, refuses the order with "<supplier> is blocked so this transaction cannot
 * proceed" (a ValidationError).
 */
import { type Doc, frappeError } from './frappe.ts'

export const HOLD_TYPES = ['', 'All', 'Invoices', 'Payments'] as const

/** A supplier whose hold refuses purchase orders and purchase invoices on `today` (YYYY-MM-DD). */
export function blocksPurchasing(s: Record<string, unknown>, today: string): boolean {
  const hold = String(s.hold_type ?? '')
  const until = typeof s.release_date === 'string' && s.release_date !== '' ? s.release_date : undefined
  return Number(s.on_hold ?? 0) === 1 && (hold === 'All' || hold === 'Invoices') && (!until || today <= until)
}

export function validateSupplier(doc: Doc): void {
  if (!doc.supplier_name) throw frappeError('MandatoryError', '[Supplier]: supplier_name')
  doc.on_hold = Number(doc.on_hold ?? 0) ? 1 : 0
  doc.hold_type = doc.hold_type ?? ''
  if (!HOLD_TYPES.includes(doc.hold_type as (typeof HOLD_TYPES)[number]))
    throw frappeError(
      'ValidationError',
      `Hold Type cannot be "${String(doc.hold_type)}". It should be one of "", "All", "Invoices", "Payments"`,
    )
}

export function validatePurchaseOrder(
  doc: Doc,
  supplier: (name: string) => Record<string, unknown> | undefined,
  today: string,
): void {
  const name = String(doc.supplier ?? '')
  if (!name) throw frappeError('MandatoryError', '[Purchase Order]: supplier')
  const s = supplier(name)
  if (!s) throw frappeError('LinkValidationError', `Could not find Supplier: ${name}`)
  if (blocksPurchasing(s, today))
    throw frappeError('ValidationError', `${name} is blocked so this transaction cannot proceed`)
}

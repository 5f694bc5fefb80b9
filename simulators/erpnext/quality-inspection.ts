/**
 * Quality Inspection validation as erpnext/stock/doctype/quality_inspection/quality_inspection.py
 * does it (quality-domain.md §2.1): each numeric reading is Accepted when every non-empty
 * reading_1..reading_10 lies within [min_value, max_value]; any Rejected reading makes the document
 * Rejected unless manual_inspection is set. acceptance_formula is not supported here.
 */
import { type Doc, frappeError } from './frappe.ts'

interface Reading {
  specification?: unknown
  min_value?: unknown
  max_value?: unknown
  numeric?: unknown
  manual_inspection?: unknown
  status?: unknown
  [k: string]: unknown
}

function readingValues(r: Reading): number[] {
  const out: number[] = []
  for (let i = 1; i <= 10; i++) {
    const v = r[`reading_${i}`]
    if (v === undefined || v === null || v === '') continue
    const n = Number(v)
    if (!Number.isFinite(n))
      throw frappeError('ValidationError', `Row reading_${i} of ${String(r.specification)} is not a number`)
    out.push(n)
  }
  return out
}

export function evaluateQualityInspection(doc: Doc): void {
  const readings = Array.isArray(doc.readings) ? (doc.readings as Reading[]) : []
  doc.readings = readings
  for (const [idx, r] of readings.entries()) {
    r.idx = idx + 1
    if (r.manual_inspection) continue
    if (r.numeric === 0 || r.numeric === false) {
      // Non-numeric readings: ERPNext compares reading_value with value.
      r.status = r.reading_value === r.value ? 'Accepted' : 'Rejected'
      continue
    }
    const values = readingValues(r)
    const min =
      r.min_value === undefined || r.min_value === null ? Number.NEGATIVE_INFINITY : Number(r.min_value)
    const max =
      r.max_value === undefined || r.max_value === null ? Number.POSITIVE_INFINITY : Number(r.max_value)
    r.status = values.every((v) => v >= min && v <= max) ? 'Accepted' : 'Rejected'
  }
  if (!doc.manual_inspection) {
    doc.status = readings.some((r) => r.status === 'Rejected') ? 'Rejected' : 'Accepted'
  } else if (doc.status !== 'Accepted' && doc.status !== 'Rejected') {
    throw frappeError('ValidationError', 'Status must be Accepted or Rejected for a manual inspection')
  }
  for (const f of ['inspection_type', 'reference_type', 'reference_name', 'item_code'] as const) {
    if (!doc[f]) throw frappeError('MandatoryError', `[Quality Inspection, ${doc.name}]: ${f}`)
  }
  if (!['Incoming', 'Outgoing', 'In Process'].includes(String(doc.inspection_type))) {
    throw frappeError('ValidationError', 'Inspection Type must be Incoming, Outgoing or In Process')
  }
}

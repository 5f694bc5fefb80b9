/**
 * Item and Quality Inspection Template, as ERPNext models an item's inspection specification
 * (frappe/erpnext erpnext/stock/doctype/quality_inspection_template/quality_inspection_template.json
 * and .py `get_template_details`): a template, named by `quality_inspection_template_name`, holds
 * the child table `item_quality_inspection_parameter` (DocType Item Quality Inspection Parameter:
 * `specification`, `parameter_group`, `numeric`, `min_value`, `max_value`, `value`,
 * `formula_based_criteria`, `acceptance_formula`); an Item names its template in
 * `quality_inspection_template` (and asks for incoming inspection with
 * `inspection_required_before_purchase`). Neither DocType is submittable: docstatus stays 0 and each
 * save stamps a new `modified`.
 */
import { type Doc, frappeError } from './frappe.ts'

export const TEMPLATE = 'Quality Inspection Template'

/** one Item Quality Inspection Parameter row as tests write it (Frappe fills idx, parent…) */
export interface ParameterInput {
  readonly specification: string
  readonly numeric?: 0 | 1
  readonly min_value?: number | string | null
  readonly max_value?: number | string | null
  readonly value?: string
  readonly formula_based_criteria?: 0 | 1
  readonly acceptance_formula?: string
  readonly parameter_group?: string
}

/** The template's validation: a name, at least one parameter row, each with a specification. */
export function validateTemplate(doc: Doc): void {
  doc.quality_inspection_template_name = doc.name
  const rows = doc.item_quality_inspection_parameter
  if (!Array.isArray(rows) || rows.length === 0)
    throw frappeError('MandatoryError', `[${TEMPLATE}, ${doc.name}]: item_quality_inspection_parameter`)
  doc.item_quality_inspection_parameter = rows.map((r: Record<string, unknown>, i: number) => {
    if (!r.specification)
      throw frappeError('MandatoryError', `[${TEMPLATE}, ${doc.name}]: Row #${i + 1}: specification`)
    return {
      numeric: 1,
      formula_based_criteria: 0,
      ...r,
      idx: i + 1,
      name: `${doc.name}-${i + 1}`,
      doctype: 'Item Quality Inspection Parameter',
      parent: doc.name,
      parentfield: 'item_quality_inspection_parameter',
      parenttype: TEMPLATE,
    }
  })
}

/** The Item's validation: its template, when named, must exist (a Link field). */
export function validateItem(doc: Doc, template: (name: string) => Doc | undefined): void {
  doc.item_code = doc.name
  doc.disabled ??= 0
  doc.inspection_required_before_purchase ??= 0
  const t = doc.quality_inspection_template
  if (t !== undefined && t !== null && t !== '' && !template(String(t)))
    throw frappeError('LinkValidationError', `Could not find Quality Inspection Template: ${String(t)}`)
}

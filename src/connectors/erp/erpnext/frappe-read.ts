/**
 * Frappe REST reads the ERPNext connector shares (quality-domain.md §2.1): a document by name
 * (`GET /api/resource/<DocType>/<name>`, child tables included) and a list (`GET
 * /api/resource/<DocType>?filters=…&fields=…&limit_page_length=0`, docs.frappe.io/framework
 * "Listing documents"). A filter `[<child doctype>, field, op, value]` selects the parents one of
 * whose child rows matches (frappe.get_list joins the child table); a list never returns child
 * rows, so a caller reads the documents it needs them of.
 *
 * Also the Stock Entry rows that posted an inspection's stock out of quality inspection: ERPNext
 * keeps no "to be posted" per Quality Inspection (SAP's InspLotQtyToBePosted), so what was posted
 * for one is read from the submitted Stock Entries whose rows name it (Stock Entry Detail
 * `quality_inspection`, a Link to Quality Inspection in erpnext/stock/doctype/stock_entry_detail).
 */
import { canonicalUom } from '../../../mapping/units.ts'
import { parseDecimal, type Quantity } from '../../../model/quantity.ts'
import type { EgressClient } from '../../sdk/egress.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'

export type Json = Record<string, unknown>
type Filter = readonly unknown[]

export class FrappeRead {
  constructor(
    private readonly egress: EgressClient,
    private readonly baseUrl: string,
    private readonly auth: string,
  ) {}

  private url(doctype: string, name?: string): string {
    return `${this.baseUrl}/api/resource/${encodeURIComponent(doctype)}${name ? `/${encodeURIComponent(name)}` : ''}`
  }

  async list(doctype: string, filters: Filter[], fields: string[], traceparent?: string): Promise<Json[]> {
    const q = `filters=${encodeURIComponent(JSON.stringify(filters))}&fields=${encodeURIComponent(JSON.stringify(fields))}&limit_page_length=0`
    const res = await this.egress.request({
      method: 'GET',
      url: `${this.url(doctype)}?${q}`,
      headers: { authorization: this.auth },
      traceparent,
      context: `list ${doctype}`,
    })
    const data = res.json<{ data?: unknown }>().data
    if (!Array.isArray(data))
      throw new EgressFailure('QLK_REMOTE_INVALID_RESPONSE', `${doctype} list: no data array`, {
        ambiguous: false,
      })
    return data as Json[]
  }

  /** The document, child tables included; null when ERPNext has none of that name. */
  async get(doctype: string, name: string, traceparent?: string): Promise<Json | null> {
    const res = await this.egress.request({
      method: 'GET',
      url: this.url(doctype, name),
      headers: { authorization: this.auth },
      accept: [404],
      traceparent,
      context: `read ${doctype} ${name}`,
    })
    if (res.status === 404) return null
    return res.json<{ data?: Json }>().data ?? null
  }

  /**
   * What submitted Stock Entries posted out of `qiWarehouse` for Quality Inspection `qi`, per
   * target warehouse (rows naming it; cancelled entries excluded), and those entries' names.
   */
  async postedForInspection(
    qi: string,
    qiWarehouse: string,
    traceparent?: string,
  ): Promise<{ byWarehouse: Map<string, Quantity>; documents: string[] }> {
    const entries = await this.list(
      'Stock Entry',
      [
        ['docstatus', '=', 1],
        ['Stock Entry Detail', 'quality_inspection', '=', qi],
      ],
      ['name'],
      traceparent,
    )
    const byWarehouse = new Map<string, Quantity>()
    const documents: string[] = []
    for (const e of entries) {
      const doc = await this.get('Stock Entry', String(e.name), traceparent)
      if (doc?.docstatus !== 1) continue
      documents.push(String(doc.name))
      const rows = Array.isArray(doc.items) ? (doc.items as Json[]) : []
      for (const [i, r] of rows.entries()) {
        if (r.quality_inspection !== qi || r.s_warehouse !== qiWarehouse) continue
        const q = quantityOf(r.qty, r.stock_uom ?? r.uom, `Stock Entry ${doc.name}/items/${i}/qty`)
        const to = String(r.t_warehouse ?? '')
        const prev = byWarehouse.get(to)
        byWarehouse.set(to, prev ? { ...prev, units: prev.units + q.units } : q)
      }
    }
    return { byWarehouse, documents }
  }
}

/** A Frappe quantity (a float or a decimal string) at three decimals; more is refused, never rounded. */
export function quantityOf(v: unknown, uom: unknown, field: string): Quantity {
  return parseDecimal(String(v), 3, canonicalUom(String(uom ?? '')), field)
}

/**
 * What ERPNext models of the quality side (quality-domain.md §2.1, the doctype field lists of
 * frappe/erpnext):
 * - the usage decision is the Quality Inspection's `status` (Accepted / Rejected) on its submitted
 *   document (docstatus 1); the decision code, which ERPNext has no field for, goes into `remarks`.
 *   A submitted inspection cannot be edited (UpdateAfterSubmitError), so a different decision on a
 *   submitted one is QLK_REMOTE_CONFLICT for a person (cancel and amend in ERPNext);
 * - a lot's stock per warehouse is the sum of its Stock Ledger Entries' `actual_qty` (the ledger is
 *   per batch; Bin is per item and warehouse only), cancelled entries excluded.
 * Frappe's optimistic lock is the document's `modified`: a stale one is TimestampMismatchError,
 * answered like SAP's 412: read again and retry once, then QLK_REMOTE_CONFLICT.
 */
import { PermanentError } from '../../../engine/errors.ts'
import { canonicalUom } from '../../../mapping/units.ts'
import { parseDecimal, type Quantity } from '../../../model/quantity.ts'
import type { Bucket } from '../../../model/stock.ts'
import type {
  LotRef,
  LotStockReading,
  RecordUsageDecisionInput,
  StateChangeResult,
} from '../../../workflows/ports/erp.ts'
import type { EgressClient } from '../../sdk/egress.ts'
import { EgressFailure, RemoteRejected } from '../../sdk/http-errors.ts'

type Json = Record<string, unknown>

/** Buckets a stock reading reports: stock still in the plant (as erp/sap-s4; scrap and returns have left). */
const PHYSICAL: readonly Bucket[] = ['unrestricted', 'qualityInspection', 'blocked', 'reserves']

export class FrappeQuality {
  constructor(
    private readonly egress: EgressClient,
    private readonly baseUrl: string,
    private readonly auth: string,
    /** canonical bucket → warehouse (the connector's `warehouses`) */
    private readonly warehouses: Readonly<Partial<Record<Bucket, string>>>,
  ) {}

  private url(doctype: string, name?: string): string {
    return `${this.baseUrl}/api/resource/${encodeURIComponent(doctype)}${name ? `/${encodeURIComponent(name)}` : ''}`
  }

  async recordUsageDecision(input: RecordUsageDecisionInput): Promise<StateChangeResult> {
    const id = input.inspectionLot
    const wanted = input.valuation === 'accepted' ? 'Accepted' : 'Rejected'
    const remarks = [input.code, input.reference].filter(Boolean).join(' ')
    let stale = 0
    let maybeOurs = false
    for (let round = 0; round < 3; round++) {
      const res = await this.egress.request({
        method: 'GET',
        url: this.url('Quality Inspection', id),
        headers: { authorization: this.auth },
        accept: [404],
        traceparent: input.traceparent,
        context: `read Quality Inspection ${id}`,
      })
      if (res.status === 404)
        throw new PermanentError('QLK_REMOTE_REJECTED', `Quality Inspection ${id} does not exist in ERPNext`)
      const qi = res.json<{ data?: Json }>().data ?? {}
      if (qi.docstatus === 2)
        throw new PermanentError('QLK_REMOTE_CONFLICT', `Quality Inspection ${id} is cancelled in ERPNext`)
      if (qi.docstatus === 1) {
        if (qi.status === wanted) return { changed: maybeOurs }
        throw new PermanentError(
          'QLK_REMOTE_CONFLICT',
          `Quality Inspection ${id} is already submitted as ${String(qi.status)}, not ${wanted}; cancel and amend it in ERPNext`,
        )
      }
      try {
        await this.egress.request({
          method: 'PUT',
          url: this.url('Quality Inspection', id),
          headers: { authorization: this.auth },
          json: {
            status: wanted,
            // the decision is the QMS's, not the readings': ERPNext keeps the status as set
            manual_inspection: 1,
            remarks,
            ...(input.decidedBy ? { inspected_by: input.decidedBy } : {}),
            docstatus: 1,
            modified: qi.modified,
          },
          traceparent: input.traceparent,
          context: `submit Quality Inspection ${id} as ${wanted}`,
        })
        return { changed: true }
      } catch (e) {
        maybeOurs = e instanceof EgressFailure && e.ambiguous
        if (maybeOurs) continue
        if (e instanceof RemoteRejected && e.remoteCode === 'TimestampMismatchError' && ++stale === 1)
          continue
        if (e instanceof RemoteRejected && e.remoteCode === 'TimestampMismatchError')
          throw new PermanentError(
            'QLK_REMOTE_CONFLICT',
            `Quality Inspection ${id}: changed in ERPNext again after a re-read (TimestampMismatchError twice); nothing more was sent`,
          )
        throw e
      }
    }
    throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `Quality Inspection ${id}: not confirmed by read-back`, {
      ambiguous: true,
    })
  }

  async readLotStock(lot: LotRef, traceparent?: string): Promise<LotStockReading> {
    const filters = JSON.stringify([
      ['item_code', '=', lot.material],
      ['batch_no', '=', lot.lot],
      ['is_cancelled', '=', 0],
    ])
    const fields = JSON.stringify(['warehouse', 'actual_qty', 'stock_uom'])
    const res = await this.egress.request({
      method: 'GET',
      url: `${this.url('Stock Ledger Entry')}?filters=${encodeURIComponent(filters)}&fields=${encodeURIComponent(fields)}&limit_page_length=0`,
      headers: { authorization: this.auth },
      traceparent,
      context: `read Stock Ledger Entries of ${lot.material}/${lot.lot}`,
    })
    const rows = res.json<{ data?: unknown }>().data
    if (!Array.isArray(rows))
      throw new EgressFailure('QLK_REMOTE_INVALID_RESPONSE', 'Stock Ledger Entry list: no data array', {
        ambiguous: false,
      })
    const bucketOf = new Map(
      PHYSICAL.flatMap((b) => (this.warehouses[b] ? [[this.warehouses[b]!, b] as const] : [])),
    )
    const out: Partial<Record<Bucket, Quantity>> = {}
    for (const [i, r] of (rows as Json[]).entries()) {
      const bucket = bucketOf.get(String(r.warehouse))
      if (!bucket) continue
      // Frappe sends floats; a ledger quantity with more than 3 decimals is refused, never rounded
      const q = parseDecimal(
        String(r.actual_qty),
        3,
        canonicalUom(String(r.stock_uom ?? '')),
        `/data/${i}/actual_qty`,
      )
      const prev = out[bucket]
      out[bucket] = prev ? { ...prev, units: prev.units + q.units } : q
    }
    for (const [b, q] of Object.entries(out)) if (q.units === 0) delete out[b as Bucket]
    return { lot, quantities: out }
  }
}

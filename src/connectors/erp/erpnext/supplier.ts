/**
 * The supplier's purchasing block on ERPNext (supplier quality status, issue 8 item 5b). The
 * Supplier master has `on_hold` ("Block Supplier"), `hold_type` ∈ {"", All, Invoices, Payments} and
 * `release_date` (frappe/erpnext erpnext/buying/doctype/supplier/supplier.json). ERPNext refuses a
 * Purchase Order or Purchase Invoice for a supplier on hold with hold type All or Invoices while the
 * release date is empty or not passed (AccountsController.ensure_supplier_is_not_blocked), which is
 * what SAP's A_Supplier.PurchasingIsBlocked means for new purchase orders.
 *
 * Blocking sets hold type Invoices (no new purchase orders or invoices; payments for what was
 * already delivered go on), or All when finance already holds the supplier's Payments, so neither
 * hold is lost. Releasing undoes only the purchasing part: All becomes Payments, Invoices is lifted.
 * A state, not a document: read first, `changed: false` when it already is so; the write carries
 * the `modified` it read (Frappe's optimistic lock), a TimestampMismatchError is read again once.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { StateChangeResult, SupplierBlockInput } from '../../../workflows/ports/erp.ts'
import type { EgressClient } from '../../sdk/egress.ts'
import { EgressFailure, RemoteRejected } from '../../sdk/http-errors.ts'

type Json = Record<string, unknown>

/** Whether the supplier's hold refuses new purchase orders on `today` (YYYY-MM-DD), as ERPNext decides it. */
export function holdBlocksPurchasing(s: Json, today: string): boolean {
  const hold = String(s.hold_type ?? '')
  const until = typeof s.release_date === 'string' && s.release_date !== '' ? s.release_date : undefined
  return Number(s.on_hold ?? 0) === 1 && (hold === 'All' || hold === 'Invoices') && (!until || today <= until)
}

/** The Supplier fields that set (`blocked`) or lift the purchasing part of its hold. */
function nextHold(s: Json, blocked: boolean): Json {
  const paymentsHeld = Number(s.on_hold ?? 0) === 1 && ['All', 'Payments'].includes(String(s.hold_type))
  if (blocked) return { on_hold: 1, hold_type: paymentsHeld ? 'All' : 'Invoices', release_date: null }
  return paymentsHeld
    ? { hold_type: 'Payments', release_date: null }
    : { on_hold: 0, hold_type: '', release_date: null }
}

export async function setSupplierPurchasingBlock(
  egress: EgressClient,
  baseUrl: string,
  auth: string,
  input: SupplierBlockInput,
  today: () => string = () => new Date().toISOString().slice(0, 10),
): Promise<StateChangeResult> {
  const url = `${baseUrl}/api/resource/Supplier/${encodeURIComponent(input.supplier)}`
  let stale = 0
  let maybeOurs = false
  for (let round = 0; round < 3; round++) {
    const res = await egress.request({
      method: 'GET',
      url,
      headers: { authorization: auth },
      accept: [404],
      traceparent: input.traceparent,
      context: `read Supplier ${input.supplier}`,
    })
    if (res.status === 404)
      throw new PermanentError('QLK_REMOTE_REJECTED', `Supplier ${input.supplier} does not exist in ERPNext`)
    const s = res.json<{ data?: Json }>().data ?? {}
    if (holdBlocksPurchasing(s, today()) === input.blocked) return { changed: maybeOurs }
    try {
      await egress.request({
        method: 'PUT',
        url,
        headers: { authorization: auth },
        json: { ...nextHold(s, input.blocked), modified: s.modified },
        traceparent: input.traceparent,
        context: `${input.blocked ? 'block' : 'release'} Supplier ${input.supplier} for purchasing`,
      })
      return { changed: true }
    } catch (e) {
      // the same fields written twice change nothing: after a lost answer, read and decide again
      maybeOurs = e instanceof EgressFailure && e.ambiguous
      if (maybeOurs) continue
      if (e instanceof RemoteRejected && e.remoteCode === 'TimestampMismatchError' && ++stale === 1) continue
      if (e instanceof RemoteRejected && e.remoteCode === 'TimestampMismatchError')
        throw new PermanentError(
          'QLK_REMOTE_CONFLICT',
          `Supplier ${input.supplier}: changed in ERPNext again after a re-read (TimestampMismatchError twice); nothing more was sent`,
        )
      throw e
    }
  }
  throw new EgressFailure(
    'QLK_EGRESS_AMBIGUOUS',
    `Supplier ${input.supplier}: hold not confirmed by read-back`,
    {
      ambiguous: true,
    },
  )
}

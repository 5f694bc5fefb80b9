/**
 * The supplier master's purchasing block, for supplier quality status (issue 8 item 5):
 * API_BUSINESS_PARTNER/A_Supplier('<supplier>') with `PurchasingIsBlocked` (Edm.Boolean; the
 * central purchasing block, ECC LFA1-SPERM: no new purchase orders) and `PostingIsBlocked`, as the
 * real entity's fields (A_Supplier: SUPPLIER, SUPPLIERNAME, PURCHASINGISBLOCKED, POSTINGISBLOCKED).
 * LastChangeDateTime and its ETag are this simulator's, like the order and delivery PATCHes.
 * A plain PATCH of a state: repeating one changes nothing but LastChangeDateTime; `blockChanges`
 * counts real changes (tests count effects, nothing is deduplicated).
 */
import type { Router } from '../shared/http.ts'
import { checkConcurrency } from './concurrency.ts'
import type { S4Model } from './model.ts'
import {
  bodyObject,
  collection,
  dateTimeOffset,
  etagFor,
  odataError,
  parseKey,
  single,
  withMeta,
} from './odata.ts'

export const SUPPLIER_BASE = '/sap/opu/odata/sap/API_BUSINESS_PARTNER'

export interface Supplier {
  readonly Supplier: string
  SupplierName: string
  PurchasingIsBlocked: boolean
  PostingIsBlocked: boolean
  LastChangeDateTime: number
  blockChanges: number
}

function view(s: Supplier) {
  return withMeta(
    SUPPLIER_BASE,
    'A_Supplier',
    'API_BUSINESS_PARTNER.A_SupplierType',
    { Supplier: s.Supplier },
    {
      Supplier: s.Supplier,
      SupplierName: s.SupplierName,
      PurchasingIsBlocked: s.PurchasingIsBlocked,
      PostingIsBlocked: s.PostingIsBlocked,
      LastChangeDateTime: dateTimeOffset(s.LastChangeDateTime),
    },
    etagFor(s.LastChangeDateTime),
  )
}

export function registerSupplierRoutes(
  router: Router,
  model: S4Model,
  suppliers: Map<string, Supplier>,
  requireConcurrencyToken: boolean,
): void {
  const S = SUPPLIER_BASE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const supplier = (raw: string) => {
    const id = parseKey(raw, ['Supplier']).Supplier!
    const s = suppliers.get(id)
    if (!s) throw odataError(404, 'BUPA/001', `Supplier ${id} does not exist`)
    return s
  }
  router.on('GET', new RegExp(`^${S}/A_Supplier$`), (req) =>
    collection(req, [...suppliers.values()].map(view)),
  )
  router.on('GET', new RegExp(`^${S}/A_Supplier\\(([^)]*)\\)$`), (req) =>
    single(view(supplier(req.params[0]!))),
  )
  router.on(['PATCH', 'MERGE'], new RegExp(`^${S}/A_Supplier\\(([^)]*)\\)$`), (req) => {
    const s = supplier(req.params[0]!)
    const b = bodyObject(req)
    checkConcurrency(req, s.LastChangeDateTime, b, 'LastChangeDateTime', requireConcurrencyToken)
    for (const field of ['PurchasingIsBlocked', 'PostingIsBlocked'] as const) {
      if (b[field] === undefined) continue
      if (typeof b[field] !== 'boolean') throw odataError(400, 'SY/530', `${field} must be a boolean`)
      if (b[field] !== s[field]) {
        s[field] = b[field]
        if (field === 'PurchasingIsBlocked') s.blockChanges++
      }
    }
    s.LastChangeDateTime = model.tick()
    return { status: 204, headers: { etag: etagFor(s.LastChangeDateTime) } }
  })
}

/**
 * Production order hold and outbound delivery block (workflows (b) and (d) of DESIGN.md §1).
 * SAP has no single "hold" API; this simulator's design, SAP-flavoured:
 *  - API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2('<order>'): PATCH MfgOrderIsOnHold /
 *    MfgOrderHoldReason (fields of this simulator), ETag from LastChangeDateTime.
 *  - API_OUTBOUND_DELIVERY_SRV;v=0002/A_OutbDeliveryHeader('<delivery>'): PATCH DeliveryBlockReason
 *    ('' removes the block), as the real service's header field; items readable per batch for
 *    recall scope.
 * Both are plain PATCHes: repeating one changes nothing but LastChangeDateTime.
 */
import type { Router } from '../shared/http.ts'
import { formatQuantity } from '../shared/quantity.ts'
import { checkConcurrency } from './concurrency.ts'
import type { OutboundDelivery, ProductionOrder, S4Model } from './model.ts'
import {
  bodyObject,
  collection,
  dateTimeOffset,
  etagFor,
  type ODataRecord,
  odataError,
  parseKey,
  single,
  withMeta,
} from './odata.ts'

export const ORDER_BASE = '/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV'
export const DELIVERY_BASE = '/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002'

function orderView(o: ProductionOrder): ODataRecord {
  return withMeta(
    ORDER_BASE,
    'A_ProductionOrder_2',
    'API_PRODUCTION_ORDER_2_SRV.A_ProductionOrder_2Type',
    { ManufacturingOrder: o.ManufacturingOrder },
    {
      ManufacturingOrder: o.ManufacturingOrder,
      Material: o.Material,
      ProductionPlant: o.ProductionPlant,
      Batch: o.Batch,
      TotalQuantity: formatQuantity(o.TotalQuantity),
      ProductionUnit: o.ProductionUnit,
      MfgOrderIsOnHold: o.MfgOrderIsOnHold,
      MfgOrderHoldReason: o.MfgOrderHoldReason,
      LastChangeDateTime: dateTimeOffset(o.LastChangeDateTime),
    },
    etagFor(o.LastChangeDateTime),
  )
}

function deliveryItemView(d: OutboundDelivery, it: OutboundDelivery['items'][number]): ODataRecord {
  const key = { DeliveryDocument: d.DeliveryDocument, DeliveryDocumentItem: it.DeliveryDocumentItem }
  return withMeta(
    DELIVERY_BASE,
    'A_OutbDeliveryItem',
    'API_OUTBOUND_DELIVERY_SRV.A_OutbDeliveryItemType',
    key,
    {
      ...key,
      Material: it.Material,
      Plant: it.Plant,
      Batch: it.Batch,
      ActualDeliveryQuantity: formatQuantity(it.quantity),
      DeliveryQuantityUnit: it.DeliveryQuantityUnit,
    },
  )
}

function deliveryView(d: OutboundDelivery, expand: boolean): ODataRecord {
  const rec = withMeta(
    DELIVERY_BASE,
    'A_OutbDeliveryHeader',
    'API_OUTBOUND_DELIVERY_SRV.A_OutbDeliveryHeaderType',
    { DeliveryDocument: d.DeliveryDocument },
    {
      DeliveryDocument: d.DeliveryDocument,
      ShipToParty: d.ShipToParty,
      SoldToParty: d.SoldToParty,
      DeliveryBlockReason: d.DeliveryBlockReason,
      LastChangeDateTime: dateTimeOffset(d.LastChangeDateTime),
    },
    etagFor(d.LastChangeDateTime),
  )
  if (expand) rec.to_DeliveryDocumentItem = { results: d.items.map((it) => deliveryItemView(d, it)) }
  return rec
}

export function registerOrderRoutes(router: Router, model: S4Model, requireConcurrencyToken: boolean): void {
  const O = ORDER_BASE.replace(/\//g, '\\/')
  const D = DELIVERY_BASE.replace(/[/;=]/g, (c) => `\\${c}`)
  const order = (seg: string) => {
    const id = parseKey(seg, ['ManufacturingOrder']).ManufacturingOrder!
    const o = model.productionOrders.get(id)
    if (!o) throw odataError(404, 'CO/017', `Order ${id} does not exist`)
    return o
  }
  const delivery = (seg: string) => {
    const id = parseKey(seg, ['DeliveryDocument']).DeliveryDocument!
    const d = model.deliveries.get(id)
    if (!d) throw odataError(404, 'VL/009', `Delivery ${id} does not exist`)
    return d
  }
  router.on('GET', new RegExp(`^${O}/A_ProductionOrder_2$`), (req) =>
    collection(req, [...model.productionOrders.values()].map(orderView)),
  )
  router.on('GET', new RegExp(`^${O}/A_ProductionOrder_2\\(([^)]*)\\)$`), (req) =>
    single(orderView(order(req.params[0]!))),
  )
  router.on(['PATCH', 'MERGE'], new RegExp(`^${O}/A_ProductionOrder_2\\(([^)]*)\\)$`), (req) => {
    const o = order(req.params[0]!)
    const b = bodyObject(req)
    checkConcurrency(req, o.LastChangeDateTime, b, 'LastChangeDateTime', requireConcurrencyToken)
    if (b.MfgOrderIsOnHold !== undefined && typeof b.MfgOrderIsOnHold !== 'boolean') {
      throw odataError(400, 'SY/530', 'MfgOrderIsOnHold must be a boolean')
    }
    if (typeof b.MfgOrderIsOnHold === 'boolean' && b.MfgOrderIsOnHold !== o.MfgOrderIsOnHold) {
      o.MfgOrderIsOnHold = b.MfgOrderIsOnHold
      o.holdChanges++
    }
    if (typeof b.MfgOrderHoldReason === 'string') o.MfgOrderHoldReason = b.MfgOrderHoldReason
    o.LastChangeDateTime = model.tick()
    return { status: 204, headers: { etag: etagFor(o.LastChangeDateTime) } }
  })
  const expand = (q: URLSearchParams) => (q.get('$expand') ?? '').includes('to_DeliveryDocumentItem')
  router.on('GET', new RegExp(`^${D}/A_OutbDeliveryHeader$`), (req) =>
    collection(
      req,
      [...model.deliveries.values()].map((d) => deliveryView(d, expand(req.query))),
    ),
  )
  router.on('GET', new RegExp(`^${D}/A_OutbDeliveryHeader\\(([^)]*)\\)$`), (req) =>
    single(deliveryView(delivery(req.params[0]!), expand(req.query))),
  )
  router.on('GET', new RegExp(`^${D}/A_OutbDeliveryItem$`), (req) =>
    collection(
      req,
      [...model.deliveries.values()].flatMap((d) => d.items.map((it) => deliveryItemView(d, it))),
    ),
  )
  router.on(['PATCH', 'MERGE'], new RegExp(`^${D}/A_OutbDeliveryHeader\\(([^)]*)\\)$`), (req) => {
    const d = delivery(req.params[0]!)
    const b = bodyObject(req)
    checkConcurrency(req, d.LastChangeDateTime, b, 'LastChangeDateTime', requireConcurrencyToken)
    if (typeof b.DeliveryBlockReason === 'string' && b.DeliveryBlockReason !== d.DeliveryBlockReason) {
      d.DeliveryBlockReason = b.DeliveryBlockReason
      d.blockChanges++
    }
    d.LastChangeDateTime = model.tick()
    return { status: 204, headers: { etag: etagFor(d.LastChangeDateTime) } }
  })
}

/**
 * Production order confirmations: API_PROD_ORDER_CONFIRMATION_2_SRV/ProdnOrdConf2 (POST one
 * confirmation of an operation's yield; GET with $filter to read back). Field names as the real
 * entity (OrderID, OrderOperation, ConfirmationYieldQuantity, ConfirmationUnit, ConfirmationText,
 * MfgOrderConfirmation). Like SAP, nothing is deduplicated: a client finds its own earlier
 * confirmation by the text it wrote. Each confirmation records whether its order was on hold when
 * it was posted (`postedOnHold`), so tests can prove none was posted under a quality hold.
 */
import type { Router } from '../shared/http.ts'
import { formatQuantity, parseQuantity } from '../shared/quantity.ts'
import type { S4Model } from './model.ts'
import { bodyObject, collection, odataError, withMeta } from './odata.ts'

export const CONFIRMATION_BASE = '/sap/opu/odata/sap/API_PROD_ORDER_CONFIRMATION_2_SRV'

export interface Confirmation {
  readonly MfgOrderConfirmationGroup: string
  readonly MfgOrderConfirmation: string
  readonly OrderID: string
  readonly OrderOperation: string
  /** milli-units */
  readonly yieldQuantity: number
  readonly ConfirmationUnit: string
  readonly ConfirmationText: string
  readonly postedOnHold: boolean
}

function view(c: Confirmation) {
  const key = {
    MfgOrderConfirmationGroup: c.MfgOrderConfirmationGroup,
    MfgOrderConfirmation: c.MfgOrderConfirmation,
  }
  return withMeta(
    CONFIRMATION_BASE,
    'ProdnOrdConf2',
    'API_PROD_ORDER_CONFIRMATION_2_SRV.ProdnOrdConf2Type',
    key,
    {
      ...key,
      OrderID: c.OrderID,
      OrderOperation: c.OrderOperation,
      ConfirmationYieldQuantity: formatQuantity(c.yieldQuantity),
      ConfirmationUnit: c.ConfirmationUnit,
      ConfirmationText: c.ConfirmationText,
    },
  )
}

export function registerConfirmationRoutes(
  router: Router,
  model: S4Model,
  confirmations: Confirmation[],
): void {
  const C = CONFIRMATION_BASE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  router.on('GET', new RegExp(`^${C}/ProdnOrdConf2$`), (req) => collection(req, confirmations.map(view)))
  router.on('POST', new RegExp(`^${C}/ProdnOrdConf2$`), (req) => {
    const b = bodyObject(req)
    const order = typeof b.OrderID === 'string' ? model.productionOrders.get(b.OrderID) : undefined
    if (!order) throw odataError(400, 'RU/104', `Order ${String(b.OrderID)} does not exist`)
    if (typeof b.OrderOperation !== 'string' || b.OrderOperation === '')
      throw odataError(400, 'RU/505', 'OrderOperation is required')
    const n = String(confirmations.length + 1).padStart(8, '0')
    const c: Confirmation = {
      MfgOrderConfirmationGroup: n,
      MfgOrderConfirmation: n,
      OrderID: order.ManufacturingOrder,
      OrderOperation: b.OrderOperation,
      yieldQuantity: parseQuantity(b.ConfirmationYieldQuantity ?? '0', 'ConfirmationYieldQuantity'),
      ConfirmationUnit: typeof b.ConfirmationUnit === 'string' ? b.ConfirmationUnit : order.ProductionUnit,
      ConfirmationText: typeof b.ConfirmationText === 'string' ? b.ConfirmationText.slice(0, 40) : '',
      postedOnHold: order.MfgOrderIsOnHold,
    }
    confirmations.push(c)
    return { status: 201, body: { d: view(c) } }
  })
}

/**
 * erp/sap-s4: the ErpPort over S/4HANA OData v2 (API_INSPECTIONLOT_SRV, API_MATERIAL_DOCUMENT_SRV,
 * API_MATERIAL_STOCK_SRV, production order and outbound delivery services). Tested against
 * simulators/erp-s4 (docs/simulators.md), which like SAP does not deduplicate.
 */
import type { AdoptionErpPort } from '../../../workflows/ports/adoption.ts'
import type { ErpPort } from '../../../workflows/ports/erp.ts'
import type { SyntheticErpPort } from '../../../workflows/ports/synthetic.ts'
import { type ConnectorContext, defineConnector } from '../../sdk/define-connector.ts'
import { connectorSecret } from '../../sdk/secrets.ts'
import { adoptionS4 } from './adoption.ts'
import { SapS4Config, SERVICES } from './config.ts'
import { confirmOperation } from './confirmations.ts'
import { type FeedItem, readGoodsReceiptFeed } from './gr-feed.ts'
import { key, setState } from './holds.ts'
import { ODataClient } from './odata.ts'
import { readInspectionPlanFeed } from './plan-feed.ts'
import { StockPoster } from './stock.ts'
import { syntheticS4 } from './synthetic.ts'
import { UsageDecisionPoster } from './usage-decision.ts'

/** What a polled ingress feed needs from the connector (config: `ingress.feeds`). */
export interface GoodsReceiptFeed {
  readGoodsReceiptFeed(after: string | null, top: number): Promise<FeedItem[]>
}

/** Inspection plan versions changed since the cursor (config: `ingress.feeds`, `reads: inspection-plans`). */
export interface InspectionPlanFeed {
  readInspectionPlanFeed(after: string | null, top: number): Promise<FeedItem[]>
}

function basicAuth(config: SapS4Config, ctx: ConnectorContext): string | undefined {
  if (!config.auth) return undefined
  const password = connectorSecret(config.auth, 'password', '/auth', ctx.environment, {
    kind: 'erp/sap-s4',
    name: ctx.name,
  })
  return `Basic ${Buffer.from(`${config.auth.username}:${password}`).toString('base64')}`
}

export const sapS4Connector = defineConnector({
  kind: 'erp/sap-s4',
  description:
    'SAP S/4HANA over OData v2: usage decisions, UD stock postings, transfers, holds, delivery blocks',
  configSchema: SapS4Config,
  actions: [
    'recordUsageDecision',
    'changeUsageDecision',
    'postStockDisposition',
    'readLotStock',
    'readInspectionLotRemainder',
    'transferStock',
    'findTransfer',
    'setProductionOrderHold',
    'setDeliveryBlock',
    'setSupplierPurchasingBlock',
    'confirmOperation',
    'postGoodsReceipt',
    'returnGoodsReceipt',
    'listOpenInspectionLots',
    'listHeldProductionOrders',
  ],
  targets: (c) => [c.baseUrl],
  egressSettings: (c) => c.egress,
  create(config, ctx): ErpPort & GoodsReceiptFeed & InspectionPlanFeed & SyntheticErpPort & AdoptionErpPort {
    const odata = new ODataClient(ctx.egress, config.baseUrl, basicAuth(config, ctx))
    const ud = new UsageDecisionPoster(odata, config)
    const stock = new StockPoster(odata, config)
    return {
      ...syntheticS4(odata, config),
      ...adoptionS4(odata, config),
      recordUsageDecision: (input) => ud.recordUsageDecision(input),
      changeUsageDecision: (input) => ud.changeUsageDecision(input),
      postStockDisposition: (input) => ud.post(input),
      transferStock: (input) => stock.transfer(input),
      findTransfer: (input) => stock.findTransfer(input.idempotencyKey, input.traceparent),
      readLotStock: (lot, opts) => stock.readLotStock(lot, opts?.traceparent),
      readInspectionLotRemainder: (id, opts) => ud.remainder(id, opts?.traceparent),
      setProductionOrderHold: (input) =>
        setState(odata, {
          service: SERVICES.orders,
          entityPath: `/A_ProductionOrder_2(${key(input.order)})`,
          what: `production order ${input.order}`,
          isDone: (e) => e.MfgOrderIsOnHold === input.onHold,
          patch: { MfgOrderIsOnHold: input.onHold, MfgOrderHoldReason: (input.reason ?? '').slice(0, 40) },
          traceparent: input.traceparent,
        }),
      readGoodsReceiptFeed: (after, top) => readGoodsReceiptFeed(odata, after, top),
      readInspectionPlanFeed: (after, top) => readInspectionPlanFeed(odata, after, top),
      setDeliveryBlock: (input) => {
        const reason = input.blocked ? config.deliveryBlockReason : ''
        return setState(odata, {
          service: SERVICES.deliveries,
          entityPath: `/A_OutbDeliveryHeader(${key(input.delivery)})`,
          what: `outbound delivery ${input.delivery}`,
          isDone: (e) => (input.blocked ? e.DeliveryBlockReason !== '' : e.DeliveryBlockReason === ''),
          patch: { DeliveryBlockReason: reason },
          traceparent: input.traceparent,
        })
      },
      confirmOperation: (input) => confirmOperation(odata, config.quantityScale, input),
      setSupplierPurchasingBlock: (input) =>
        setState(odata, {
          service: SERVICES.suppliers,
          entityPath: `/A_Supplier(${key(input.supplier)})`,
          what: `supplier ${input.supplier}`,
          isDone: (e) => e.PurchasingIsBlocked === input.blocked,
          patch: { PurchasingIsBlocked: input.blocked },
          traceparent: input.traceparent,
        }),
    }
  },
})

/**
 * S/4HANA-style ERP simulator: OData v2 over node:http. See docs/simulators.md for endpoints.
 */
import { type FaultConfig, Faults } from '../shared/faults.ts'
import { type HttpSimOptions, Router, type SimResponse, startHttpSim } from '../shared/http.ts'
import { parseQuantity } from '../shared/quantity.ts'
import { readStateFile, writeStateFile } from '../shared/state-file.ts'
import { WebhookSender, type WebhookTarget } from '../shared/webhooks.ts'
import { type Confirmation, registerConfirmationRoutes } from './confirmations.ts'
import { CsrfTokens } from './csrf.ts'
import { recordGoodsReceipt, recordGoodsReceiptReversal, registerFeedRoutes } from './feed.ts'
import { openLotForReceipt, registerInspectionLotRoutes } from './inspection-lots.ts'
import {
  type InspectionPlanInput,
  type InspectionPlanVersion,
  registerInspectionPlanRoutes,
  upsertInspectionPlan,
} from './inspection-plans.ts'
import { type PostingHooks, registerMaterialDocumentRoutes } from './material-documents.ts'
import { type MaterialSettings, type S4Dump, S4Model } from './model.ts'
import { odataError } from './odata.ts'
import { registerOrderRoutes } from './orders.ts'
import { type ErpS4State, snapshot } from './snapshot.ts'
import { registerStockRoutes } from './stock.ts'
import { registerSupplierRoutes, type Supplier } from './suppliers.ts'

export type { ErpS4State }

export interface ErpS4Options {
  readonly port?: number
  readonly host?: string
  /** Materials not listed are QM-active (inspection-relevant) with base unit PC. */
  readonly materials?: Record<string, Partial<MaterialSettings>>
  readonly productionOrders?: ReadonlyArray<ProductionOrderSeed>
  readonly deliveries?: ReadonlyArray<DeliverySeed>
  /** Where goods-receipt webhooks go (JSON POST, signed when `secret` is set). */
  readonly webhook?: WebhookTarget
  readonly faults?: Partial<FaultConfig>
  /** Modifying requests on lots, orders and deliveries must carry If-Match or the timestamp (default true). */
  readonly requireConcurrencyToken?: boolean
  readonly reservesStorageLocation?: string
  readonly clock?: () => number
  /** Suppliers in the supplier master (A_Supplier), not blocked; default the receipts' SUP-7. */
  readonly suppliers?: readonly string[]
  /**
   * Keep the ERP's state in this JSON file (the demo's ./data/simulators/erp-s4.json): loaded at
   * start, seeds added only where absent, written when changed and on close. Default: in memory.
   */
  readonly stateFile?: string
}

/** What `stateFile` holds. */
interface ErpS4Saved {
  readonly model: S4Dump
  readonly suppliers: Supplier[]
  readonly confirmations: Confirmation[]
  /** absent in files written before inspection plans were simulated */
  readonly inspectionPlans?: InspectionPlanVersion[]
}

export interface ProductionOrderSeed {
  readonly ManufacturingOrder: string
  readonly Material: string
  readonly ProductionPlant: string
  readonly TotalQuantity: string
  readonly ProductionUnit?: string
  readonly Batch?: string
}

export interface DeliverySeed {
  readonly DeliveryDocument: string
  readonly ShipToParty: string
  readonly SoldToParty?: string
  readonly items: ReadonlyArray<{
    Material: string
    Plant: string
    Batch: string
    quantity: string
    unit?: string
  }>
}

export interface ErpS4Sim {
  readonly url: string
  readonly state: ErpS4State
  readonly faults: Faults
  readonly model: S4Model
  readonly webhooks: WebhookSender
  readonly csrf: CsrfTokens
  /** Awaited after a request changed the ERP and before its answer is sent (see HttpSimOptions). */
  beforeAnswer: HttpSimOptions['beforeAnswer']
  /** an outbound delivery created in the ERP, e.g. with a quality block ('01') awaiting release */
  createDelivery(d: DeliverySeed, blockReason?: string): void
  /**
   * Creates an inspection plan, or changes it: a plan that exists (same InspectionPlanGroup and
   * InspectionPlan) gets a new InspectionPlanInternalVersion. Returns the version written.
   */
  upsertInspectionPlan(plan: InspectionPlanInput): { readonly plan: string; readonly version: string }
  close(): Promise<void>
}

export async function startErpS4(opts: ErpS4Options = {}): Promise<ErpS4Sim> {
  const materials = new Map<string, MaterialSettings>(
    Object.entries(opts.materials ?? {}).map(([m, s]) => [
      m,
      { inspectionRelevant: s.inspectionRelevant ?? true, baseUnit: s.baseUnit ?? 'PC' },
    ]),
  )
  const model = new S4Model(materials, opts.clock ?? Date.now)
  const faults = new Faults(opts.faults)
  const webhooks = new WebhookSender({
    target: opts.webhook,
    faults,
    signatureHeader: 'x-erp-signature',
    deliveryIdHeader: 'x-erp-delivery-id',
    eventTypeHeader: 'x-erp-event',
  })
  const csrf = new CsrfTokens()
  const reserves = opts.reservesStorageLocation ?? 'RSRV'
  const requireToken = opts.requireConcurrencyToken ?? true
  const saved = opts.stateFile ? readStateFile<ErpS4Saved>(opts.stateFile) : undefined
  if (saved) model.restore(saved.model)

  for (const o of opts.productionOrders ?? []) {
    if (model.productionOrders.has(o.ManufacturingOrder)) continue
    model.productionOrders.set(o.ManufacturingOrder, {
      ManufacturingOrder: o.ManufacturingOrder,
      Material: o.Material,
      ProductionPlant: o.ProductionPlant,
      TotalQuantity: parseQuantity(o.TotalQuantity, 'TotalQuantity'),
      ProductionUnit: o.ProductionUnit ?? 'PC',
      Batch: o.Batch ?? '',
      MfgOrderIsOnHold: false,
      MfgOrderHoldReason: '',
      LastChangeDateTime: model.tick(),
      holdChanges: 0,
    })
  }
  const addDelivery = (d: DeliverySeed, blockReason = '') =>
    model.deliveries.set(d.DeliveryDocument, {
      DeliveryDocument: d.DeliveryDocument,
      ShipToParty: d.ShipToParty,
      SoldToParty: d.SoldToParty ?? d.ShipToParty,
      DeliveryBlockReason: blockReason,
      LastChangeDateTime: model.tick(),
      blockChanges: 0,
      items: d.items.map((it, i) => ({
        DeliveryDocumentItem: String((i + 1) * 10).padStart(6, '0'),
        Material: it.Material,
        Plant: it.Plant,
        Batch: it.Batch,
        quantity: parseQuantity(it.quantity, 'quantity'),
        DeliveryQuantityUnit: it.unit ?? 'PC',
      })),
    })
  for (const d of opts.deliveries ?? []) if (!model.deliveries.has(d.DeliveryDocument)) addDelivery(d)

  const router = new Router(async (req, next) => {
    csrf.check(req)
    const issued = csrf.issueIfAsked(req)
    const res: SimResponse = await next(req)
    return { ...res, headers: { ...(res.headers ?? {}), ...issued } }
  })
  const hooks: PostingHooks = {
    openInspectionLot: (doc, item) => openLotForReceipt(model, doc, item),
    goodsReceiptPosted: (doc, item) => recordGoodsReceipt(model, webhooks, doc, item),
    goodsReceiptReversed: (doc, item) => recordGoodsReceiptReversal(model, webhooks, doc, item),
  }
  registerMaterialDocumentRoutes(router, model, hooks)
  registerInspectionLotRoutes(router, model, hooks, {
    requireConcurrencyToken: requireToken,
    reservesStorageLocation: reserves,
  })
  registerStockRoutes(router, model, reserves)
  registerOrderRoutes(router, model, requireToken)
  const suppliers = new Map<string, Supplier>(
    (opts.suppliers ?? ['SUP-7']).map((id) => [
      id,
      {
        Supplier: id,
        SupplierName: `Supplier ${id}`,
        PurchasingIsBlocked: false,
        PostingIsBlocked: false,
        LastChangeDateTime: model.tick(),
        blockChanges: 0,
      },
    ]),
  )
  for (const x of saved?.suppliers ?? []) suppliers.set(x.Supplier, x)
  registerSupplierRoutes(router, model, suppliers, requireToken)
  const confirmations: Confirmation[] = [...(saved?.confirmations ?? [])]
  registerConfirmationRoutes(router, model, confirmations)
  registerFeedRoutes(router, model)
  const plans: InspectionPlanVersion[] = [...(saved?.inspectionPlans ?? [])]
  registerInspectionPlanRoutes(router, plans)
  // Service documents and $metadata: where clients usually fetch their CSRF token.
  router.on('GET', /^\/sap\/opu\/odata\/sap\/([^/]+)\/?(\$metadata)?$/, (req) =>
    req.params[1]
      ? {
          status: 200,
          contentType: 'application/xml',
          body: `<?xml version="1.0"?><edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx"><!-- ${req.params[0]} (simulated; see docs/simulators.md) --></edmx:Edmx>`,
        }
      : { status: 200, body: { d: { EntitySets: [] } } },
  )

  const state = (): ErpS4State => ({
    ...snapshot(model, http, faults),
    suppliers: [...suppliers.values()].map((x) => ({
      supplier: x.Supplier,
      purchasingBlocked: x.PurchasingIsBlocked,
      blockChanges: x.blockChanges,
    })),
    confirmations: confirmations.map((c) => ({
      order: c.OrderID,
      operation: c.OrderOperation,
      yieldQuantity: c.yieldQuantity,
      text: c.ConfirmationText,
      postedOnHold: c.postedOnHold,
    })),
    inspectionPlans: plans.map((p) => ({
      plan: `${p.InspectionPlanGroup}/${p.InspectionPlan}`,
      version: p.InspectionPlanInternalVersion,
      materials: p.materials.map((m) => m.Material),
    })),
  })
  let beforeAnswer: HttpSimOptions['beforeAnswer']
  const http = await startHttpSim({
    beforeAnswer: (req, out) => beforeAnswer?.(req, out),
    host: opts.host,
    port: opts.port,
    router,
    faults,
    state,
    notFound: (req) => {
      const e = odataError(
        404,
        '/IWFND/MED/170',
        `No service found for namespace, name or version: ${req.path}`,
      )
      return { status: e.status, body: e.body }
    },
  })
  const saver = opts.stateFile
    ? writeStateFile(
        opts.stateFile,
        (): ErpS4Saved => ({
          model: model.dump(),
          suppliers: [...suppliers.values()],
          confirmations,
          inspectionPlans: plans,
        }),
      )
    : undefined
  return {
    url: http.url,
    get state() {
      return state()
    },
    faults,
    model,
    webhooks,
    csrf,
    get beforeAnswer() {
      return beforeAnswer
    },
    set beforeAnswer(hook) {
      beforeAnswer = hook
    },
    createDelivery: (d, blockReason) => {
      addDelivery(d, blockReason)
    },
    upsertInspectionPlan: (plan) => {
      const v = upsertInspectionPlan(plans, plan, () => model.tick())
      return {
        plan: `${v.InspectionPlanGroup}/${v.InspectionPlan}`,
        version: v.InspectionPlanInternalVersion,
      }
    },
    async close() {
      await webhooks.stop()
      await http.close()
      saver?.close()
    },
  }
}

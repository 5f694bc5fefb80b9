/**
 * API_INSPECTIONLOT_SRV: A_InspectionLot, A_InspLotUsageDecision, A_InspLotMatlDocItem
 * (field names from quality-domain.md §1.2–1.4). The usage decision and its stock postings are
 * separate calls, as in SAP; once InspLotQtyToBePosted is zero a further posting is refused with
 * the "QA 185" style error connectors treat as "already posted".
 */
import type { Router } from '../shared/http.ts'
import { formatQuantity, parseQuantity, type QuantityError } from '../shared/quantity.ts'
import { checkConcurrency } from './concurrency.ts'
import { type PostingHooks, postMaterialDocument } from './material-documents.ts'
import type {
  InspectionLot,
  MaterialDocument,
  MaterialDocumentItem,
  S4Model,
  UdBucket,
  UsageDecision,
} from './model.ts'
import { UD_STOCK_TYPES } from './movements.ts'
import {
  bodyObject,
  collection,
  dateTime,
  dateTimeOffset,
  etagFor,
  type ODataRecord,
  odataError,
  parseKey,
  single,
  str,
  withMeta,
} from './odata.ts'

export const LOT_BASE = '/sap/opu/odata/sap/API_INSPECTIONLOT_SRV'
const NS = 'API_INSPECTIONLOT_SRV'
const UD_BUCKETS: UdBucket[] = ['free', 'scrap', 'sample', 'blocked', 'reserves', 'newMaterial', 'returned']

export function toBePosted(lot: InspectionLot): number {
  return lot.stockRelevant ? lot.quantity - UD_BUCKETS.reduce((s, b) => s + lot.posted[b], 0) : 0
}

function emptyPosted(): Record<UdBucket, number> {
  return { free: 0, scrap: 0, sample: 0, blocked: 0, reserves: 0, newMaterial: 0, returned: 0 }
}

export function openLotForReceipt(
  model: S4Model,
  doc: MaterialDocument,
  item: MaterialDocumentItem,
): InspectionLot {
  // Origin 01 for a purchase-order receipt, 04 for a production-order receipt, 05 otherwise (§1.1).
  const origin = item.PurchaseOrder ? '01' : item.ManufacturingOrder ? '04' : '05'
  const now = model.tick()
  const lot: InspectionLot = {
    InspectionLot: model.nextLotNumber(origin),
    InspectionLotOrigin: origin,
    InspectionLotType: origin,
    Material: item.Material,
    Plant: item.Plant,
    Batch: item.Batch,
    StorageLocation: item.StorageLocation,
    Supplier: item.Supplier,
    PurchasingDocument: item.PurchaseOrder,
    PurchasingDocumentItem: item.PurchaseOrderItem,
    ManufacturingOrder: item.ManufacturingOrder,
    MaterialDocument: doc.MaterialDocument,
    MaterialDocumentYear: doc.MaterialDocumentYear,
    InspectionLotText: '',
    unit: item.EntryUnit,
    quantity: item.quantity,
    stockRelevant: true,
    createdAt: now,
    changedAt: now,
    posted: emptyPosted(),
  }
  model.lots.set(lot.InspectionLot, lot)
  return lot
}

export function lotView(lot: InspectionLot): ODataRecord {
  const rest = toBePosted(lot)
  const q = (b: UdBucket) => formatQuantity(lot.posted[b])
  return withMeta(
    LOT_BASE,
    'A_InspectionLot',
    `${NS}.A_InspectionLotType`,
    { InspectionLot: lot.InspectionLot },
    {
      InspectionLot: lot.InspectionLot,
      Material: lot.Material,
      Batch: lot.Batch,
      Plant: lot.Plant,
      StorageLocation: lot.StorageLocation,
      InspectionLotOrigin: lot.InspectionLotOrigin,
      InspectionLotType: lot.InspectionLotType,
      InspectionLotText: lot.InspectionLotText,
      InspectionLotQuantity: formatQuantity(lot.quantity),
      InspectionLotQuantityUnit: lot.unit,
      Supplier: lot.Supplier,
      PurchasingDocument: lot.PurchasingDocument,
      PurchasingDocumentItem: lot.PurchasingDocumentItem,
      ManufacturingOrder: lot.ManufacturingOrder,
      MaterialDocument: lot.MaterialDocument,
      MaterialDocumentYear: lot.MaterialDocumentYear,
      InspLotQtyToFree: q('free'),
      InspLotQtyToScrap: q('scrap'),
      InspLotQtyToSample: q('sample'),
      InspLotQtyToBlocked: q('blocked'),
      InspLotQtyToReserves: q('reserves'),
      InspLotQtyToAnotherMaterial: q('newMaterial'),
      InspLotQtyReturnedToSupplier: q('returned'),
      InspLotQtyToBePosted: formatQuantity(rest),
      InspectionLotHasUsageDecision: lot.usageDecision !== undefined,
      InspLotIsStockPostingCompleted: lot.stockRelevant && lot.usageDecision !== undefined && rest === 0,
      InspectionLotCreatedOn: dateTime(lot.createdAt),
      ChangedDateTime: dateTimeOffset(lot.changedAt),
    },
    etagFor(lot.changedAt),
  )
}

function udView(ud: UsageDecision): ODataRecord {
  return withMeta(
    LOT_BASE,
    'A_InspLotUsageDecision',
    `${NS}.A_InspLotUsageDecisionType`,
    { InspectionLot: ud.InspectionLot },
    {
      InspectionLot: ud.InspectionLot,
      InspLotUsageDecisionLevel: ud.InspLotUsageDecisionLevel,
      InspLotUsageDecisionCatalog: '3',
      InspLotUsageDecisionCodeGroup: ud.InspLotUsageDecisionCodeGroup,
      InspectionLotUsageDecisionCode: ud.InspectionLotUsageDecisionCode,
      InspLotUsageDecisionValuation: ud.InspLotUsageDecisionValuation,
      InspectionLotQualityScore: ud.InspectionLotQualityScore,
      InspLotUsgeDcsnFollowUpAction: ud.InspLotUsgeDcsnFollowUpAction,
      InspectionLotUsageDecidedBy: ud.InspectionLotUsageDecidedBy,
      InspectionLotUsageDecidedOn: dateTime(ud.InspectionLotUsageDecidedOn),
      ChangedDateTime: dateTimeOffset(ud.ChangedDateTime),
    },
    etagFor(ud.ChangedDateTime),
  )
}

function postingView(p: S4Model['lotPostings'][number]): ODataRecord {
  const key = { InspectionLot: p.InspectionLot, InspLotMatlDocItem: p.InspLotMatlDocItem }
  return withMeta(LOT_BASE, 'A_InspLotMatlDocItem', `${NS}.A_InspLotMatlDocItemType`, key, {
    ...key,
    MaterialDocumentYear: p.MaterialDocumentYear,
    MaterialDocument: p.MaterialDocument,
    MaterialDocumentItem: p.MaterialDocumentItem,
    InspLotQtyPosted: formatQuantity(p.quantity),
    UsageDecisionStockType: p.UsageDecisionStockType,
    StorageLocation: p.StorageLocation,
    InspLotMaterialPostedTo: p.InspLotMaterialPostedTo,
    InspLotBatchTransferredTo: p.InspLotBatchTransferredTo,
    PostingDate: dateTime(p.PostedAt),
  })
}

export interface LotRouteOptions {
  readonly requireConcurrencyToken: boolean
  /** Storage location that holds reserve samples (VMENGE05). */
  readonly reservesStorageLocation: string
}

export function registerInspectionLotRoutes(
  router: Router,
  model: S4Model,
  hooks: PostingHooks,
  opts: LotRouteOptions,
): void {
  const B = LOT_BASE.replace(/\//g, '\\/')
  const getLot = (key: string): InspectionLot => {
    const lot = model.lots.get(key)
    if (!lot) throw odataError(404, 'QA/010', `Inspection lot ${key} does not exist`)
    return lot
  }

  router.on('GET', new RegExp(`^${B}/A_InspectionLot$`), (req) =>
    collection(req, [...model.lots.values()].map(lotView)),
  )
  router.on('GET', new RegExp(`^${B}/A_InspectionLot\\(([^)]*)\\)$`), (req) =>
    single(lotView(getLot(parseKey(req.params[0]!, ['InspectionLot']).InspectionLot!))),
  )
  router.on('POST', new RegExp(`^${B}/A_InspectionLot$`), (req) => {
    // The API creates origin-89 lots only; receipt lots arise from goods movements (§1.1).
    const b = bodyObject(req)
    const origin = str(b, 'InspectionLotOrigin') || '89'
    if (origin !== '89')
      throw odataError(400, 'QA/011', `Origin ${origin} lots cannot be created through the API; only 89`)
    let quantity: number
    try {
      quantity = parseQuantity(b.InspectionLotQuantity ?? '0', 'InspectionLotQuantity')
    } catch (err) {
      throw odataError(400, 'SY/530', (err as QuantityError).message)
    }
    const now = model.tick()
    const lot: InspectionLot = {
      InspectionLot: model.nextLotNumber('89'),
      InspectionLotOrigin: '89',
      InspectionLotType: '89',
      Material: str(b, 'Material', true),
      Plant: str(b, 'Plant', true),
      Batch: str(b, 'Batch'),
      StorageLocation: str(b, 'StorageLocation'),
      Supplier: '',
      PurchasingDocument: '',
      PurchasingDocumentItem: '',
      ManufacturingOrder: '',
      MaterialDocument: '',
      MaterialDocumentYear: '',
      InspectionLotText: str(b, 'InspectionLotText'),
      unit: str(b, 'InspectionLotQuantityUnit') || 'PC',
      quantity,
      stockRelevant: false,
      createdAt: now,
      changedAt: now,
      posted: emptyPosted(),
    }
    model.lots.set(lot.InspectionLot, lot)
    return single(lotView(lot), 201)
  })
  router.on(['PATCH', 'MERGE'], new RegExp(`^${B}/A_InspectionLot\\(([^)]*)\\)$`), (req) => {
    const lot = getLot(parseKey(req.params[0]!, ['InspectionLot']).InspectionLot!)
    const b = bodyObject(req)
    checkConcurrency(req, lot.changedAt, b, 'ChangedDateTime', opts.requireConcurrencyToken)
    if (typeof b.InspectionLotText === 'string')
      (lot as { InspectionLotText: string }).InspectionLotText = b.InspectionLotText
    lot.changedAt = model.tick()
    return { status: 204, headers: { etag: etagFor(lot.changedAt) } }
  })

  router.on('GET', new RegExp(`^${B}/A_InspLotUsageDecision$`), (req) =>
    collection(
      req,
      [...model.lots.values()].flatMap((l) => (l.usageDecision ? [udView(l.usageDecision)] : [])),
    ),
  )
  router.on('GET', new RegExp(`^${B}/A_InspLotUsageDecision\\(([^)]*)\\)$`), (req) => {
    const lot = getLot(parseKey(req.params[0]!, ['InspectionLot']).InspectionLot!)
    if (!lot.usageDecision)
      throw odataError(404, 'QA/102', `No usage decision for inspection lot ${lot.InspectionLot}`)
    return single(udView(lot.usageDecision))
  })
  router.on('POST', new RegExp(`^${B}/A_InspLotUsageDecision$`), (req) => {
    const b = bodyObject(req)
    const lot = getLot(str(b, 'InspectionLot', true))
    checkConcurrency(req, lot.changedAt, undefined, 'ChangedDateTime', false)
    if (lot.usageDecision) {
      throw odataError(
        400,
        'QA/094',
        `Usage decision for inspection lot ${lot.InspectionLot} has already been made`,
      )
    }
    const code = str(b, 'InspectionLotUsageDecisionCode', true)
    const now = model.tick()
    lot.usageDecision = {
      InspectionLot: lot.InspectionLot,
      InspLotUsageDecisionLevel: str(b, 'InspLotUsageDecisionLevel') || 'L',
      InspLotUsageDecisionCodeGroup: str(b, 'InspLotUsageDecisionCodeGroup'),
      InspectionLotUsageDecisionCode: code,
      InspLotUsageDecisionValuation:
        str(b, 'InspLotUsageDecisionValuation') || (code.startsWith('R') ? 'R' : 'A'),
      InspectionLotQualityScore: str(b, 'InspectionLotQualityScore'),
      InspLotUsgeDcsnFollowUpAction: str(b, 'InspLotUsgeDcsnFollowUpAction'),
      InspectionLotUsageDecidedBy: str(b, 'InspectionLotUsageDecidedBy') || 'QUALINK',
      InspectionLotUsageDecidedOn: now,
      ChangedDateTime: now,
    }
    lot.changedAt = now
    return single(udView(lot.usageDecision), 201)
  })
  router.on(['PATCH', 'MERGE'], new RegExp(`^${B}/A_InspLotUsageDecision\\(([^)]*)\\)$`), (req) => {
    const lot = getLot(parseKey(req.params[0]!, ['InspectionLot']).InspectionLot!)
    const ud = lot.usageDecision
    if (!ud) throw odataError(404, 'QA/102', `No usage decision for inspection lot ${lot.InspectionLot}`)
    const b = bodyObject(req)
    checkConcurrency(req, ud.ChangedDateTime, b, 'ChangedDateTime', opts.requireConcurrencyToken)
    for (const f of [
      'InspectionLotUsageDecisionCode',
      'InspLotUsageDecisionCodeGroup',
      'InspLotUsageDecisionValuation',
      'InspectionLotQualityScore',
      'InspLotUsgeDcsnFollowUpAction',
    ] as const) {
      if (typeof b[f] === 'string') ud[f] = b[f] as string
    }
    ud.ChangedDateTime = lot.changedAt = model.tick()
    return { status: 204, headers: { etag: etagFor(ud.ChangedDateTime) } }
  })

  router.on('GET', new RegExp(`^${B}/A_InspLotMatlDocItem$`), (req) =>
    collection(
      req,
      model.lotPostings.map((p) => postingView(p)),
    ),
  )
  router.on('GET', new RegExp(`^${B}/A_InspectionLot\\(([^)]*)\\)/to_InspLotMatlDocItem$`), (req) => {
    const lot = getLot(parseKey(req.params[0]!, ['InspectionLot']).InspectionLot!)
    return collection(
      req,
      model.lotPostings.filter((p) => p.InspectionLot === lot.InspectionLot).map((p) => postingView(p)),
    )
  })
  router.on('POST', new RegExp(`^${B}/A_InspLotMatlDocItem$`), (req) => {
    const b = bodyObject(req)
    const lot = getLot(str(b, 'InspectionLot', true))
    checkConcurrency(req, lot.changedAt, b, 'ChangedDateTime', opts.requireConcurrencyToken)
    if (!lot.usageDecision)
      throw odataError(400, 'QA/102', `Make the usage decision for inspection lot ${lot.InspectionLot} first`)
    if (!lot.stockRelevant)
      throw odataError(400, 'QA/240', `Inspection lot ${lot.InspectionLot} is not stock-relevant`)
    const rest = toBePosted(lot)
    if (rest === 0) {
      throw odataError(
        400,
        'QA/185',
        `QA 185: Stock postings for inspection lot ${lot.InspectionLot} have already been completed`,
      )
    }
    const st = str(b, 'UsageDecisionStockType', true)
    const rule = UD_STOCK_TYPES[st]
    if (!rule) throw odataError(400, 'QA/187', `UsageDecisionStockType ${st} is not one of VMENGE01–VMENGE07`)
    let qty: number
    try {
      qty = parseQuantity(b.InspLotQtyPosted, 'InspLotQtyPosted')
    } catch (err) {
      throw odataError(400, 'SY/530', (err as QuantityError).message)
    }
    if (qty <= 0) throw odataError(400, 'SY/530', 'InspLotQtyPosted must be > 0')
    if (qty > rest) {
      throw odataError(
        400,
        'QA/186',
        `Quantity ${formatQuantity(qty)} exceeds the quantity still to be posted, ${formatQuantity(rest)}`,
      )
    }
    const postedTo = str(b, 'InspLotMaterialPostedTo')
    const batchTo = str(b, 'InspLotBatchTransferredTo')
    if (rule.bucket === 'newMaterial' && !postedTo && !batchTo) {
      throw odataError(400, 'QA/188', 'VMENGE06 needs InspLotMaterialPostedTo or InspLotBatchTransferredTo')
    }
    const sloc =
      rule.bucket === 'reserves'
        ? opts.reservesStorageLocation
        : str(b, 'StorageLocation') || lot.StorageLocation
    const doc = postMaterialDocument(
      model,
      {
        GoodsMovementCode: ['321', '350', '309'].includes(rule.movementType) ? '04' : '03',
        ReferenceDocument: lot.InspectionLot,
        items: [
          {
            Material: lot.Material,
            Plant: lot.Plant,
            Batch: lot.Batch,
            StorageLocation: sloc,
            GoodsMovementType: rule.movementType,
            InventoryStockType: '02',
            IssuingOrReceivingStockType: rule.bucket === 'newMaterial' ? '01' : '',
            IssgOrRcvgMaterial: postedTo,
            IssgOrRcvgBatch: batchTo,
            QuantityInEntryUnit: formatQuantity(qty),
            EntryUnit: lot.unit,
            InspectionLot: lot.InspectionLot,
          },
        ],
        internalTo: [rule.ledger],
      },
      hooks,
    )
    lot.posted[rule.bucket] += qty
    lot.changedAt = model.tick()
    const posting = {
      InspectionLot: lot.InspectionLot,
      InspLotMatlDocItem: String(
        model.lotPostings.filter((p) => p.InspectionLot === lot.InspectionLot).length + 1,
      ),
      MaterialDocumentYear: doc.MaterialDocumentYear,
      MaterialDocument: doc.MaterialDocument,
      MaterialDocumentItem: '1',
      UsageDecisionStockType: st,
      bucket: rule.bucket,
      quantity: qty,
      StorageLocation: sloc,
      InspLotMaterialPostedTo: postedTo,
      InspLotBatchTransferredTo: batchTo,
      PostedAt: doc.CreationDateTime,
    }
    model.lotPostings.push(posting)
    return single(postingView(posting), 201)
  })
}

/**
 * API_MATERIAL_DOCUMENT_SRV: goods movements as material documents (deep insert of
 * A_MaterialDocumentHeader with to_MaterialDocumentItem) and the /Cancel function import.
 * Like SAP, nothing here deduplicates: posting the same payload twice makes two documents.
 * A connector finds its own earlier posting by filtering on MaterialDocumentHeaderText.
 */
import type { Router, SimRequest } from '../shared/http.ts'
import { formatQuantity, parseQuantity, QuantityError } from '../shared/quantity.ts'
import { type Bucket, type LotKey, type Movement, StockDeficitError } from '../shared/stock-ledger.ts'
import type { InspectionLot, MaterialDocument, MaterialDocumentItem, S4Model } from './model.ts'
import { MovementError, resolveMovement, reversalType } from './movements.ts'
import {
  bodyObject,
  collection,
  dateTime,
  type ODataRecord,
  odataError,
  parseKey,
  single,
  str,
  withMeta,
} from './odata.ts'

export const MATDOC_BASE = '/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV'
const NS = 'API_MATERIAL_DOCUMENT_SRV'

export interface PostingHooks {
  /** A receipt into QI stock of a QM-active material opens an inspection lot (origin 01/04/05). */
  openInspectionLot(doc: MaterialDocument, item: MaterialDocumentItem): InspectionLot
  goodsReceiptPosted(doc: MaterialDocument, item: MaterialDocumentItem): void
  /** A receipt item was reversed (102/502): `item` is the reversal document's item. */
  goodsReceiptReversed?(reversal: MaterialDocument, item: MaterialDocumentItem): void
}

export interface PostingInput {
  GoodsMovementCode: string
  PostingDate?: number
  DocumentDate?: number
  MaterialDocumentHeaderText?: string
  ReferenceDocument?: string
  items: Array<Record<string, unknown>>
  /** Destination bucket per item, for UD postings whose bucket the movement type alone does not fix. */
  internalTo?: Array<Bucket | undefined>
}

function fail(err: unknown): never {
  if (err instanceof StockDeficitError) throw odataError(400, 'M7/021', err.message)
  if (err instanceof MovementError || err instanceof QuantityError)
    throw odataError(400, 'M7/001', err.message)
  throw err
}

export function postMaterialDocument(
  model: S4Model,
  input: PostingInput,
  hooks: PostingHooks,
): MaterialDocument {
  const code = input.GoodsMovementCode
  if (!/^0[1-7]$/.test(code)) throw odataError(400, 'M7/001', `GoodsMovementCode '${code}' is not 01–07`)
  if (input.items.length === 0) throw odataError(400, 'M7/001', 'Document contains no items')
  const now = model.tick()
  const items: MaterialDocumentItem[] = []
  const movements: Movement[] = []
  try {
    input.items.forEach((raw, i) => {
      const Material = str(raw, 'Material', true)
      const Plant = str(raw, 'Plant', true)
      const Batch = str(raw, 'Batch', true)
      const mt = str(raw, 'GoodsMovementType', true)
      const quantity = parseQuantity(
        raw.QuantityInEntryUnit,
        `to_MaterialDocumentItem[${i}].QuantityInEntryUnit`,
      )
      if (quantity <= 0)
        throw new QuantityError(`to_MaterialDocumentItem[${i}].QuantityInEntryUnit must be > 0`)
      const mat = model.material(Material)
      const stockType = str(raw, 'InventoryStockType')
      const rcvType = str(raw, 'IssuingOrReceivingStockType')
      const base = resolveMovement(mt, code, stockType, rcvType, mat.inspectionRelevant)
      const override = input.internalTo?.[i]
      const resolved = override ? { ...base, to: override } : base
      const key: LotKey = { material: Material, plant: Plant, batch: Batch }
      let counterKey: LotKey | undefined
      if (mt === '309') {
        counterKey = {
          material: str(raw, 'IssgOrRcvgMaterial') || Material,
          plant: Plant,
          batch: str(raw, 'IssgOrRcvgBatch') || Batch,
        }
        movements.push({ key, from: resolved.from, to: 'external', qty: quantity })
        movements.push({ key: counterKey, from: 'external', to: resolved.to, qty: quantity })
      } else movements.push({ key, from: resolved.from, to: resolved.to, qty: quantity })
      items.push({
        MaterialDocumentItem: String(i + 1),
        Material,
        Plant,
        StorageLocation: str(raw, 'StorageLocation'),
        Batch,
        GoodsMovementType: mt,
        InventoryStockType: stockType || (resolved.to === 'qi' ? '02' : '01'),
        IssuingOrReceivingStockType: rcvType,
        IssgOrRcvgMaterial: str(raw, 'IssgOrRcvgMaterial'),
        IssgOrRcvgBatch: str(raw, 'IssgOrRcvgBatch'),
        PurchaseOrder: str(raw, 'PurchaseOrder'),
        PurchaseOrderItem: str(raw, 'PurchaseOrderItem'),
        ManufacturingOrder: str(raw, 'ManufacturingOrder'),
        Supplier: str(raw, 'Supplier'),
        GoodsMovementReasonCode: str(raw, 'GoodsMovementReasonCode'),
        EntryUnit: str(raw, 'EntryUnit') || mat.baseUnit,
        quantity,
        from: resolved.from,
        to: resolved.to,
        key,
        counterKey,
        InspectionLot: str(raw, 'InspectionLot'),
        GoodsMovementIsCancelled: false,
        ReversedMaterialDocument: str(raw, 'ReversedMaterialDocument'),
        ReversedMaterialDocumentYear: str(raw, 'ReversedMaterialDocumentYear'),
        ReversedMaterialDocumentItem: str(raw, 'ReversedMaterialDocumentItem'),
      })
    })
    model.ledger.apply(movements)
  } catch (err) {
    fail(err)
  }
  const posting = input.PostingDate ?? now
  const doc: MaterialDocument = {
    MaterialDocumentYear: String(new Date(posting).getUTCFullYear()),
    MaterialDocument: model.nextDocumentNumber(),
    GoodsMovementCode: code,
    PostingDate: posting,
    DocumentDate: input.DocumentDate ?? posting,
    MaterialDocumentHeaderText: input.MaterialDocumentHeaderText ?? '',
    ReferenceDocument: input.ReferenceDocument ?? '',
    CreationDateTime: now,
    items,
  }
  model.documents.push(doc)
  for (const item of items) {
    const isReceipt = item.from === 'external' && ['101', '501'].includes(item.GoodsMovementType)
    if (!isReceipt) continue
    if (item.to === 'qi' && model.material(item.Material).inspectionRelevant) {
      item.InspectionLot = hooks.openInspectionLot(doc, item).InspectionLot
    }
    hooks.goodsReceiptPosted(doc, item)
  }
  return doc
}

export function cancelMaterialDocument(model: S4Model, year: string, number: string): MaterialDocument {
  const doc = model.findDocument(year, number)
  if (!doc) throw odataError(404, 'M7/060', `Material document ${number} ${year} does not exist`)
  if (doc.items.some((i) => i.ReversedMaterialDocument)) {
    throw odataError(400, 'M7/112', `Document ${number} is itself a reversal and cannot be cancelled`)
  }
  if (doc.items.every((i) => i.GoodsMovementIsCancelled)) {
    throw odataError(400, 'M7/111', `Material document ${number} ${year} has already been cancelled`)
  }
  for (const it of doc.items) {
    const lot = it.InspectionLot ? model.lots.get(it.InspectionLot) : undefined
    if (lot && Object.values(lot.posted).some((q) => q > 0)) {
      throw odataError(400, 'QA/421', `Inspection lot ${lot.InspectionLot} already has stock postings`)
    }
    if (lot && it.to !== 'qi')
      throw odataError(400, 'QA/422', 'Reverse UD stock postings through the usage decision')
  }
  const movements: Movement[] = []
  for (const it of doc.items) {
    if (it.counterKey) {
      movements.push({ key: it.counterKey, from: it.to, to: 'external', qty: it.quantity })
      movements.push({ key: it.key, from: 'external', to: it.from, qty: it.quantity })
    } else movements.push({ key: it.key, from: it.to, to: it.from, qty: it.quantity })
  }
  try {
    model.ledger.apply(movements)
  } catch (err) {
    fail(err)
  }
  const now = model.tick()
  const reversal: MaterialDocument = {
    MaterialDocumentYear: String(new Date(now).getUTCFullYear()),
    MaterialDocument: model.nextDocumentNumber(),
    GoodsMovementCode: '06',
    PostingDate: now,
    DocumentDate: now,
    MaterialDocumentHeaderText: doc.MaterialDocumentHeaderText,
    ReferenceDocument: doc.ReferenceDocument,
    CreationDateTime: now,
    items: doc.items.map((it) => ({
      ...it,
      GoodsMovementType: reversalType(it.GoodsMovementType),
      from: it.to,
      to: it.from,
      GoodsMovementIsCancelled: false,
      ReversedMaterialDocument: doc.MaterialDocument,
      ReversedMaterialDocumentYear: doc.MaterialDocumentYear,
      ReversedMaterialDocumentItem: it.MaterialDocumentItem,
    })),
  }
  for (const it of doc.items) it.GoodsMovementIsCancelled = true
  model.documents.push(reversal)
  return reversal
}

export function itemView(doc: MaterialDocument, it: MaterialDocumentItem): ODataRecord {
  const key = {
    MaterialDocumentYear: doc.MaterialDocumentYear,
    MaterialDocument: doc.MaterialDocument,
    MaterialDocumentItem: it.MaterialDocumentItem,
  }
  return withMeta(MATDOC_BASE, 'A_MaterialDocumentItem', `${NS}.A_MaterialDocumentItemType`, key, {
    ...key,
    Material: it.Material,
    Plant: it.Plant,
    StorageLocation: it.StorageLocation,
    Batch: it.Batch,
    GoodsMovementType: it.GoodsMovementType,
    InventoryStockType: it.InventoryStockType,
    IssuingOrReceivingStockType: it.IssuingOrReceivingStockType,
    IssgOrRcvgMaterial: it.IssgOrRcvgMaterial,
    IssgOrRcvgBatch: it.IssgOrRcvgBatch,
    PurchaseOrder: it.PurchaseOrder,
    PurchaseOrderItem: it.PurchaseOrderItem,
    ManufacturingOrder: it.ManufacturingOrder,
    Supplier: it.Supplier,
    GoodsMovementReasonCode: it.GoodsMovementReasonCode,
    QuantityInEntryUnit: formatQuantity(it.quantity),
    EntryUnit: it.EntryUnit,
    InspectionLot: it.InspectionLot,
    GoodsMovementIsCancelled: it.GoodsMovementIsCancelled,
    ReversedMaterialDocument: it.ReversedMaterialDocument,
    ReversedMaterialDocumentYear: it.ReversedMaterialDocumentYear,
    ReversedMaterialDocumentItem: it.ReversedMaterialDocumentItem,
  })
}

export function headerView(doc: MaterialDocument, expand: boolean): ODataRecord {
  const key = { MaterialDocumentYear: doc.MaterialDocumentYear, MaterialDocument: doc.MaterialDocument }
  const rec = withMeta(MATDOC_BASE, 'A_MaterialDocumentHeader', `${NS}.A_MaterialDocumentHeaderType`, key, {
    ...key,
    GoodsMovementCode: doc.GoodsMovementCode,
    PostingDate: dateTime(doc.PostingDate),
    DocumentDate: dateTime(doc.DocumentDate),
    CreationDate: dateTime(doc.CreationDateTime),
    MaterialDocumentHeaderText: doc.MaterialDocumentHeaderText,
    ReferenceDocument: doc.ReferenceDocument,
  })
  if (expand) rec.to_MaterialDocumentItem = { results: doc.items.map((it) => itemView(doc, it)) }
  return rec
}

function parseODataDate(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined
  const m = typeof v === 'string' ? /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(v) : null
  if (m) return Number(m[1])
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN
  if (Number.isNaN(t)) throw odataError(400, 'SY/530', `${field} is not an Edm.DateTime`)
  return t
}

function postingInput(req: SimRequest): PostingInput {
  const b = bodyObject(req)
  const nav = b.to_MaterialDocumentItem
  const list = Array.isArray(nav) ? nav : (nav as { results?: unknown } | undefined)?.results
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'object' || x === null)) {
    throw odataError(400, 'SY/530', 'to_MaterialDocumentItem must hold the items (deep insert)')
  }
  return {
    GoodsMovementCode: str(b, 'GoodsMovementCode', true),
    PostingDate: parseODataDate(b.PostingDate, 'PostingDate'),
    DocumentDate: parseODataDate(b.DocumentDate, 'DocumentDate'),
    MaterialDocumentHeaderText: str(b, 'MaterialDocumentHeaderText'),
    ReferenceDocument: str(b, 'ReferenceDocument'),
    items: list as Array<Record<string, unknown>>,
  }
}

export function registerMaterialDocumentRoutes(router: Router, model: S4Model, hooks: PostingHooks): void {
  const B = MATDOC_BASE.replace(/\//g, '\\/')
  const expandItems = (req: SimRequest) =>
    (req.query.get('$expand') ?? '').includes('to_MaterialDocumentItem')
  router.on('GET', new RegExp(`^${B}/A_MaterialDocumentHeader$`), (req) =>
    collection(
      req,
      model.documents.map((d) => headerView(d, expandItems(req))),
    ),
  )
  router.on(
    'GET',
    new RegExp(`^${B}/A_MaterialDocumentHeader\\(([^)]*)\\)(/to_MaterialDocumentItem)?$`),
    (req) => {
      const k = parseKey(req.params[0]!, ['MaterialDocumentYear', 'MaterialDocument'])
      const doc = model.findDocument(k.MaterialDocumentYear!, k.MaterialDocument!)
      if (!doc) throw odataError(404, 'M7/060', `Material document ${k.MaterialDocument} does not exist`)
      if (req.params[1])
        return collection(
          req,
          doc.items.map((it) => itemView(doc, it)),
        )
      return single(headerView(doc, expandItems(req)))
    },
  )
  router.on('GET', new RegExp(`^${B}/A_MaterialDocumentItem$`), (req) =>
    collection(
      req,
      model.documents.flatMap((d) => d.items.map((it) => itemView(d, it))),
    ),
  )
  router.on('POST', new RegExp(`^${B}/A_MaterialDocumentHeader$`), (req) =>
    single(headerView(postMaterialDocument(model, postingInput(req), hooks), true), 201),
  )
  router.on('POST', new RegExp(`^${B}/Cancel$`), (req) => {
    const unq = (v: string | null) => (v ?? '').replace(/^'|'$/g, '')
    const rev = cancelMaterialDocument(
      model,
      unq(req.query.get('MaterialDocumentYear')),
      unq(req.query.get('MaterialDocument')),
    )
    for (const it of rev.items)
      if (['102', '502'].includes(it.GoodsMovementType)) hooks.goodsReceiptReversed?.(rev, it)
    return single(headerView(rev, true))
  })
}

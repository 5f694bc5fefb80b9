/**
 * ERPNext (Frappe) simulator: /api/resource for Quality Inspection, Stock Entry, Batch, Purchase
 * Receipt, Supplier, Purchase Order (refused for a blocked supplier: buying.ts), Item and Quality
 * Inspection Template (an item's inspection specification: item-quality.ts) and (read only)
 * Stock Ledger Entry. Submitting (docstatus 0 → 1) a Stock Entry or a
 * Purchase Receipt moves stock and writes its Stock Ledger Entries; cancelling (1 → 2) reverses it
 * (the entries are marked `is_cancelled`, as ERPNext does). A submitted Purchase Receipt is sent
 * to the configured webhook, signed the way Frappe signs. Like the real system it does not
 * deduplicate: the same POST twice makes two documents.
 */
import { type FaultConfig, Faults } from '../shared/faults.ts'
import { type HttpSim, Router, type SimRequest, startHttpSim } from '../shared/http.ts'
import { formatQuantity } from '../shared/quantity.ts'
import { type Bucket, StockLedger } from '../shared/stock-ledger.ts'
import { validatePurchaseOrder, validateSupplier } from './buying.ts'
import { bodyData, checkToken, type Doc, frappeError, frappeTimestamp, listDocs } from './frappe.ts'
import { TEMPLATE, validateItem, validateTemplate } from './item-quality.ts'
import { evaluateQualityInspection } from './quality-inspection.ts'
import { DEFAULT_WAREHOUSES, ErpNextStock, type LedgerLine } from './stock.ts'
import { FrappeWebhooks, type FrappeWebhookTarget } from './webhooks.ts'

export interface ErpNextOptions {
  readonly port?: number
  readonly host?: string
  readonly apiKey?: string
  readonly apiSecret?: string
  /** Warehouse name → ledger bucket. Default: Stores, Quality Inspection, Quarantine, Rejected, Scrap (- SIM). */
  readonly warehouses?: Record<string, Bucket>
  /** the company (ERPNext's plant) stock and new stock vouchers belong to; default Sim Company */
  readonly company?: string
  readonly faults?: Partial<FaultConfig>
  readonly clock?: () => number
  /** where a submitted Purchase Receipt is posted (Frappe Webhook on_submit) */
  readonly webhook?: FrappeWebhookTarget
  /** Supplier masters to start with (named by their id), none on hold */
  readonly suppliers?: readonly string[]
}

export interface ErpNextState {
  readonly docs: Record<string, Doc[]>
  readonly bins: Array<{ item: string; batch: string; warehouse: string; qty: number }>
  readonly stock: ReturnType<StockLedger['snapshot']>
  readonly counts: {
    submittedStockEntriesByBatch: Record<string, number>
    qualityInspections: number
    conservationViolations: string[]
  }
  readonly http: HttpSim['stats']
  readonly faultsInjected: Faults['counts']
}

export interface ErpNextSim {
  readonly url: string
  readonly state: ErpNextState
  readonly faults: Faults
  readonly webhooks: FrappeWebhooks
  close(): Promise<void>
}

const DOCTYPES = [
  'Quality Inspection',
  'Stock Entry',
  'Batch',
  'Purchase Receipt',
  'Stock Ledger Entry',
  'Supplier',
  'Purchase Order',
  'Item',
  'Quality Inspection Template',
] as const
type Doctype = (typeof DOCTYPES)[number]
const SERIES: Record<Doctype, string> = {
  'Quality Inspection': 'MAT-QA',
  'Stock Entry': 'MAT-STE',
  Batch: '',
  'Purchase Receipt': 'MAT-PRE',
  'Stock Ledger Entry': 'MAT-SLE',
  Supplier: '',
  'Purchase Order': 'PUR-ORD',
  Item: '',
  'Quality Inspection Template': '',
}
/** doctypes named by one of their fields rather than a series */
const NAMED_BY: Partial<Record<Doctype, string>> = {
  Batch: 'batch_id',
  Supplier: 'supplier_name',
  Item: 'item_code',
  'Quality Inspection Template': 'quality_inspection_template_name',
}
/** doctypes whose documents carry the `company` they belong to (mandatory in ERPNext) */
const STOCK_VOUCHERS: ReadonlySet<Doctype> = new Set(['Stock Entry', 'Purchase Receipt', 'Purchase Order'])

export async function startErpNext(opts: ErpNextOptions = {}): Promise<ErpNextSim> {
  const clock = opts.clock ?? Date.now
  const key = opts.apiKey ?? 'simkey'
  const secret = opts.apiSecret ?? 'simsecret'
  const faults = new Faults(opts.faults)
  const ledger = new StockLedger()
  const company = opts.company ?? 'Sim Company'
  const stock = new ErpNextStock(ledger, opts.warehouses ?? DEFAULT_WAREHOUSES, company)
  const docs = new Map<Doctype, Map<string, Doc>>(DOCTYPES.map((d) => [d, new Map()]))
  const counters = new Map<Doctype, number>()
  const webhooks = new FrappeWebhooks(opts.webhook, faults)
  let lastTick = 0
  const tick = () => {
    lastTick = Math.max(clock(), lastTick + 1)
    return frappeTimestamp(lastTick)
  }

  const doctypeOf = (raw: string): Doctype => {
    if (!DOCTYPES.includes(raw as Doctype)) throw frappeError('DoesNotExistError', `DocType ${raw} not found`)
    return raw as Doctype
  }
  const getDoc = (dt: Doctype, name: string): Doc => {
    const d = docs.get(dt)!.get(name)
    if (!d) throw frappeError('DoesNotExistError', `${dt} ${name} not found`)
    return d
  }
  const nextName = (dt: Doctype, body: Record<string, unknown>): string => {
    const field = NAMED_BY[dt]
    if (field) {
      // batches by batch_id, suppliers by Supplier Name, items by item_code, templates by their name
      const id = String(body[field] ?? body.name ?? '')
      if (!id) throw frappeError('MandatoryError', `[${dt}]: ${field}`)
      if (docs.get(dt)!.has(id)) throw frappeError('DuplicateEntryError', `${dt} ${id} already exists`)
      return id
    }
    const n = (counters.get(dt) ?? 0) + 1
    counters.set(dt, n)
    return `${SERIES[dt]}-${new Date(clock()).getUTCFullYear()}-${String(n).padStart(5, '0')}`
  }

  /** Runs validate, and on a docstatus change the submit/cancel side effects. */
  const save = (dt: Doctype, doc: Doc, prevStatus: number): void => {
    if (dt === 'Quality Inspection') evaluateQualityInspection(doc)
    if (dt === 'Supplier') validateSupplier(doc)
    if (dt === TEMPLATE) validateTemplate(doc)
    if (dt === 'Item') validateItem(doc, (name) => docs.get(TEMPLATE)!.get(name))
    if (dt === 'Purchase Order')
      validatePurchaseOrder(
        doc,
        (name) => docs.get('Supplier')!.get(name),
        new Date(clock()).toISOString().slice(0, 10),
      )
    if (dt === 'Batch') {
      doc.batch_id = doc.name
      if (!doc.item) throw frappeError('MandatoryError', '[Batch]: item')
    }
    if ((dt === 'Stock Entry' || dt === 'Purchase Receipt') && doc.docstatus !== prevStatus) {
      // a Purchase Receipt receives its accepted quantity into each row's warehouse
      const entry: Doc =
        dt === 'Stock Entry'
          ? doc
          : {
              ...doc,
              purpose: 'Material Receipt',
              items: ((doc.items as Array<Record<string, unknown>> | undefined) ?? []).map((it) => ({
                ...it,
                t_warehouse: it.warehouse,
              })),
            }
      if (prevStatus === 0 && doc.docstatus === 1) ledgerEntries(dt, doc, stock.post(entry, 1))
      else if (prevStatus === 1 && doc.docstatus === 2) {
        stock.post(entry, -1)
        for (const e of docs.get('Stock Ledger Entry')!.values())
          if (e.voucher_no === doc.name) e.is_cancelled = 1
      }
      if (dt === 'Purchase Receipt' && doc.docstatus === 1) doc.status = 'To Bill'
    }
    if (
      dt === 'Quality Inspection' &&
      doc.docstatus === 1 &&
      prevStatus === 0 &&
      doc.reference_type === 'Stock Entry'
    ) {
      // On submit the QI name is written into the referenced item row (matched by item and batch).
      const ref = docs.get('Stock Entry')!.get(String(doc.reference_name))
      for (const it of (ref?.items as Array<Record<string, unknown>> | undefined) ?? []) {
        if (it.item_code === doc.item_code && (!doc.batch_no || it.batch_no === doc.batch_no))
          it.quality_inspection = doc.name
      }
    }
    doc.modified = tick()
  }

  /** One Stock Ledger Entry per row and warehouse a submitted voucher moved (actual_qty signed). */
  const ledgerEntries = (dt: Doctype, voucher: Doc, lines: LedgerLine[]) => {
    for (const l of lines) {
      const name = nextName('Stock Ledger Entry', {})
      docs.get('Stock Ledger Entry')!.set(name, {
        name,
        doctype: 'Stock Ledger Entry',
        docstatus: 1,
        modified: tick(),
        item_code: l.item,
        batch_no: l.batch,
        warehouse: l.warehouse,
        actual_qty: Number(formatQuantity(l.qty)),
        stock_uom: l.uom,
        voucher_type: dt,
        voucher_no: voucher.name,
        is_cancelled: 0,
      })
    }
  }

  for (const id of opts.suppliers ?? []) {
    const now = tick()
    const doc: Doc = {
      name: id,
      doctype: 'Supplier',
      docstatus: 0,
      creation: now,
      modified: now,
      supplier_name: id,
    }
    save('Supplier', doc, 0)
    docs.get('Supplier')!.set(id, doc)
  }

  const router = new Router((req, next) => {
    checkToken(req, key, secret)
    return next(req)
  })
  router.on('GET', /^\/api\/resource\/([^/]+)$/, (req) => {
    const dt = doctypeOf(req.params[0]!)
    return {
      status: 200,
      body: listDocs(
        req,
        [...docs.get(dt)!.values()].map((d) => view(dt, d)),
      ),
    }
  })
  router.on('GET', /^\/api\/resource\/([^/]+)\/([^/]+)$/, (req) => {
    const dt = doctypeOf(req.params[0]!)
    return { status: 200, body: { data: view(dt, getDoc(dt, req.params[1]!)) } }
  })
  router.on('POST', /^\/api\/resource\/([^/]+)$/, (req) => {
    const dt = doctypeOf(req.params[0]!)
    if (dt === 'Stock Ledger Entry')
      throw frappeError('PermissionError', 'Stock Ledger Entries are written by submitted vouchers only')
    const body = bodyData(req)
    const docstatus = Number(body.docstatus ?? 0)
    if (docstatus !== 0 && docstatus !== 1)
      throw frappeError('DocstatusTransitionError', 'Cannot insert with docstatus 2')
    const now = tick()
    const doc: Doc = {
      // a stock voucher belongs to a company; ERPNext fills in the user's default one
      ...(STOCK_VOUCHERS.has(dt) ? { company } : {}),
      ...body,
      doctype: dt,
      name: nextName(dt, body),
      docstatus: 0,
      creation: now,
      modified: now,
      owner: 'Administrator',
    }
    doc.docstatus = docstatus
    save(dt, doc, 0)
    docs.get(dt)!.set(doc.name, doc)
    if (dt === 'Purchase Receipt' && doc.docstatus === 1) webhooks.send(view(dt, doc))
    return { status: 200, body: { data: view(dt, doc) } }
  })
  router.on('PUT', /^\/api\/resource\/([^/]+)\/([^/]+)$/, (req) => update(req))
  router.on('DELETE', /^\/api\/resource\/([^/]+)\/([^/]+)$/, (req) => {
    const dt = doctypeOf(req.params[0]!)
    const doc = getDoc(dt, req.params[1]!)
    if (doc.docstatus === 1)
      throw frappeError('ValidationError', 'Submitted Record cannot be deleted. You must Cancel it first.')
    docs.get(dt)!.delete(doc.name)
    return { status: 202, body: { data: 'ok' } }
  })

  function update(req: SimRequest) {
    const dt = doctypeOf(req.params[0]!)
    if (dt === 'Stock Ledger Entry')
      throw frappeError('PermissionError', 'Stock Ledger Entries are written by submitted vouchers only')
    const doc = getDoc(dt, req.params[1]!)
    const body = bodyData(req)
    if (body.modified !== undefined && body.modified !== doc.modified) {
      throw frappeError(
        'TimestampMismatchError',
        'Document has been modified after you have opened it. Please refresh to get the latest document.',
      )
    }
    const prev = doc.docstatus
    const next = body.docstatus === undefined ? prev : Number(body.docstatus)
    const allowed = (prev === 0 && (next === 0 || next === 1)) || (prev === 1 && (next === 1 || next === 2))
    if (!allowed)
      throw frappeError('DocstatusTransitionError', `Cannot change docstatus from ${prev} to ${next}`)
    const changes = Object.keys(body).filter((k) => !['docstatus', 'modified', 'name', 'doctype'].includes(k))
    if (prev !== 0 && changes.length > 0) {
      throw frappeError(
        'UpdateAfterSubmitError',
        `Not allowed to change ${changes.join(', ')} after submission`,
      )
    }
    const draft: Doc = {
      ...doc,
      ...body,
      name: doc.name,
      doctype: dt,
      docstatus: next,
      modified: doc.modified,
    }
    save(dt, draft, prev)
    docs.get(dt)!.set(doc.name, draft)
    if (dt === 'Purchase Receipt' && prev === 0 && draft.docstatus === 1) webhooks.send(view(dt, draft))
    return { status: 200, body: { data: view(dt, draft) } }
  }

  function view(dt: Doctype, d: Doc): Doc {
    return dt === 'Batch'
      ? { ...d, batch_qty: Number(formatQuantity(stock.batchQty(String(d.item), d.name))) }
      : { ...d }
  }

  const state = (): ErpNextState => {
    const byBatch: Record<string, number> = {}
    for (const se of docs.get('Stock Entry')!.values()) {
      if (se.docstatus !== 1) continue
      for (const it of se.items as Array<Record<string, unknown>>)
        byBatch[String(it.batch_no)] = (byBatch[String(it.batch_no)] ?? 0) + 1
    }
    return {
      docs: Object.fromEntries(
        DOCTYPES.map((dt) => [dt, [...docs.get(dt)!.values()].map((d) => view(dt, d))]),
      ),
      bins: [...stock.bins].map(([k, qty]) => {
        const [item, batch, warehouse] = k.split('|') as [string, string, string]
        return { item, batch, warehouse, qty }
      }),
      stock: ledger.snapshot(),
      counts: {
        submittedStockEntriesByBatch: byBatch,
        qualityInspections: docs.get('Quality Inspection')!.size,
        conservationViolations: ledger.violations(),
      },
      http: { ...http.stats },
      faultsInjected: { ...faults.counts },
    }
  }
  const http = await startHttpSim({
    host: opts.host,
    port: opts.port,
    router,
    faults,
    state,
    notFound: () => {
      const e = frappeError('DoesNotExistError', 'Not found')
      return { status: e.status, body: e.body }
    },
  })
  return {
    url: http.url,
    get state() {
      return state()
    },
    faults,
    webhooks,
    close: async () => {
      await webhooks.idle()
      await http.close()
    },
  }
}

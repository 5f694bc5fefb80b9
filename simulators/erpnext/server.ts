/**
 * ERPNext (Frappe) simulator: /api/resource for Quality Inspection, Stock Entry and Batch.
 * Submitting (docstatus 0 → 1) a Stock Entry moves stock; cancelling (1 → 2) reverses it.
 * Like the real system it does not deduplicate: the same POST twice makes two documents.
 */
import { type FaultConfig, Faults } from '../shared/faults.ts'
import { type HttpSim, Router, type SimRequest, startHttpSim } from '../shared/http.ts'
import { formatQuantity } from '../shared/quantity.ts'
import { type Bucket, StockLedger } from '../shared/stock-ledger.ts'
import { bodyData, checkToken, type Doc, frappeError, frappeTimestamp, listDocs } from './frappe.ts'
import { evaluateQualityInspection } from './quality-inspection.ts'
import { DEFAULT_WAREHOUSES, ErpNextStock } from './stock.ts'

export interface ErpNextOptions {
  readonly port?: number
  readonly host?: string
  readonly apiKey?: string
  readonly apiSecret?: string
  /** Warehouse name → ledger bucket. Default: Stores, Quality Inspection, Quarantine, Rejected, Scrap (- SIM). */
  readonly warehouses?: Record<string, Bucket>
  readonly company?: string
  readonly faults?: Partial<FaultConfig>
  readonly clock?: () => number
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
  close(): Promise<void>
}

const DOCTYPES = ['Quality Inspection', 'Stock Entry', 'Batch'] as const
type Doctype = (typeof DOCTYPES)[number]
const SERIES: Record<Doctype, string> = {
  'Quality Inspection': 'MAT-QA',
  'Stock Entry': 'MAT-STE',
  Batch: '',
}

export async function startErpNext(opts: ErpNextOptions = {}): Promise<ErpNextSim> {
  const clock = opts.clock ?? Date.now
  const key = opts.apiKey ?? 'simkey'
  const secret = opts.apiSecret ?? 'simsecret'
  const faults = new Faults(opts.faults)
  const ledger = new StockLedger()
  const stock = new ErpNextStock(ledger, opts.warehouses ?? DEFAULT_WAREHOUSES, opts.company ?? 'Sim Company')
  const docs = new Map<Doctype, Map<string, Doc>>(DOCTYPES.map((d) => [d, new Map()]))
  const counters = new Map<Doctype, number>()
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
    if (dt === 'Batch') {
      const id = String(body.batch_id ?? body.name ?? '')
      if (!id) throw frappeError('MandatoryError', '[Batch]: batch_id')
      if (docs.get(dt)!.has(id)) throw frappeError('DuplicateEntryError', `Batch ${id} already exists`)
      return id
    }
    const n = (counters.get(dt) ?? 0) + 1
    counters.set(dt, n)
    return `${SERIES[dt]}-${new Date(clock()).getUTCFullYear()}-${String(n).padStart(5, '0')}`
  }

  /** Runs validate, and on a docstatus change the submit/cancel side effects. */
  const save = (dt: Doctype, doc: Doc, prevStatus: number): void => {
    if (dt === 'Quality Inspection') evaluateQualityInspection(doc)
    if (dt === 'Batch') {
      doc.batch_id = doc.name
      if (!doc.item) throw frappeError('MandatoryError', '[Batch]: item')
    }
    if (dt === 'Stock Entry' && doc.docstatus !== prevStatus) {
      if (prevStatus === 0 && doc.docstatus === 1) stock.post(doc, 1)
      else if (prevStatus === 1 && doc.docstatus === 2) stock.post(doc, -1)
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
    const body = bodyData(req)
    const docstatus = Number(body.docstatus ?? 0)
    if (docstatus !== 0 && docstatus !== 1)
      throw frappeError('DocstatusTransitionError', 'Cannot insert with docstatus 2')
    const now = tick()
    const doc: Doc = {
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
    close: () => http.close(),
  }
}

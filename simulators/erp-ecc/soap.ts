/**
 * The ECC simulator's SOAP face: SOAP 1.1 calls of RFC-enabled function modules (SICF
 * /sap/bc/soap/rfc) over the same model and stock ledger as the IDoc inbound, and the WSDL that
 * describes them (soap-wsdl.ts).
 *
 * As in SAP, BAPIs answer business errors in their RETURN table (TYPE E, ID, NUMBER, MESSAGE) with
 * HTTP 200 and post nothing; a request the function module cannot even read (no SOAP envelope,
 * unknown function module, a required parameter missing or not a number) is a SOAP Fault
 * (SOAP 1.1 §4.4, HTTP 500, faultcode soap:Client) whose detail carries the same RETURN rows.
 * BAPI_GOODSMVT_CREATE commits in the call: against a real ECC a stateless SOAP call needs a
 * wrapper that runs BAPI_TRANSACTION_COMMIT after it, as public wrappers do (copyneto/abap-zmm
 * zfmmm_goodsmvt_create.abap). Nothing deduplicates: the same goods movement twice is two
 * material documents; a second usage decision on a lot is refused (QA 094-style "already made").
 */
import type { PostingHooks } from '../erp-s4/material-documents.ts'
import { postMaterialDocument } from '../erp-s4/material-documents.ts'
import type { InspectionLot, S4Model } from '../erp-s4/model.ts'
import { HttpError, type SimRequest, type SimResponse } from '../shared/http.ts'
import { formatQuantity, parseQuantity } from '../shared/quantity.ts'
import { getInspectionLotList, lotStockDetail } from './soap-insplot.ts'
import { RFC_NS, SOAP_OPERATIONS, wsdlFor } from './soap-wsdl.ts'
import { child, escapeXml, parseXml, rows, text, toXml, type XmlNode, type XmlTree } from './soap-xml.ts'

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/'
/** BAPI STCK_TYPE: blank unrestricted, X quality inspection, S blocked → the model's stock types. */
const STCK_TYPE: Record<string, string> = { '': '', X: '02', S: '07' }
const STCK_OF: Record<string, string> = { '01': '', '02': 'X', '07': 'S' }

export interface SoapFaceOptions {
  /** function modules offered (default: all); an older release lacks some */
  readonly operations?: readonly string[]
  /** a 350 into this storage location lands in the reserves bucket (retained samples) */
  readonly reservesStorageLocation?: string
}

type Msg = { type: 'E' | 'W' | 'S'; id: string; number: string; message: string }

/** A request the function module cannot read: answered as a SOAP Fault. */
class BadInput extends Error {
  constructor(
    readonly id: string,
    readonly number: string,
    message: string,
  ) {
    super(message)
  }
}

const returnTable = (msgs: readonly Msg[]): XmlTree[] =>
  msgs.map((m) => ({ TYPE: m.type, ID: m.id, NUMBER: m.number, MESSAGE: m.message }))

function envelope(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><soap-env:Envelope xmlns:soap-env="${SOAP_ENV}"><soap-env:Body>${inner}</soap-env:Body></soap-env:Envelope>`
}

function respond(op: string, out: XmlTree): SimResponse {
  return {
    status: 200,
    contentType: 'text/xml; charset=utf-8',
    body: envelope(`<rfc:${op}.Response xmlns:rfc="${RFC_NS}">${toXml(out)}</rfc:${op}.Response>`),
  }
}

export function soapFault(op: string, m: Msg, faultcode = 'soap-env:Client'): SimResponse {
  const detail = `<rfc:${op || 'RFC'}.Exception xmlns:rfc="${RFC_NS}"><Name>${m.id}_${m.number}</Name>${toXml({ RETURN: returnTable([m]) })}</rfc:${op || 'RFC'}.Exception>`
  return {
    status: 500,
    contentType: 'text/xml; charset=utf-8',
    body: envelope(
      `<soap-env:Fault><faultcode>${faultcode}</faultcode><faultstring>${escapeXml(m.message)}</faultstring><detail>${detail}</detail></soap-env:Fault>`,
    ),
  }
}

const e = (id: string, number: string, message: string): Msg => ({ type: 'E', id, number, message })

function required(el: XmlNode | undefined, field: string, what: string): string {
  const v = text(el, field)
  if (!v) throw new BadInput('BAPI', '001', `${what}-${field} is required`)
  return v
}

function yyyymmdd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '')
}

function ymd(v: string): number | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v)
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined
}

/** EQ values of a selection range (SIGN I, OPTION EQ); other options are refused. */
function eqRange(body: XmlNode, name: string): Set<string> | undefined {
  const r = rows(body, name)
  if (r.length === 0) return undefined
  return new Set(
    r.map((row, i) => {
      const sign = text(row, 'SIGN') || 'I'
      const option = text(row, 'OPTION') || 'EQ'
      if (sign !== 'I' || option !== 'EQ')
        throw new BadInput('BAPI', '002', `${name}[${i}]: only SIGN I with OPTION EQ is supported`)
      return text(row, 'LOW')
    }),
  )
}

export class SoapFace {
  private readonly offered: ReadonlySet<string>
  private readonly reservesSloc: string

  constructor(
    private readonly model: S4Model,
    private readonly hooks: PostingHooks,
    opts: SoapFaceOptions = {},
  ) {
    for (const op of opts.operations ?? [])
      if (!SOAP_OPERATIONS[op])
        throw new RangeError(
          `soap.operations: ${op} is not one of ${Object.keys(SOAP_OPERATIONS).join(', ')}`,
        )
    this.offered = new Set(opts.operations ?? Object.keys(SOAP_OPERATIONS))
    this.reservesSloc = opts.reservesStorageLocation ?? 'RSRV'
  }

  /** GET /sap/bc/soap/wsdl[11]?services=A,B: the offered ones among `services` (all when absent). */
  wsdl(req: SimRequest, baseUrl: string): SimResponse {
    const asked = (req.query.get('services') ?? '')
      .split(',')
      .map((s) => s.trim().toUpperCase())
      .filter((s) => s !== '')
    const names = asked.length > 0 ? asked.filter((n) => this.offered.has(n)) : [...this.offered]
    if (names.length === 0) throw new HttpError(404, `none of ${asked.join(', ')} is offered here`)
    return { status: 200, contentType: 'text/xml; charset=utf-8', body: wsdlFor(names, baseUrl) }
  }

  /** POST /sap/bc/soap/rfc[/sap/<FM>]: one function module call. */
  call(req: SimRequest, pathOperation: string): SimResponse {
    let op = ''
    try {
      const env = parseXml(req.text())
      const body = child(env, 'Body', SOAP_ENV)?.children[0]
      if (env.local !== 'Envelope' || env.ns !== SOAP_ENV || !body)
        throw new BadInput('SOAP', '001', 'request is not a SOAP 1.1 envelope with a body element')
      op = body.local
      if (body.ns !== RFC_NS)
        throw new BadInput('SOAP', '002', `<${body.name}> is not in namespace ${RFC_NS}`)
      if (pathOperation && pathOperation !== op)
        throw new BadInput('SOAP', '003', `this address serves ${pathOperation}, not ${op}`)
      if (!this.offered.has(op))
        return soapFault(op, e('FU', '001', `Function module ${op} not found (FU_NOT_FOUND)`))
      switch (op) {
        case 'BAPI_INSPLOT_GETDETAIL':
          return respond(op, this.getDetail(body))
        case 'BAPI_INSPLOT_GETLIST':
          return respond(op, getInspectionLotList(this.model, body))
        case 'BAPI_INSPLOT_SETUSAGEDECISION':
          return respond(op, this.setUsageDecision(body))
        case 'BAPI_GOODSMVT_CREATE':
          return respond(op, this.goodsMovement(body))
        case 'BAPI_GOODSMVT_GETITEMS':
          return respond(op, this.getItems(body))
        default:
          return respond(op, this.batchStock(body))
      }
    } catch (err) {
      if (err instanceof BadInput) return soapFault(op, e(err.id, err.number, err.message))
      return soapFault(op, e('SOAP', '000', (err as Error).message), 'soap-env:Client')
    }
  }

  private lot(number: string): InspectionLot | undefined {
    return this.model.lots.get(number)
  }

  private getDetail(body: XmlNode): XmlTree {
    const number = required(body, 'NUMBER', 'BAPI_INSPLOT_GETDETAIL')
    const lot = this.lot(number)
    if (!lot) return { RETURN: returnTable([e('QA', '010', `Inspection lot ${number} does not exist`)]) }
    const ud = lot.usageDecision
    return {
      GENERAL_DATA: {
        INSPLOT: lot.InspectionLot,
        MATERIAL: lot.Material,
        PLANT: lot.Plant,
        BATCH: lot.Batch,
        STGE_LOC: lot.StorageLocation,
        LOT_QTY: formatQuantity(lot.quantity),
        BASE_UOM: lot.unit,
      },
      ...lotStockDetail(lot),
      USAGEDECISION_DATA: {
        UD_CODE_GROUP: ud?.InspLotUsageDecisionCodeGroup ?? '',
        UD_CODE: ud?.InspectionLotUsageDecisionCode ?? '',
        UD_VALUATION: ud?.InspLotUsageDecisionValuation ?? '',
        UD_RECORDED_BY_USER: ud?.InspectionLotUsageDecidedBy ?? '',
        UD_TEXT_LINE: ud ? lot.InspectionLotText : '',
      },
      RETURN: [],
    }
  }

  private setUsageDecision(body: XmlNode): XmlTree {
    const number = required(body, 'NUMBER', 'BAPI_INSPLOT_SETUSAGEDECISION')
    const data = child(body, 'UD_DATA')
    const code = required(data, 'UD_CODE', 'UD_DATA')
    const lot = this.lot(number)
    if (!lot) return { RETURN: returnTable([e('QA', '010', `Inspection lot ${number} does not exist`)]) }
    if (lot.usageDecision)
      return {
        RETURN: returnTable([
          e('QA', '094', `Usage decision for inspection lot ${number} has already been made`),
        ]),
      }
    const now = this.model.tick()
    lot.usageDecision = {
      InspectionLot: number,
      InspLotUsageDecisionLevel: 'L',
      InspLotUsageDecisionCodeGroup: text(data, 'UD_CODE_GROUP'),
      InspectionLotUsageDecisionCode: code,
      // The valuation comes with the code from the selected set; rejecting codes start with R here.
      InspLotUsageDecisionValuation: code.startsWith('R') ? 'R' : 'A',
      InspectionLotQualityScore: '',
      InspLotUsgeDcsnFollowUpAction: '',
      InspectionLotUsageDecidedBy: text(data, 'UD_RECORDED_BY_USER') || 'RFC_USER',
      InspectionLotUsageDecidedOn: now,
      ChangedDateTime: now,
    }
    ;(lot as { InspectionLotText: string }).InspectionLotText = text(data, 'UD_TEXT_LINE').slice(0, 40)
    lot.changedAt = now
    return {
      UD_RETURN_DATA: { INSPLOT: number, UD_CODE: code, UD_CODE_GROUP: text(data, 'UD_CODE_GROUP') },
      RETURN: returnTable([
        { type: 'S', id: 'QA', number: '100', message: `Usage decision for ${number} saved` },
      ]),
    }
  }

  private goodsMovement(body: XmlNode): XmlTree {
    const head = child(body, 'GOODSMVT_HEADER')
    const code = required(child(body, 'GOODSMVT_CODE'), 'GM_CODE', 'GOODSMVT_CODE')
    if (text(body, 'TESTRUN') === 'X') throw new BadInput('BAPI', '003', 'TESTRUN is not simulated')
    const items = rows(body, 'GOODSMVT_ITEM')
    if (items.length === 0) throw new BadInput('M7', '001', 'GOODSMVT_ITEM contains no items')
    const internalTo: Array<'reserves' | undefined> = []
    const parsed = items.map((it, i) => {
      const stck = text(it, 'STCK_TYPE')
      const type = STCK_TYPE[stck]
      if (type === undefined)
        throw new BadInput('M7', '001', `GOODSMVT_ITEM[${i}].STCK_TYPE '${stck}' is not blank, X or S`)
      const qty = text(it, 'ENTRY_QNT')
      try {
        if (parseQuantity(qty, `GOODSMVT_ITEM[${i}].ENTRY_QNT`) <= 0) throw new Error('must be > 0')
      } catch (err) {
        throw new BadInput('M7', '001', `GOODSMVT_ITEM[${i}].ENTRY_QNT '${qty}': ${(err as Error).message}`)
      }
      const sloc = text(it, 'STGE_LOC')
      internalTo.push(text(it, 'MOVE_TYPE') === '350' && sloc === this.reservesSloc ? 'reserves' : undefined)
      return {
        Material: required(it, 'MATERIAL', `GOODSMVT_ITEM[${i}]`),
        Plant: required(it, 'PLANT', `GOODSMVT_ITEM[${i}]`),
        StorageLocation: sloc,
        Batch: text(it, 'BATCH'),
        GoodsMovementType: required(it, 'MOVE_TYPE', `GOODSMVT_ITEM[${i}]`),
        InventoryStockType: type,
        IssgOrRcvgMaterial: text(it, 'MOVE_MAT'),
        IssgOrRcvgBatch: text(it, 'MOVE_BATCH'),
        PurchaseOrder: text(it, 'PO_NUMBER'),
        PurchaseOrderItem: text(it, 'PO_ITEM'),
        ManufacturingOrder: text(it, 'ORDERID'),
        Supplier: text(it, 'VENDOR'),
        QuantityInEntryUnit: qty,
        EntryUnit: text(it, 'ENTRY_UOM'),
        GoodsMovementReasonCode: text(it, 'MOVE_REAS'),
      }
    })
    try {
      const doc = postMaterialDocument(
        this.model,
        {
          GoodsMovementCode: code,
          PostingDate: ymd(text(head, 'PSTNG_DATE')),
          DocumentDate: ymd(text(head, 'DOC_DATE')),
          MaterialDocumentHeaderText: text(head, 'HEADER_TXT').slice(0, 25),
          ReferenceDocument: text(head, 'REF_DOC_NO').slice(0, 16),
          items: parsed,
          internalTo,
        },
        this.hooks,
      )
      return {
        GOODSMVT_HEADRET: { MAT_DOC: doc.MaterialDocument, DOC_YEAR: doc.MaterialDocumentYear },
        MATERIALDOCUMENT: doc.MaterialDocument,
        MATDOCUMENTYEAR: doc.MaterialDocumentYear,
        RETURN: [],
      }
    } catch (err) {
      if (!(err instanceof HttpError)) throw err
      // postMaterialDocument refuses with OData-style `{ error: { code: 'M7/021', message } }`.
      const b = err.body as { error?: { code?: string; message?: { value?: string } } }
      const [id = 'M7', number = '001'] = (b.error?.code ?? '').split('/')
      return { RETURN: returnTable([e(id, number, b.error?.message?.value ?? err.message)]) }
    }
  }

  private getItems(body: XmlNode): XmlTree {
    const material = eqRange(body, 'MATERIAL_RA')
    const plant = eqRange(body, 'PLANT_RA')
    const batch = eqRange(body, 'BATCH_RA')
    const moveType = eqRange(body, 'MOVE_TYPE_RA')
    if (!material && !plant && !batch)
      throw new BadInput('M7', '002', 'give at least one of MATERIAL_RA, PLANT_RA, BATCH_RA')
    const headers: XmlTree[] = []
    const out: XmlTree[] = []
    for (const d of this.model.documents) {
      const hits = d.items.filter(
        (it) =>
          (!material || material.has(it.key.material)) &&
          (!plant || plant.has(it.key.plant)) &&
          (!batch || batch.has(it.key.batch)) &&
          (!moveType || moveType.has(it.GoodsMovementType)),
      )
      if (hits.length === 0) continue
      headers.push({
        MAT_DOC: d.MaterialDocument,
        DOC_YEAR: d.MaterialDocumentYear,
        PSTNG_DATE: yyyymmdd(d.PostingDate),
        HEADER_TXT: d.MaterialDocumentHeaderText,
        REF_DOC_NO: d.ReferenceDocument,
      })
      for (const it of hits)
        out.push({
          MAT_DOC: d.MaterialDocument,
          DOC_YEAR: d.MaterialDocumentYear,
          MATDOC_ITM: it.MaterialDocumentItem.padStart(4, '0'),
          MATERIAL: it.Material,
          PLANT: it.Plant,
          STGE_LOC: it.StorageLocation,
          BATCH: it.Batch,
          MOVE_TYPE: it.GoodsMovementType,
          STCK_TYPE: STCK_OF[it.InventoryStockType] ?? '',
          ENTRY_QNT: formatQuantity(it.quantity),
          ENTRY_UOM: it.EntryUnit,
        })
    }
    return { GOODSMVT_HEADER: headers, GOODSMVT_ITEMS: out, RETURN: [] }
  }

  private batchStock(body: XmlNode): XmlTree {
    const key = {
      material: required(body, 'MATERIAL', 'Z_BATCH_STOCK_READ'),
      plant: required(body, 'PLANT', 'Z_BATCH_STOCK_READ'),
      batch: required(body, 'BATCH', 'Z_BATCH_STOCK_READ'),
    }
    const lot = this.model.ledger.get(key)
    const unit = this.model.material(key.material).baseUnit
    const stock: XmlTree[] = []
    if (lot) {
      const b = lot.buckets
      stock.push({
        STGE_LOC: '',
        CLABS: formatQuantity(b.unrestricted),
        CINSM: formatQuantity(b.qi),
        CSPEM: formatQuantity(b.blocked),
        MEINS: unit,
      })
      if (b.reserves > 0)
        stock.push({
          STGE_LOC: this.reservesSloc,
          CLABS: '0',
          CINSM: '0',
          CSPEM: formatQuantity(b.reserves),
          MEINS: unit,
        })
    }
    return { STOCK: stock, RETURN: [] }
  }
}

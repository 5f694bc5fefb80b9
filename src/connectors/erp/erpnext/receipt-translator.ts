/**
 * ERPNext webhook → canonical goods receipts. A Frappe Webhook on the Purchase Receipt doctype
 * (doc event on_submit, and on_cancel for reversals; JSON body: the document) posts the receipt
 * as ERPNext holds it: `name`, `supplier`, `posting_date`/`posting_time`, `docstatus`, and `items`
 * rows with `idx`, `item_code`, `batch_no`, accepted `qty` received into `warehouse`, `stock_uom`,
 * `purchase_order`, `quality_inspection` (quality-domain.md §2.1: the QI's name is written into
 * the referenced row). One event per row with a quantity:
 * - submitted (docstatus 1) → `erp.goods_receipt.posted.v1`, the bucket being the one the plant's
 *   erp/erpnext connector maps the row's warehouse to (a QI warehouse → quality inspection);
 * - cancelled (docstatus 2) → `erp.goods_receipt.reversed.v1` of the same row (ERPNext cancels the
 *   document in place, so the reversing and the reversed document are one).
 * Rejected quantities (`rejected_qty` into `rejected_warehouse`) are not translated: they never
 * were the plant's stock. Material, batch and supplier go through the plant's identity mapping.
 * ERPNext's plant is its `company`: when the source's identity mapping maps plants (entities
 * [plant], plants: { <company>: <plant> }), a receipt of another company than the source's plant
 * is refused with QLK_PLANT_MISMATCH at `/company`, as the S/4 translator does at `/Plant`.
 * Signature: Frappe signs the body with the webhook secret, HMAC-SHA256, base64, in header
 * `X-Frappe-Webhook-Signature` (frappeframework.com/docs/v15/user/en/guides/integration/webhooks,
 * "Webhook Security"); the webhook source checks it (`signatureScheme: frappe`,
 * connectors/ingress/webhook-signature.ts).
 */
import type { CloudEvent } from '../../../contracts/envelope.ts'
import { QualinkError } from '../../../contracts/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { type IdMappingSettings, inboundIds, mapOptional, sourcePlant } from '../../../mapping/id-mapping.ts'
import { canonicalUom } from '../../../mapping/units.ts'
import { parseDecimal } from '../../../model/quantity.ts'
import type { Bucket } from '../../../model/stock.ts'
import { parseJsonBody } from '../../sdk/json-body.ts'

interface ReceiptRow {
  idx?: number
  item_code: string
  batch_no?: string
  qty: number | string
  stock_uom?: string
  uom?: string
  warehouse: string
  purchase_order?: string
  quality_inspection?: string
}

interface PurchaseReceipt {
  doctype?: string
  name: string
  docstatus: number
  company?: string
  supplier?: string
  posting_date: string
  posting_time?: string
  items: ReceiptRow[]
}

export interface ErpNextReceiptOptions {
  /** the plant's erp/erpnext connector `warehouses` (bucket → warehouse): which warehouse is which bucket */
  readonly warehouses?: Readonly<Partial<Record<Bucket, string>>>
  readonly ids?: IdMappingSettings
}

const invalid = (path: string, message: string) =>
  new QualinkError('QLK_VALIDATION', `ERPNext Purchase Receipt: ${path} ${message}`, [{ path, message }])

export function erpNextReceiptTranslator(source: string, o: ErpNextReceiptOptions = {}): Translator {
  const bucketOf = new Map(Object.entries(o.warehouses ?? {}).map(([b, w]) => [w, b as Bucket]))
  return {
    source,
    async translate(raw, xref): Promise<CloudEvent[]> {
      const pr = parseJsonBody<PurchaseReceipt>(raw.body, 'ERPNext webhook')
      if (pr.doctype !== undefined && pr.doctype !== 'Purchase Receipt')
        throw invalid('/doctype', `must be 'Purchase Receipt', not '${pr.doctype}'`)
      if (pr.docstatus !== 1 && pr.docstatus !== 2) return [] // a draft is nobody's stock yet
      if (typeof pr.name !== 'string' || pr.name === '')
        throw invalid('/name', 'is required: the Purchase Receipt number')
      if (!Array.isArray(pr.items) || pr.items.length === 0)
        throw invalid('/items', 'must list at least one received row')
      if (!/^\d{4}-\d{2}-\d{2}$/.test(String(pr.posting_date)))
        throw invalid('/posting_date', 'must be YYYY-MM-DD')
      // ERPNext keeps posting date and time in the site's time zone; read here as UTC.
      const time = new Date(
        `${pr.posting_date}T${(pr.posting_time ?? '00:00:00').slice(0, 8)}Z`,
      ).toISOString()
      const map = inboundIds(xref, o.ids, raw.plant)
      if (o.ids?.entities.includes('plant'))
        await sourcePlant(map, pr.company, { plant: raw.plant, source, field: '/company' })
      const supplier = await mapOptional(map, 'supplier', pr.supplier, '/supplier')
      const events: CloudEvent[] = []
      for (const [i, row] of pr.items.entries()) {
        const at = `/items/${i}`
        if (!row.item_code) throw invalid(`${at}/item_code`, 'is required: the received material')
        if (!row.batch_no) throw invalid(`${at}/batch_no`, 'is required: Qualink tracks lots by batch')
        const bucket = bucketOf.get(row.warehouse)
        if (!bucket)
          throw invalid(`${at}/warehouse`, `'${row.warehouse}' is none of the connector's warehouses`)
        const quantity = parseDecimal(
          String(row.qty),
          3,
          canonicalUom(String(row.stock_uom ?? row.uom ?? '')),
          `${at}/qty`,
        )
        if (quantity.units <= 0) continue
        const item = String(row.idx ?? i + 1)
        const doc = { id: pr.name, year: Number(pr.posting_date.slice(0, 4)), item }
        const lot = {
          id: await map('lot', row.batch_no, `${at}/batch_no`),
          material: await map('material', row.item_code, `${at}/item_code`),
          plant: raw.plant,
        }
        const audit = { timestamp: time, sourceSystem: source, approvalStatus: 'not_required' }
        const base = {
          specversion: '1.0',
          source: `urn:qualink:${source}`,
          subject: lot.id,
          time,
          plant: raw.plant,
        }
        events.push(
          pr.docstatus === 1
            ? ({
                ...base,
                id: `${pr.name}-${item}`,
                type: 'erp.goods_receipt.posted.v1',
                data: {
                  materialDocument: doc,
                  lot,
                  ...(supplier ? { supplier } : {}),
                  ...(row.purchase_order ? { purchaseOrder: row.purchase_order } : {}),
                  quantity,
                  bucket,
                  ...(row.quality_inspection ? { inspectionLot: row.quality_inspection } : {}),
                  audit,
                },
              } as CloudEvent)
            : ({
                ...base,
                id: `${pr.name}-${item}-cancelled`,
                type: 'erp.goods_receipt.reversed.v1',
                data: { materialDocument: doc, reversedDocument: doc, lot, quantity, bucket, audit },
              } as CloudEvent),
        )
      }
      return events
    },
  }
}

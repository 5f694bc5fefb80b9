/**
 * ERPNext stock: per (item, batch, warehouse) bins. Holds are warehouses (quality-domain.md §7.1),
 * so each warehouse maps onto a bucket of the shared ledger, which keeps the per-lot vector
 * conserved; the bins keep warehouse detail when two warehouses share a bucket.
 */
import { formatQuantity, parseQuantity, type QuantityError } from '../shared/quantity.ts'
import {
  type Bucket,
  type Movement,
  type Place,
  StockDeficitError,
  type StockLedger,
} from '../shared/stock-ledger.ts'
import { type Doc, frappeError } from './frappe.ts'

export const DEFAULT_WAREHOUSES: Record<string, Bucket> = {
  'Stores - SIM': 'unrestricted',
  'Quality Inspection - SIM': 'qi',
  'Quarantine - SIM': 'blocked',
  'Rejected - SIM': 'blocked',
  'Scrap - SIM': 'scrap',
}

const PURPOSES = ['Material Receipt', 'Material Transfer', 'Material Issue'] as const

interface Line {
  item: string
  batch: string
  qty: number
  uom: string
  from?: string
  to?: string
}

/** What one submitted row did to one warehouse (a Stock Ledger Entry; `qty` signed, milli-units). */
export interface LedgerLine {
  readonly item: string
  readonly batch: string
  readonly warehouse: string
  readonly qty: number
  readonly uom: string
}

export class ErpNextStock {
  readonly bins = new Map<string, number>()

  constructor(
    private readonly ledger: StockLedger,
    private readonly warehouses: Record<string, Bucket>,
    private readonly company: string,
  ) {}

  private bucketOf(wh: string): Bucket {
    const b = this.warehouses[wh]
    if (!b) throw frappeError('LinkValidationError', `Could not find Warehouse: ${wh}`)
    return b
  }

  qty(item: string, batch: string, wh: string): number {
    return this.bins.get(`${item}|${batch}|${wh}`) ?? 0
  }

  private lines(doc: Doc): Line[] {
    const purpose = String(doc.purpose ?? doc.stock_entry_type ?? '')
    if (!PURPOSES.includes(purpose as (typeof PURPOSES)[number])) {
      throw frappeError('ValidationError', `Purpose must be one of ${PURPOSES.join(', ')}`)
    }
    const items = Array.isArray(doc.items) ? (doc.items as Array<Record<string, unknown>>) : []
    if (items.length === 0) throw frappeError('MandatoryError', '[Stock Entry]: items')
    return items.map((it, i) => {
      let qty: number
      try {
        qty = parseQuantity(it.qty, `items[${i}].qty`)
      } catch (err) {
        throw frappeError('ValidationError', (err as QuantityError).message)
      }
      if (qty <= 0) throw frappeError('ValidationError', `Row ${i + 1}: Quantity must be greater than zero`)
      const from =
        purpose === 'Material Receipt' ? undefined : String(it.s_warehouse ?? doc.from_warehouse ?? '')
      const to = purpose === 'Material Issue' ? undefined : String(it.t_warehouse ?? doc.to_warehouse ?? '')
      if (from === '' || to === '')
        throw frappeError(
          'ValidationError',
          `Row ${i + 1}: Source and target warehouse are required for ${purpose}`,
        )
      it.idx = i + 1
      const uom = String(it.stock_uom ?? it.uom ?? 'Nos')
      return { item: String(it.item_code ?? ''), batch: String(it.batch_no ?? ''), qty, uom, from, to }
    })
  }

  /** Submit (sign 1) or cancel (sign -1) a Stock Entry: all rows or none; what each row did. */
  post(doc: Doc, sign: 1 | -1): LedgerLine[] {
    const lines = this.lines(doc)
    const delta = new Map<string, number>()
    const movements: Movement[] = []
    for (const l of lines) {
      const [src, dst] = sign === 1 ? [l.from, l.to] : [l.to, l.from]
      if (src)
        delta.set(`${l.item}|${l.batch}|${src}`, (delta.get(`${l.item}|${l.batch}|${src}`) ?? 0) - l.qty)
      if (dst)
        delta.set(`${l.item}|${l.batch}|${dst}`, (delta.get(`${l.item}|${l.batch}|${dst}`) ?? 0) + l.qty)
      const key = { material: l.item, plant: this.company, batch: l.batch }
      // Forward: a receipt comes from outside, an issue leaves to `issued`; a cancel runs it backwards.
      const fwdFrom: Place = l.from ? this.bucketOf(l.from) : 'external'
      const fwdTo: Place = l.to ? this.bucketOf(l.to) : 'issued'
      const [from, to] = sign === 1 ? [fwdFrom, fwdTo] : [fwdTo, fwdFrom]
      if (from !== to) movements.push({ key, from, to, qty: l.qty })
    }
    for (const [k, d] of delta) {
      const after = (this.bins.get(k) ?? 0) + d
      if (after < 0) {
        const [item, batch, wh] = k.split('|')
        throw frappeError(
          'NegativeStockError',
          `${formatQuantity(-after)} units of Item ${item} (batch ${batch}) needed in Warehouse ${wh} to complete this transaction.`,
        )
      }
    }
    try {
      this.ledger.apply(movements)
    } catch (err) {
      if (err instanceof StockDeficitError) throw frappeError('NegativeStockError', err.message)
      throw err
    }
    for (const [k, d] of delta) this.bins.set(k, (this.bins.get(k) ?? 0) + d)
    return lines.flatMap((l) => [
      ...(l.from
        ? [{ item: l.item, batch: l.batch, warehouse: l.from, qty: -sign * l.qty, uom: l.uom }]
        : []),
      ...(l.to ? [{ item: l.item, batch: l.batch, warehouse: l.to, qty: sign * l.qty, uom: l.uom }] : []),
    ])
  }

  batchQty(item: string, batch: string): number {
    let sum = 0
    for (const [k, q] of this.bins) if (k.startsWith(`${item}|${batch}|`)) sum += q
    return sum
  }
}

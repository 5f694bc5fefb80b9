/**
 * API_MATERIAL_STOCK_SRV / A_MatlStkInAcctMod: stock per lot and stock type. Only physical stock
 * types appear (01 unrestricted, 02 QI, 07 blocked); scrapped, returned, sampled and issued
 * quantities have left stock, exactly as in SAP. The full vector is in /__sim/state.
 */
import type { Router } from '../shared/http.ts'
import { formatQuantity } from '../shared/quantity.ts'
import { type Bucket, lotId } from '../shared/stock-ledger.ts'
import type { S4Model } from './model.ts'
import { BUCKET_TO_STOCK_TYPE } from './movements.ts'
import { collection, type ODataRecord, parseFilter, withMeta } from './odata.ts'

export const STOCK_BASE = '/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV'
const PHYSICAL: Bucket[] = ['unrestricted', 'qi', 'blocked', 'reserves']

/**
 * Each lot's storage location: the last material document item that named one. Documents are
 * only ever appended, so the map is kept per model and extended by the documents added since the
 * last read (a reset model, with fewer documents, starts over). Rebuilding it on every read made
 * each stock read walk every document: at 100,000 lots a read took longer than the HTTP call.
 */
const slocCache = new WeakMap<S4Model, { documents: number; of: Map<string, string> }>()
function storageLocations(model: S4Model): Map<string, string> {
  let c = slocCache.get(model)
  if (!c || c.documents > model.documents.length) {
    c = { documents: 0, of: new Map() }
    slocCache.set(model, c)
  }
  for (; c.documents < model.documents.length; c.documents++)
    for (const it of model.documents[c.documents]!.items)
      if (it.StorageLocation) c.of.set(lotId(it.key), it.StorageLocation)
  return c.of
}

/**
 * The stock rows, of one lot when `only` names it (a read filtered on Material, Plant and Batch
 * equal: the lot's rows alone are built, not every lot's), else of every lot.
 */
export function stockRows(
  model: S4Model,
  reservesStorageLocation: string,
  only?: { material: string; plant: string; batch: string },
): ODataRecord[] {
  const slocOf = storageLocations(model)
  const rows: ODataRecord[] = []
  const one = only && model.ledger.get(only)
  for (const lot of only ? (one ? [one] : []) : model.ledger.all()) {
    for (const b of PHYSICAL) {
      const qty = lot.buckets[b]
      if (qty === 0) continue
      const key = {
        Material: lot.key.material,
        Plant: lot.key.plant,
        StorageLocation: b === 'reserves' ? reservesStorageLocation : (slocOf.get(lotId(lot.key)) ?? ''),
        Batch: lot.key.batch,
        InventoryStockType: BUCKET_TO_STOCK_TYPE[b] ?? '',
      }
      rows.push(
        withMeta(STOCK_BASE, 'A_MatlStkInAcctMod', 'API_MATERIAL_STOCK_SRV.A_MatlStkInAcctModType', key, {
          ...key,
          Supplier: '',
          InventorySpecialStockType: '',
          MaterialBaseUnit: model.material(lot.key.material).baseUnit,
          MatlWrhsStkQtyInMatlBaseUnit: formatQuantity(qty),
        }),
      )
    }
  }
  return rows
}

export function registerStockRoutes(router: Router, model: S4Model, reservesStorageLocation: string): void {
  const B = STOCK_BASE.replace(/\//g, '\\/')
  router.on('GET', new RegExp(`^${B}/A_MatlStkInAcctMod$`), (req) => {
    // The filter is still applied by `collection`; this only narrows which rows are built.
    const eq = new Map(
      parseFilter(req.query.get('$filter'))
        .filter((c) => c.op === 'eq' && typeof c.value === 'string')
        .map((c) => [c.field, String(c.value)]),
    )
    const material = eq.get('Material')
    const plant = eq.get('Plant')
    const batch = eq.get('Batch')
    const only =
      material !== undefined && plant !== undefined && batch !== undefined
        ? { material, plant, batch }
        : undefined
    return collection(req, stockRows(model, reservesStorageLocation, only))
  })
}

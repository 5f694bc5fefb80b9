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
import { collection, type ODataRecord, withMeta } from './odata.ts'

export const STOCK_BASE = '/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV'
const PHYSICAL: Bucket[] = ['unrestricted', 'qi', 'blocked', 'reserves']

export function stockRows(model: S4Model, reservesStorageLocation: string): ODataRecord[] {
  const slocOf = new Map<string, string>()
  for (const d of model.documents)
    for (const it of d.items) if (it.StorageLocation) slocOf.set(lotId(it.key), it.StorageLocation)
  const rows: ODataRecord[] = []
  for (const lot of model.ledger.all()) {
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
  router.on('GET', new RegExp(`^${B}/A_MatlStkInAcctMod$`), (req) =>
    collection(req, stockRows(model, reservesStorageLocation)),
  )
}

/**
 * The ECC simulator's inspection-lot reads beyond the usage decision: BAPI_INSPLOT_GETLIST and the
 * stock part of BAPI_INSPLOT_GETDETAIL, as `qualink adopt` reads an ECC plant.
 *
 * BAPI_INSPLOT_GETLIST's interface is SAP's [S] (SAP-samples/node-rfc-samples
 * fundamental-tools/api/inspectionLot/bapi_insplot_getlist.js): selection by PLANT, MATERIAL,
 * BATCH, MAT_DOC, PO_NUMBER, VENDOR…, status flags STATUS_CREATED / STATUS_RELEASED / STATUS_UD
 * (default 'X': lots with a usage decision are listed unless STATUS_UD is blank), MAX_ROWS
 * (default 100), table INSPLOT_LIST (BAPI2045L1: BATCH, CREAT_DAT, MAT_DOC, MATDOC_ITM, MATERIAL,
 * PLANT, PO_NUMBER, PO_ITEM, VENDOR…), RETURN (BAPIRETURN1). The lot number in each row (INSPLOT)
 * is the simulator's [U]: the generated listing above does not show it. There is no origin
 * selection: a goods receipt for a purchase order (origin 01) is a row with MAT_DOC and PO_NUMBER.
 *
 * BAPI_INSPLOT_GETDETAIL's STOCK_DATA (BAPI2045D_IL2: INSPLOT_SIZE, INSPLOT_BASE_UOM,
 * QUANTITY_TO_BE_POSTED, VENDOR, STOCK_PLANT…) and MATERIAL_DOCUMENTS (BAPI2045MD: MAT_DOC,
 * DOC_YEAR, MATDOC_ITM) are named as SAP's [S] (same repository, bapi_insplot_getdetail.js).
 * QUANTITY_TO_BE_POSTED is the lot's quantity less its usage-decision postings; like the
 * simulator's other ECC faces, a BAPI_GOODSMVT_CREATE of the batch does not post against the lot.
 */

import { toBePosted } from '../erp-s4/inspection-lots.ts'
import type { InspectionLot, S4Model } from '../erp-s4/model.ts'
import { formatQuantity } from '../shared/quantity.ts'
import { text, type XmlNode, type XmlTree } from './soap-xml.ts'

const yyyymmdd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, '')

/** BAPI_INSPLOT_GETLIST over the model's inspection lots, in lot-number order. */
export function getInspectionLotList(model: S4Model, body: XmlNode): XmlTree {
  const sel: Array<[string, (l: InspectionLot) => string]> = [
    ['PLANT', (l) => l.Plant],
    ['MATERIAL', (l) => l.Material],
    ['BATCH', (l) => l.Batch],
    ['MAT_DOC', (l) => l.MaterialDocument],
    ['PO_NUMBER', (l) => l.PurchasingDocument],
    ['VENDOR', (l) => l.Supplier],
  ]
  const flag = (name: string) => (body.children.some((c) => c.local === name) ? text(body, name) : 'X')
  const withUd = flag('STATUS_UD') === 'X'
  const withoutUd = flag('STATUS_CREATED') === 'X' || flag('STATUS_RELEASED') === 'X'
  const maxRows = Number(text(body, 'MAX_ROWS') || '100')
  const out: XmlTree[] = []
  const lots = [...model.lots.values()].sort((a, b) => a.InspectionLot.localeCompare(b.InspectionLot))
  for (const l of lots) {
    if (sel.some(([field, of]) => text(body, field) !== '' && text(body, field) !== of(l))) continue
    if (l.usageDecision ? !withUd : !withoutUd) continue
    if (maxRows > 0 && out.length >= maxRows) break
    out.push({
      INSPLOT: l.InspectionLot,
      BATCH: l.Batch,
      CREAT_DAT: yyyymmdd(l.createdAt),
      MAT_DOC: l.MaterialDocument,
      MATDOC_ITM: l.MaterialDocument ? '0001' : '',
      MATERIAL: l.Material,
      ORDER_NO: l.ManufacturingOrder,
      PLANT: l.Plant,
      PO_ITEM: l.PurchasingDocumentItem,
      PO_NUMBER: l.PurchasingDocument,
      VENDOR: l.Supplier,
    })
  }
  return { INSPLOT_LIST: out, RETURN: {} }
}

/** STOCK_DATA and MATERIAL_DOCUMENTS of BAPI_INSPLOT_GETDETAIL for one lot. */
export function lotStockDetail(lot: InspectionLot): XmlTree {
  return {
    STOCK_DATA: {
      INSPLOT: lot.InspectionLot,
      IND_QUAL_INSPECTION: lot.stockRelevant ? 'X' : '',
      MATERIAL: lot.Material,
      BATCH: lot.Batch,
      STOCK_PLANT: lot.Plant,
      STOCK_STGE_LOC: lot.StorageLocation,
      VENDOR: lot.Supplier,
      INSPLOT_SIZE: formatQuantity(lot.quantity),
      INSPLOT_BASE_UOM: lot.unit,
      QUANTITY_TO_BE_POSTED: formatQuantity(toBePosted(lot)),
    },
    MATERIAL_DOCUMENTS: lot.MaterialDocument
      ? [
          {
            INSPLOT: lot.InspectionLot,
            MAT_DOC: lot.MaterialDocument,
            DOC_YEAR: lot.MaterialDocumentYear,
            MATDOC_ITM: '0001',
          },
        ]
      : [],
  }
}

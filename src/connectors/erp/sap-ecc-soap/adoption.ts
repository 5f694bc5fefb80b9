/**
 * AdoptionErpPort over ECC's RFC SOAP service (`qualink adopt`, docs/workflows.md "Go-live
 * adoption"). Read-only.
 *
 * Open goods-receipt inspection lots: BAPI_INSPLOT_GETLIST of the plant (PLANT, status flags
 * STATUS_CREATED / STATUS_RELEASED / STATUS_UD all 'X', so lots already decided but with stock left
 * are listed too; MAX_ROWS; table INSPLOT_LIST, BAPI2045L1) [S] (SAP-samples/node-rfc-samples
 * fundamental-tools/api/inspectionLot/bapi_insplot_getlist.js). The BAPI selects no origin: a row
 * with a material document and a purchase order (MAT_DOC, PO_NUMBER) is a goods receipt for a
 * purchase order (origin 01). Then per lot BAPI_INSPLOT_GETDETAIL [S] (bapi_insplot_getdetail.js):
 * - `quantity`: STOCK_DATA-INSPLOT_SIZE in INSPLOT_BASE_UOM;
 * - `toBePosted`: STOCK_DATA-QUANTITY_TO_BE_POSTED, at most the batch's quality-inspection stock
 *   (Z_BATCH_STOCK_READ CINSM: goods movements that bypass the lot do not lower the lot's figure);
 * - `decidedInErp`: USAGEDECISION_DATA-UD_CODE is set; `text`: its UD_TEXT_LINE (recordUsageDecision
 *   writes the QMS lot there);
 * - `materialDocument`: MATERIAL_DOCUMENTS' first row (MAT_DOC, DOC_YEAR, MATDOC_ITM), else the
 *   list row's MAT_DOC / MATDOC_ITM.
 * `unsettled` (adopt leaves the lot for a person) when part of the lot was already posted out of QI
 * (QUANTITY_TO_BE_POSTED below INSPLOT_SIZE), or the batch has less in QI than the lot still has to
 * post: postStockDisposition reads back only the material documents whose HEADER_TXT is Qualink's
 * own reference, so it cannot tell what an earlier integration posted and would post it again.
 * A lot decided in ECC with all of it still in QI is safe: recordUsageDecision reads the decision
 * back (the same code is success, another a conflict for a person) and nothing was posted yet.
 *
 * Production orders on hold: none. The connector has no production-order function module and
 * refuses setProductionOrderHold, so Qualink never put an ECC order on hold; the plant's open
 * nonconformances are recorded.
 */
import { PermanentError } from '../../../engine/errors.ts'
import { formatDecimal, type Quantity } from '../../../model/quantity.ts'
import type { AdoptionErpPort, OpenErpInspectionLot } from '../../../workflows/ports/adoption.ts'
import { fromSap } from '../sap-s4/mapping.ts'
import { KIND, type SoapClient } from './client.ts'
import type { SapEccSoapConfig } from './config.ts'
import type { GoodsMovementPoster } from './goods-movements.ts'
import { rows } from './soap.ts'
import { child, text, type XmlNode } from './xml.ts'

/** More lots than this in one plant refuse instead of adopting a silently cut list. */
export const MAX_LOTS = 5000

export function adoptionEcc(
  soap: SoapClient,
  poster: GoodsMovementPoster,
  config: SapEccSoapConfig,
): AdoptionErpPort {
  return {
    async listOpenInspectionLots(opts = {}) {
      const r = await soap.call(
        'BAPI_INSPLOT_GETLIST',
        {
          ...(opts.plant ? { PLANT: opts.plant } : {}),
          STATUS_CREATED: 'X',
          STATUS_RELEASED: 'X',
          STATUS_UD: 'X',
          MAX_ROWS: String(MAX_LOTS + 1),
        },
        `list inspection lots${opts.plant ? ` of plant ${opts.plant}` : ''}`,
      )
      const list = rows(r.body, 'INSPLOT_LIST')
      if (list.length > MAX_LOTS)
        throw new PermanentError(
          'QLK_VALIDATION',
          `${KIND} ${config.baseUrl}: BAPI_INSPLOT_GETLIST returned more than ${MAX_LOTS} inspection lots; adopt one ERP plant at a time (--erp-plant)`,
        )
      const out: OpenErpInspectionLot[] = []
      for (const row of list) {
        if (!text(row, 'MAT_DOC') || !text(row, 'PO_NUMBER')) continue
        // The lot number column is assumed (docs/connectors.md): a release without it is refused, not read as "no lots".
        if (!text(row, 'INSPLOT'))
          throw new PermanentError(
            'QLK_CONFIG_INVALID',
            `${KIND} ${config.baseUrl}: BAPI_INSPLOT_GETLIST rows carry no INSPLOT (lot number); adoption cannot name the lots of this ECC release`,
          )
        const open = await openLot(soap, poster, config, row)
        if (open) out.push(open)
      }
      return out
    },
    // No production-order hold on ECC SOAP (see above): nothing to read.
    listHeldProductionOrders: async () => [],
  }
}

async function openLot(
  soap: SoapClient,
  poster: GoodsMovementPoster,
  config: SapEccSoapConfig,
  row: XmlNode,
): Promise<OpenErpInspectionLot | null> {
  const id = text(row, 'INSPLOT')
  const d = await soap.call('BAPI_INSPLOT_GETDETAIL', { NUMBER: id }, `read inspection lot ${id}`)
  const stock = child(d.body, 'STOCK_DATA')
  const ud = child(d.body, 'USAGEDECISION_DATA')
  const uom = text(stock, 'INSPLOT_BASE_UOM').toUpperCase()
  const scale = config.quantityScale
  const quantity = fromSap(text(stock, 'INSPLOT_SIZE') || '0', scale, uom, `${id}/STOCK_DATA.INSPLOT_SIZE`)
  const lotLeft = fromSap(
    text(stock, 'QUANTITY_TO_BE_POSTED') || '0',
    scale,
    uom,
    `${id}/STOCK_DATA.QUANTITY_TO_BE_POSTED`,
  )
  if (lotLeft.units <= 0) return null
  const ref = {
    plant: text(stock, 'STOCK_PLANT') || text(row, 'PLANT'),
    material: text(row, 'MATERIAL'),
    lot: text(row, 'BATCH'),
  }
  const inQi = (await poster.readLotStock(ref)).quantities.qualityInspection?.units ?? 0
  if (inQi <= 0) return null
  const fmt = (units: number) => `${formatDecimal({ ...quantity, units })} ${quantity.uom}`
  const unsettled =
    lotLeft.units < quantity.units
      ? `${fmt(quantity.units - lotLeft.units)} of ECC inspection lot ${id} was already posted out of QI; Qualink's goods-movement read-back finds only its own postings, so the rest is a person's call (QA11 in ECC)`
      : inQi < lotLeft.units
        ? `ECC inspection lot ${id} still has ${fmt(lotLeft.units)} to post, but batch ${ref.lot} has only ${fmt(inQi)} in QI: stock left QI without the lot`
        : undefined
  const doc = rows(d.body, 'MATERIAL_DOCUMENTS')[0]
  const year = Number(text(doc, 'DOC_YEAR'))
  const item = text(doc, 'MATDOC_ITM') || text(row, 'MATDOC_ITM')
  const toBePosted: Quantity = { ...lotLeft, units: Math.min(inQi, lotLeft.units) }
  return {
    inspectionLot: id,
    plant: ref.plant,
    material: ref.material,
    lot: ref.lot,
    ...(text(row, 'VENDOR') ? { supplier: text(row, 'VENDOR') } : {}),
    materialDocument: {
      id: text(doc, 'MAT_DOC') || text(row, 'MAT_DOC'),
      ...(Number.isInteger(year) && year > 0 ? { year } : {}),
      ...(item ? { item } : {}),
    },
    quantity,
    toBePosted,
    decidedInErp: text(ud, 'UD_CODE') !== '',
    ...(text(ud, 'UD_TEXT_LINE') ? { text: text(ud, 'UD_TEXT_LINE') } : {}),
    ...(unsettled ? { unsettled } : {}),
  }
}

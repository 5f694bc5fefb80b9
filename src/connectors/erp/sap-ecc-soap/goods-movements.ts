import type { Quantity } from '../../../model/quantity.ts'
import type { Bucket } from '../../../model/stock.ts'
import type { LotRef, LotStockReading, StockPostingResult } from '../../../workflows/ports/erp.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'
import { fromSap } from '../sap-s4/mapping.ts'
import type { SoapClient } from './client.ts'
import type { SapEccSoapConfig } from './config.ts'
import { rows } from './soap.ts'
import { text } from './xml.ts'

export interface GoodsMovementItem {
  readonly lot: LotRef
  readonly movementType: string
  /** BAPI STCK_TYPE of the source stock: '', 'X' (quality inspection) or 'S' (blocked) */
  readonly stockType: string
  /** DEC 13,3 string */
  readonly quantity: string
  readonly uom: string
  readonly storageLocation?: string
  readonly moveMaterial?: string
  readonly moveBatch?: string
}

export interface GoodsMovement {
  /** HEADER_TXT: the reference the business key digests to (sdk/reference.ts) */
  readonly reference: string
  /** GM_CODE: 01 GR for PO, 03 goods issue, 04 transfer posting (quality-domain.md §1.5) */
  readonly code: string
  /** YYYYMMDD */
  readonly postingDate: string
  readonly item: GoodsMovementItem
}

const eq = (v: string) => [{ SIGN: 'I', OPTION: 'EQ', LOW: v }]

export class GoodsMovementPoster {
  constructor(
    private readonly soap: SoapClient,
    private readonly config: SapEccSoapConfig,
  ) {}

  /** Material documents of the lot whose header text is `reference`. */
  async find(reference: string, lot: LotRef, traceparent?: string): Promise<string[]> {
    const r = await this.soap.call(
      'BAPI_GOODSMVT_GETITEMS',
      { MATERIAL_RA: eq(lot.material), PLANT_RA: eq(lot.plant), BATCH_RA: eq(lot.lot) },
      `read back material documents of ${reference}`,
      traceparent,
    )
    const docs = rows(r.body, 'GOODSMVT_HEADER')
      .filter((h) => text(h, 'HEADER_TXT') === reference)
      .map((h) => text(h, 'MAT_DOC'))
    return [...new Set(docs)]
  }

  async post(m: GoodsMovement, context: string, traceparent?: string): Promise<StockPostingResult> {
    const what = `${context} (${m.reference})`
    const it = m.item
    const params = {
      GOODSMVT_HEADER: {
        PSTNG_DATE: m.postingDate,
        DOC_DATE: m.postingDate,
        // XBLNR is CHAR 16: the reference's first 16 characters, for ECC users' searches (MB51).
        REF_DOC_NO: m.reference.slice(0, 16),
        HEADER_TXT: m.reference,
      },
      GOODSMVT_CODE: { GM_CODE: m.code },
      GOODSMVT_ITEM: [
        {
          MATERIAL: it.lot.material,
          PLANT: it.lot.plant,
          ...(it.storageLocation ? { STGE_LOC: it.storageLocation } : {}),
          BATCH: it.lot.lot,
          MOVE_TYPE: it.movementType,
          STCK_TYPE: it.stockType,
          ENTRY_QNT: it.quantity,
          ENTRY_UOM: it.uom,
          ...(it.moveMaterial ? { MOVE_MAT: it.moveMaterial } : {}),
          ...(it.moveBatch ? { MOVE_BATCH: it.moveBatch } : {}),
        },
      ],
    }
    for (let round = 0; round < 3; round++) {
      const found = await this.find(m.reference, it.lot, traceparent)
      if (found.length > 0) return { documents: found, alreadyDone: round === 0 }
      try {
        const r = await this.soap.call('BAPI_GOODSMVT_CREATE', params, what, traceparent)
        const doc = text(r.body, 'MATERIALDOCUMENT')
        if (!doc)
          throw new EgressFailure(
            'QLK_REMOTE_INVALID_RESPONSE',
            `${what}: no MATERIALDOCUMENT and no error in RETURN`,
            {
              ambiguous: true,
            },
          )
        return { documents: [doc], alreadyDone: false }
      } catch (e) {
        if (!(e instanceof EgressFailure && e.ambiguous)) throw e
      }
    }
    throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `${what}: not confirmed by read-back after 3 sends`, {
      ambiguous: true,
    })
  }

  /** MCHB-style rows: CLABS unrestricted, CINSM quality inspection, CSPEM blocked (reserves in their sloc). */
  async readLotStock(lot: LotRef, traceparent?: string): Promise<LotStockReading> {
    const r = await this.soap.call(
      'Z_BATCH_STOCK_READ',
      { MATERIAL: lot.material, PLANT: lot.plant, BATCH: lot.lot },
      `read stock of ${lot.material}/${lot.lot}`,
      traceparent,
    )
    const scale = this.config.quantityScale
    const out: Partial<Record<Bucket, Quantity>> = {}
    const add = (bucket: Bucket, value: string, uom: string, field: string) => {
      const q = fromSap(value || '0', scale, uom, field)
      if (q.units === 0) return
      const prev = out[bucket]
      out[bucket] = prev ? { ...prev, units: prev.units + q.units } : q
    }
    for (const row of rows(r.body, 'STOCK')) {
      const uom = text(row, 'MEINS')
      if (text(row, 'STGE_LOC') === this.config.reservesStorageLocation) {
        add('reserves', text(row, 'CSPEM'), uom, 'STOCK.CSPEM')
        add('unrestricted', text(row, 'CLABS'), uom, 'STOCK.CLABS')
        add('qualityInspection', text(row, 'CINSM'), uom, 'STOCK.CINSM')
        continue
      }
      add('unrestricted', text(row, 'CLABS'), uom, 'STOCK.CLABS')
      add('qualityInspection', text(row, 'CINSM'), uom, 'STOCK.CINSM')
      add('blocked', text(row, 'CSPEM'), uom, 'STOCK.CSPEM')
    }
    return { lot, quantities: out }
  }
}

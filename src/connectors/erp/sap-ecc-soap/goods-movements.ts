/**
 * Goods movements through BAPI_GOODSMVT_CREATE, at most once each (DESIGN §6), and the lot's
 * stock per stock type through Z_BATCH_STOCK_READ.
 *
 * Like SAP, ECC does not deduplicate: the same call twice posts two material documents. So every
 * movement carries a reference derived from the business key in the header text (BKTXT, CHAR 25;
 * its first 16 characters in REF_DOC_NO/XBLNR for MB51 searches), and before the first send and
 * after any answer that may hide a commit (lost connection, timeout, 5xx, Server fault) the lot's
 * material documents are read with BAPI_GOODSMVT_GETITEMS and searched for that header text: one
 * found means posted, nothing found means not arrived, so it is sent again.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { Quantity } from '../../../model/quantity.ts'
import type { Bucket } from '../../../model/stock.ts'
import type {
  LotRef,
  LotStockReading,
  PostStockDispositionInput,
  StockPostingResult,
  StockSplitLine,
} from '../../../workflows/ports/erp.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'
import { fromSap, steps } from '../sap-s4/mapping.ts'
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

export interface Group {
  readonly bucket: StockSplitLine['bucket']
  readonly targetMaterial: string
  readonly targetLot: string
  readonly uom: string
  /** steps at the configured scale */
  units: number
}

/** Lines of one bucket (and regrade target) are added up: one goods movement, one document each. */
export function groups(input: PostStockDispositionInput, scale: number): Group[] {
  const byKey = new Map<string, Group>()
  input.lines.forEach((line, i) => {
    const regrade = line.bucket === 'regrade'
    if (regrade && !line.targetMaterial && !line.targetLot)
      throw new PermanentError('QLK_VALIDATION', `lines[${i}]: regrade needs targetMaterial or targetLot`)
    const units = steps(line.quantity, scale, `lines[${i}].quantity`)
    if (units <= 0) throw new PermanentError('QLK_VALIDATION', `lines[${i}].quantity must be > 0`)
    const targetMaterial = regrade ? (line.targetMaterial ?? '') : ''
    const targetLot = regrade ? (line.targetLot ?? '') : ''
    const key = `${line.bucket}|${targetMaterial}|${targetLot}`
    const prev = byKey.get(key)
    if (prev && prev.uom !== line.quantity.uom)
      throw new PermanentError(
        'QLK_UNIT_CONVERSION',
        `lines[${i}].quantity is in ${line.quantity.uom}; an earlier ${line.bucket} line is in ${prev.uom}`,
      )
    if (prev) prev.units += units
    else byKey.set(key, { bucket: line.bucket, targetMaterial, targetLot, uom: line.quantity.uom, units })
  })
  if (byKey.size === 0) throw new PermanentError('QLK_VALIDATION', 'lines must not be empty')
  return [...byKey.values()]
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

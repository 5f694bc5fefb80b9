/**
 * ECC IDocs, pure: the MBGMCR03 goods movement Qualink sends (segments of BAPI_GOODSMVT_CREATE:
 * E1BP2017_GM_HEAD_01, _GM_CODE, _GM_ITEM_CREATE), the SYSTAT01 status IDocs ECC sends back, and
 * the mapping from canonical buckets to movement types, with the movements a usage decision or a
 * transfer makes (`usageDecisionMovements`, `transferMovementFor`), which erp/sap-ecc-soap posts too.
 *
 * Movement types are the ones erp/sap-s4 posts (quality-domain.md §1.4 table: 321, 553, 331, 350,
 * 350 to a blocked storage location, 309, 122; transfers as sap-s4/mapping.ts). An ECC plant
 * without the inspection-lot OData service posts them as plain goods movements out of QI stock.
 */
import { createHash } from 'node:crypto'
import { PermanentError } from '../../../engine/errors.ts'
import type { Bucket } from '../../../model/stock.ts'
import type {
  PostStockDispositionInput,
  StockPostingResult,
  TransferStockInput,
  UsageDecisionBucket,
} from '../../../workflows/ports/erp.ts'
import { referenceFor } from '../../sdk/reference.ts'
import { dispositionGroups, toSap, transferMovement } from '../sap-s4/mapping.ts'
import { child, children, field, parseXml, toXml } from './idoc-xml.ts'

/** [MOVE_TYPE, GM_CODE] per usage-decision bucket; every one leaves QI stock (STCK_TYPE X). */
export const UD_MOVEMENT: Readonly<Record<UsageDecisionBucket, readonly [string, string]>> = {
  release: ['321', '04'],
  scrap: ['553', '03'],
  sample: ['331', '03'],
  block: ['350', '04'],
  reserves: ['350', '04'],
  regrade: ['309', '04'],
  // Return delivery to the vendor: GM_CODE 01 with movement 122, as MIGO's "return delivery".
  return: ['122', '01'],
}

/**
 * One goods movement as both ECC connectors send it (IDoc or SOAP): its reference (the business key
 * digested), GM_CODE, a description for errors, and the item's fields other than the lot (each
 * connector names the lot in its own item shape).
 */
export interface EccMovement {
  readonly reference: string
  readonly code: string
  readonly what: string
  readonly item: Omit<GoodsMovementItem, 'material' | 'plant' | 'batch'>
}

/** The movements of a usage decision's stock posting, one per bucket, out of QI stock (STCK_TYPE X). */
export function usageDecisionMovements(
  input: PostStockDispositionInput,
  scale: number,
  locations: { readonly storageLocation?: string; readonly reservesStorageLocation: string },
): EccMovement[] {
  return dispositionGroups(input, scale).map((g) => {
    const [movementType, code] = UD_MOVEMENT[g.bucket]
    return {
      reference: referenceFor(`${input.idempotencyKey}|${g.bucket}|${g.targetMaterial}|${g.targetLot}`),
      code,
      what: `post ${g.bucket} of ${input.lot.material}/${input.lot.lot} (inspection lot ${input.inspectionLot})`,
      item: {
        movementType,
        stockType: 'X',
        quantity: toSap({ units: g.units, scale, uom: g.uom }, scale, `${g.bucket} quantity`),
        uom: g.uom,
        storageLocation:
          g.bucket === 'reserves' ? locations.reservesStorageLocation : locations.storageLocation,
        ...(g.bucket === 'regrade'
          ? { moveMaterial: g.targetMaterial || input.lot.material, moveBatch: g.targetLot || input.lot.lot }
          : {}),
      },
    }
  })
}

/** A transfer between stock types as one movement (transferItem), keyed by the step's key. */
export function transferMovementFor(
  input: TransferStockInput,
  scale: number,
  storageLocation: string | undefined,
): EccMovement {
  const m = transferItem(input.from, input.to)
  return {
    reference: referenceFor(input.idempotencyKey),
    code: m.code,
    what: `transfer ${input.from}→${input.to} of ${input.lot.material}/${input.lot.lot}`,
    item: {
      movementType: m.movementType,
      stockType: m.stockType,
      quantity: toSap(input.quantity, scale, 'quantity'),
      uom: input.quantity.uom,
      storageLocation,
    },
  }
}

/**
 * Posts `movements` one after another (a failure stops the rest; a retry of the step re-reads the
 * ones already posted through their references): the documents of all, `alreadyDone` only when
 * every one had been posted before.
 */
export async function postInTurn(
  movements: readonly EccMovement[],
  post: (m: EccMovement) => Promise<StockPostingResult>,
): Promise<StockPostingResult> {
  const documents: string[] = []
  let alreadyDone = true
  for (const m of movements) {
    const r = await post(m)
    documents.push(...r.documents)
    alreadyDone &&= r.alreadyDone
  }
  return { documents, alreadyDone }
}

/** BAPI STCK_TYPE: blank unrestricted, X quality inspection, S blocked (OData 01/02/07). */
const BAPI_STOCK_TYPE: Readonly<Record<string, string>> = { '01': '', '02': 'X', '07': 'S' }

export interface GoodsMovementItem {
  readonly material: string
  readonly plant: string
  readonly batch: string
  readonly movementType: string
  /** BAPI STCK_TYPE of the source stock: '', 'X' or 'S' */
  readonly stockType: string
  /** DEC 13,3 string */
  readonly quantity: string
  readonly uom: string
  readonly storageLocation?: string
  readonly moveMaterial?: string
  readonly moveBatch?: string
}

export interface GoodsMovement {
  /** EDI_DC40-DOCNUM: the sender's IDoc number, derived from the business key */
  readonly docnum: string
  readonly code: string
  /** BKTXT (CHAR 25): the reference the key digests to */
  readonly headerText: string
  /** YYYYMMDD */
  readonly postingDate: string
  readonly item: GoodsMovementItem
}

/** A transfer between stock types as one item, or a refusal naming the pair. */
export function transferItem(
  from: Bucket,
  to: Bucket,
): { movementType: string; code: string; stockType: string } {
  const m = transferMovement(from, to)
  return { movementType: m.movementType, code: m.code, stockType: BAPI_STOCK_TYPE[m.stockType] ?? '' }
}

/**
 * EDI_DC40-DOCNUM is 16 digits. Ours is derived from the reference, so the status IDoc of any
 * earlier attempt for the same key carries the same number (E1STATS-DOCNUM) and is found on read-back.
 * 16 decimal digits hold ~53 bits of the SHA-256 digest.
 */
export function senderDocnum(reference: string): string {
  const digest = createHash('sha256').update(reference).digest('hex').slice(0, 24)
  return (BigInt(`0x${digest}`) % 10n ** 16n).toString().padStart(16, '0')
}

export function mbgmcrXml(m: GoodsMovement, partners: { sender: string; receiver: string }): string {
  const it = m.item
  const item: Record<string, string> = {
    MATERIAL: it.material,
    PLANT: it.plant,
    ...(it.storageLocation ? { STGE_LOC: it.storageLocation } : {}),
    BATCH: it.batch,
    MOVE_TYPE: it.movementType,
    STCK_TYPE: it.stockType,
    ENTRY_QNT: it.quantity,
    ENTRY_UOM: it.uom,
    ...(it.moveMaterial ? { MOVE_MAT: it.moveMaterial } : {}),
    ...(it.moveBatch ? { MOVE_BATCH: it.moveBatch } : {}),
  }
  return `<?xml version="1.0" encoding="UTF-8"?>${toXml({
    MBGMCR03: {
      IDOC: {
        EDI_DC40: {
          TABNAM: 'EDI_DC40',
          DOCNUM: m.docnum,
          DIRECT: '2',
          IDOCTYP: 'MBGMCR03',
          MESTYP: 'MBGMCR',
          SNDPRT: 'LS',
          SNDPRN: partners.sender,
          RCVPRT: 'LS',
          RCVPRN: partners.receiver,
        },
        E1MBGMCR: {
          E1BP2017_GM_HEAD_01: {
            PSTNG_DATE: m.postingDate,
            DOC_DATE: m.postingDate,
            // XBLNR is CHAR 16: the reference's first 16 characters, for ECC users' searches (MB51).
            REF_DOC_NO: m.headerText.slice(0, 16),
            HEADER_TXT: m.headerText,
          },
          E1BP2017_GM_CODE: { GM_CODE: m.code },
          E1BP2017_GM_ITEM_CREATE: item,
        },
      },
    },
  })}`
}

/** One E1STATS record of a SYSTAT01 status IDoc. */
export interface IdocStatus {
  /** E1STATS-DOCNUM: the sender's (our) IDoc number */
  readonly docnum: string
  /** 53 application document posted, 51 not posted, 64 ready, … */
  readonly status: string
  readonly text: string
  /** STAPA1: the material document number on 53 */
  readonly materialDocument: string
  /** STAPA2: ECC's own IDoc number */
  readonly eccDocnum: string
}

/** Every status record in a SYSTAT01 (or ALEAUD-style) document; throws when it is not well-formed. */
export function parseStatusIdocs(xml: string): IdocStatus[] {
  const root = parseXml(xml)
  return children(root, 'IDOC').flatMap((idoc) =>
    children(idoc, 'E1STATS').map((s) => ({
      docnum: field(s, 'DOCNUM'),
      status: field(s, 'STATUS'),
      text: field(s, 'STATXT'),
      materialDocument: field(s, 'STAPA1'),
      eccDocnum: field(s, 'STAPA2') || field(child(idoc, 'EDI_DC40'), 'DOCNUM'),
    })),
  )
}

/**
 * ECC's synchronous answer to an IDoc-XML POST, one line per IDoc: "IDoc <n> created (status 53)".
 * `undefined` when the answer does not say (the status IDoc then decides).
 */
export function answeredStatus(text: string): { eccDocnum: string; status: string } | undefined {
  const m = /IDoc\s+(\d+)\s+created\s+\(status\s+(\d{2})\)/.exec(text)
  return m ? { eccDocnum: m[1]!, status: m[2]! } : undefined
}

export function yyyymmdd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '')
}

export function unsupported(operation: string, why: string): never {
  throw new PermanentError('QLK_VALIDATION', `erp/sap-ecc-idoc: ${operation} is not available: ${why}`)
}

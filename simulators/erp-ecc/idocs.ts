/**
 * Inbound IDoc processing for the ECC simulator: MBGMCR (goods movement, BAPI_GOODSMVT_CREATE
 * segments), MATMAS (material master, incl. the MARC QM flag) and BATMAS (batch master); each
 * inbound IDoc gets an ECC IDoc number and a status 53 (posted) or 51 (error), reported back as a
 * SYSTAT01 status IDoc. Goods movements go through the same material-document core as erp-s4.
 */

import { type PostingHooks, postMaterialDocument } from '../erp-s4/material-documents.ts'
import type { S4Model } from '../erp-s4/model.ts'
import { HttpError } from '../shared/http.ts'
import { child, children, field, toXml, type XmlElement } from './xml.ts'

/** BAPI STCK_TYPE: blank unrestricted, X quality inspection, S blocked → OData stock types. */
const STCK_TYPE: Record<string, string> = { '': '01', X: '02', S: '07' }

export interface IdocResult {
  readonly eccDocnum: string
  readonly senderDocnum: string
  readonly messageType: string
  readonly status: '53' | '51'
  readonly text: string
  readonly materialDocument?: string
}

export interface BatchMaster {
  readonly material: string
  readonly batch: string
  readonly plant: string
  readonly expiryDate: string
  readonly vendorBatch: string
}

function ymd(v: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v)
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined
}

function errorText(err: unknown): string {
  if (err instanceof HttpError) {
    const b = err.body as { error?: { code?: string; message?: { value?: string } } }
    return `${b.error?.code ?? ''} ${b.error?.message?.value ?? err.message}`.trim()
  }
  return (err as Error).message
}

export class IdocProcessor {
  private seq = 0
  readonly results: IdocResult[] = []
  readonly batches = new Map<string, BatchMaster>()

  constructor(
    private readonly model: S4Model,
    private readonly materials: Map<string, { inspectionRelevant: boolean; baseUnit: string }>,
    private readonly hooks: PostingHooks,
  ) {}

  /** Splits an IDoc-XML document (one or more <IDOC>) and processes each; never throws per IDoc. */
  process(root: XmlElement): IdocResult[] {
    const idocs = children(root, 'IDOC')
    if (idocs.length === 0) throw new Error(`<${root.name}> contains no <IDOC>`)
    return idocs.map((idoc) => this.processOne(root.name, idoc))
  }

  private processOne(basicType: string, idoc: XmlElement): IdocResult {
    this.seq += 1
    const eccDocnum = String(this.seq).padStart(16, '0')
    const control = child(idoc, 'EDI_DC40')
    const senderDocnum = field(control, 'DOCNUM')
    const messageType = field(control, 'MESTYP') || basicType.replace(/\d+$/, '')
    let result: IdocResult
    try {
      if (messageType === 'MBGMCR') {
        const doc = this.goodsMovement(idoc)
        result = {
          eccDocnum,
          senderDocnum,
          messageType,
          status: '53',
          text: `Material document ${doc} posted`,
          materialDocument: doc,
        }
      } else if (messageType === 'MATMAS') {
        result = {
          eccDocnum,
          senderDocnum,
          messageType,
          status: '53',
          text: `Material ${this.materialMaster(idoc)} saved`,
        }
      } else if (messageType === 'BATMAS') {
        result = {
          eccDocnum,
          senderDocnum,
          messageType,
          status: '53',
          text: `Batch ${this.batchMaster(idoc)} saved`,
        }
      } else {
        throw new Error(
          `Message type ${messageType} is not configured for inbound processing (partner profile)`,
        )
      }
    } catch (err) {
      result = { eccDocnum, senderDocnum, messageType, status: '51', text: errorText(err) }
    }
    this.results.push(result)
    return result
  }

  private goodsMovement(idoc: XmlElement): string {
    const body = child(idoc, 'E1MBGMCR')
    if (!body) throw new Error('Segment E1MBGMCR missing')
    const head = child(body, 'E1BP2017_GM_HEAD_01')
    const code = field(child(body, 'E1BP2017_GM_CODE'), 'GM_CODE')
    const items = children(body, 'E1BP2017_GM_ITEM_CREATE').map((it) => {
      const stck = field(it, 'STCK_TYPE')
      const type = STCK_TYPE[stck]
      if (type === undefined) throw new Error(`STCK_TYPE '${stck}' is not blank, X or S`)
      return {
        Material: field(it, 'MATERIAL'),
        Plant: field(it, 'PLANT'),
        StorageLocation: field(it, 'STGE_LOC'),
        Batch: field(it, 'BATCH'),
        GoodsMovementType: field(it, 'MOVE_TYPE'),
        InventoryStockType: stck === '' ? '' : type,
        IssgOrRcvgMaterial: field(it, 'MOVE_MAT'),
        IssgOrRcvgBatch: field(it, 'MOVE_BATCH'),
        PurchaseOrder: field(it, 'PO_NUMBER'),
        PurchaseOrderItem: field(it, 'PO_ITEM'),
        ManufacturingOrder: field(it, 'ORDERID'),
        Supplier: field(it, 'VENDOR'),
        QuantityInEntryUnit: field(it, 'ENTRY_QNT'),
        EntryUnit: field(it, 'ENTRY_UOM'),
        GoodsMovementReasonCode: field(it, 'MOVE_REAS'),
      }
    })
    const doc = postMaterialDocument(
      this.model,
      {
        GoodsMovementCode: code,
        PostingDate: ymd(field(head, 'PSTNG_DATE')),
        DocumentDate: ymd(field(head, 'DOC_DATE')),
        MaterialDocumentHeaderText: field(head, 'HEADER_TXT'),
        ReferenceDocument: field(head, 'REF_DOC_NO'),
        items,
      },
      this.hooks,
    )
    return doc.MaterialDocument
  }

  private materialMaster(idoc: XmlElement): string {
    const mara = child(idoc, 'E1MARAM')
    const matnr = field(mara, 'MATNR')
    if (!matnr) throw new Error('E1MARAM-MATNR is empty')
    // MARC-QMATV: inspection setup exists → receipts go to QI stock and open a lot.
    const qm = children(mara!, 'E1MARCM').some((marc) => field(marc, 'QMATV') === 'X')
    this.materials.set(matnr, { inspectionRelevant: qm, baseUnit: field(mara, 'MEINS') || 'PC' })
    return matnr
  }

  private batchMaster(idoc: XmlElement): string {
    const seg = child(idoc, 'E1BATMAS')
    const material = field(seg, 'MATERIAL')
    const batch = field(seg, 'BATCH')
    if (!material || !batch) throw new Error('E1BATMAS needs MATERIAL and BATCH')
    const att = seg ? child(seg, 'E1BPBATCHATT') : undefined
    this.batches.set(`${material}|${batch}`, {
      material,
      batch,
      plant: field(seg, 'PLANT'),
      expiryDate: field(att, 'EXPIRYDATE'),
      vendorBatch: field(att, 'VENDRBATCH'),
    })
    return batch
  }
}

/** The SYSTAT01 status IDoc ECC sends back to the sender for one inbound IDoc. */
export function statusIdoc(r: IdocResult, now: Date): string {
  const d = now.toISOString()
  return `<?xml version="1.0" encoding="UTF-8"?>${toXml({
    SYSTAT01: {
      IDOC: {
        EDI_DC40: {
          TABNAM: 'EDI_DC40',
          DOCNUM: r.eccDocnum,
          IDOCTYP: 'SYSTAT01',
          MESTYP: 'STATUS',
          SNDPRT: 'LS',
          SNDPRN: 'ECCCLNT100',
          RCVPRT: 'LS',
          RCVPRN: 'QUALINK',
        },
        E1STATS: {
          TABNAM: 'EDI_DS40',
          DOCNUM: r.senderDocnum,
          LOGDAT: d.slice(0, 10).replace(/-/g, ''),
          LOGTIM: d.slice(11, 19).replace(/:/g, ''),
          STATUS: r.status,
          STATXT: r.text,
          STAPA1: r.materialDocument ?? '',
          STAPA2: r.eccDocnum,
          STATYP: r.status === '53' ? 'S' : 'E',
          STAMID: r.status === '53' ? 'M7' : 'B1',
        },
      },
    },
  })}`
}

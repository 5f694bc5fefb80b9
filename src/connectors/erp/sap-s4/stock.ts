/**
 * Transfer postings between stock types (A_MaterialDocumentHeader deep insert, GoodsMovementCode
 * 04/03) and the lot's stock per stock type (A_MatlStkInAcctMod).
 *
 * Idempotency (DESIGN §6): the key's reference goes into MaterialDocumentHeaderText and
 * ReferenceDocument; before posting and after any ambiguous failure the connector reads
 * A_MaterialDocumentHeader by that text. A reversal copies the header text, so reversal documents
 * (code 06) are skipped; an original that was reversed in SAP is a conflict for a person, not a
 * reason to post again.
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { Quantity } from '../../../model/quantity.ts'
import type { Bucket } from '../../../model/stock.ts'
import type {
  LotRef,
  LotStockReading,
  StockPostingResult,
  TransferStockInput,
} from '../../../workflows/ports/erp.ts'
import { EgressFailure } from '../../sdk/http-errors.ts'
import { type SapS4Config, SERVICES } from './config.ts'
import { fromSap, referenceFor, toSap, transferMovement } from './mapping.ts'
import { filterQuery, type ODataClient, type ODataEntity, text } from './odata.ts'

function items(doc: ODataEntity): ODataEntity[] {
  const nav = doc.to_MaterialDocumentItem as { results?: unknown } | undefined
  return Array.isArray(nav?.results) ? (nav.results as ODataEntity[]) : []
}

function isReversal(doc: ODataEntity): boolean {
  return (
    text(doc, 'GoodsMovementCode') === '06' ||
    items(doc).some((i) => text(i, 'ReversedMaterialDocument') !== '')
  )
}

export class StockPoster {
  constructor(
    private readonly odata: ODataClient,
    private readonly config: SapS4Config,
  ) {}

  /** Documents that carry `reference`, reversals excluded. */
  private async findByReference(reference: string, traceparent?: string): Promise<ODataEntity[]> {
    const docs = await this.odata.getCollection(
      `${SERVICES.documents}/A_MaterialDocumentHeader?${filterQuery(
        { MaterialDocumentHeaderText: reference },
        { $expand: 'to_MaterialDocumentItem' },
      )}`,
      `read back material documents of ${reference}`,
      traceparent,
    )
    return docs.filter((d) => !isReversal(d))
  }

  async transfer(input: TransferStockInput): Promise<StockPostingResult> {
    const reference = referenceFor(input.idempotencyKey)
    const m = transferMovement(input.from, input.to)
    const scale = this.config.quantityScale
    const qty = toSap(input.quantity, scale, 'quantity')
    for (let round = 0; round < 3; round++) {
      const found = await this.findByReference(reference, input.traceparent)
      if (found.length > 0) {
        if (found.every((d) => items(d).every((i) => i.GoodsMovementIsCancelled === true)))
          throw new PermanentError(
            'QLK_REMOTE_CONFLICT',
            `transfer ${reference} was posted and then reversed in SAP (${found.map((d) => text(d, 'MaterialDocument')).join(', ')}); not posting again`,
          )
        return { documents: found.map((d) => text(d, 'MaterialDocument')), alreadyDone: round === 0 }
      }
      try {
        const res = await this.odata.modify(
          'POST',
          SERVICES.documents,
          '/A_MaterialDocumentHeader',
          {
            GoodsMovementCode: m.code,
            MaterialDocumentHeaderText: reference,
            // XBLNR is CHAR 16: the reference's first 16 characters, for SAP users' searches.
            ReferenceDocument: reference.slice(0, 16),
            to_MaterialDocumentItem: [
              {
                Material: input.lot.material,
                Plant: input.lot.plant,
                Batch: input.lot.lot,
                GoodsMovementType: m.movementType,
                InventoryStockType: m.stockType,
                QuantityInEntryUnit: qty,
                EntryUnit: input.quantity.uom,
              },
            ],
          },
          {
            traceparent: input.traceparent,
            context: `transfer ${input.from}→${input.to} of ${input.lot.lot}`,
          },
        )
        const d = (res.json<{ d?: ODataEntity }>().d ?? {}) as ODataEntity
        return { documents: [text(d, 'MaterialDocument')], alreadyDone: false }
      } catch (e) {
        if (!(e instanceof EgressFailure && e.ambiguous)) throw e
      }
    }
    throw new EgressFailure('QLK_EGRESS_AMBIGUOUS', `transfer ${reference}: not confirmed by read-back`, {
      ambiguous: true,
    })
  }

  /** The documents of the transfer posted with this key: its reference read back, reversed ones left out. */
  async findTransfer(idempotencyKey: string, traceparent?: string): Promise<string[]> {
    const found = await this.findByReference(referenceFor(idempotencyKey), traceparent)
    const reversed = (d: ODataEntity) =>
      items(d).length > 0 && items(d).every((i) => i.GoodsMovementIsCancelled === true)
    return found.filter((d) => !reversed(d)).map((d) => text(d, 'MaterialDocument'))
  }

  async readLotStock(lot: LotRef, traceparent?: string): Promise<LotStockReading> {
    const rows = await this.odata.getCollection(
      `${SERVICES.stock}/A_MatlStkInAcctMod?${filterQuery({ Material: lot.material, Plant: lot.plant, Batch: lot.lot })}`,
      `read stock of ${lot.material}/${lot.lot}`,
      traceparent,
    )
    const scale = this.config.quantityScale
    const out: Partial<Record<Bucket, Quantity>> = {}
    for (const r of rows) {
      const st = text(r, 'InventoryStockType')
      const bucket: Bucket | undefined =
        st === '01'
          ? 'unrestricted'
          : st === '02'
            ? 'qualityInspection'
            : st === '07'
              ? text(r, 'StorageLocation') === this.config.reservesStorageLocation
                ? 'reserves'
                : 'blocked'
              : undefined
      if (!bucket) continue
      const q = fromSap(
        r.MatlWrhsStkQtyInMatlBaseUnit,
        scale,
        text(r, 'MaterialBaseUnit'),
        'MatlWrhsStkQtyInMatlBaseUnit',
      )
      const prev = out[bucket]
      out[bucket] = prev ? { ...prev, units: prev.units + q.units } : q
    }
    return { lot, quantities: out }
  }
}

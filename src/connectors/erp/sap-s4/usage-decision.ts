/**
 * The usage decision and its stock posting, two calls as in SAP (DESIGN §1): A_InspLotUsageDecision,
 * then one A_InspLotMatlDocItem per stock type of the split.
 *
 * A_InspLotMatlDocItem has no free-text field for our key, so idempotency comes from the lot itself:
 * the postings already on the lot are read back (A_InspectionLot('…')/to_InspLotMatlDocItem) and
 * only the difference to the decided split is posted — before the first post, after every post,
 * and after any ambiguous failure. SAP's "already posted" (QA 185) counts as success only when
 * that read-back shows exactly the decided split (quality-domain.md §1.4: public integration code
 * treats 185 as done; we verify first).
 */
import { PermanentError } from '../../../engine/errors.ts'
import type { Quantity } from '../../../model/quantity.ts'
import type {
  ChangeUsageDecisionInput,
  PostStockDispositionInput,
  RecordUsageDecisionInput,
  StateChangeResult,
  StockPostingResult,
} from '../../../workflows/ports/erp.ts'
import { EgressFailure, RemoteRejected } from '../../sdk/http-errors.ts'
import type { SapS4Config } from './config.ts'
import { SERVICES } from './config.ts'
import { setState } from './holds.ts'
import { fromSap, steps, toSap, UD_STOCK_TYPE } from './mapping.ts'
import {
  etagOf,
  filterQuery,
  literal,
  type ODataClient,
  type ODataEntity,
  StaleEtagRule,
  text,
} from './odata.ts'

interface Group {
  readonly key: string
  readonly stockType: string
  readonly materialTo: string
  readonly batchTo: string
  /** steps at the configured scale */
  readonly qty: number
}

const groupKey = (stockType: string, materialTo: string, batchTo: string) =>
  `${stockType}|${materialTo}|${batchTo}`

/**
 * Failures after which the lot is read again instead of giving up: a lost answer; 185 (lot already
 * complete: verify) and 186 (more than the remainder: someone posted meanwhile); a 412 (the lot
 * changed since we read its ETag) once, then QLK_REMOTE_CONFLICT (StaleEtagRule).
 */
function rereadable(e: unknown, stale: StaleEtagRule): boolean {
  if (e instanceof EgressFailure) return e.ambiguous
  if (stale.reread(e)) return true
  return e instanceof RemoteRejected && (e.remoteCode === 'QA/185' || e.remoteCode === 'QA/186')
}

export class UsageDecisionPoster {
  constructor(
    private readonly odata: ODataClient,
    private readonly config: SapS4Config,
  ) {}

  private async lot(id: string, traceparent?: string): Promise<ODataEntity> {
    const lot = await this.odata.getEntity(
      `${SERVICES.lots}/A_InspectionLot(${literal(id)})`,
      `read inspection lot ${id}`,
      traceparent,
    )
    if (!lot) throw new PermanentError('QLK_REMOTE_REJECTED', `inspection lot ${id} does not exist in SAP`)
    return lot
  }

  /** InspLotQtyToBePosted: zero once the decided split is fully posted out of QI. */
  async remainder(id: string, traceparent?: string): Promise<Quantity> {
    const lot = await this.lot(id, traceparent)
    const uom = text(lot, 'InspectionLotQuantityUnit')
    return fromSap(lot.InspLotQtyToBePosted, this.config.quantityScale, uom, 'InspLotQtyToBePosted')
  }

  async recordUsageDecision(input: RecordUsageDecisionInput): Promise<StateChangeResult> {
    const r = await this.recordDecision(input)
    // The QMS lot's id on the SAP lot (InspectionLotText, CHAR 40): how a later change finds it.
    if (input.reference)
      await setState(this.odata, {
        service: SERVICES.lots,
        entityPath: `/A_InspectionLot(${literal(input.inspectionLot)})`,
        what: `text of inspection lot ${input.inspectionLot}`,
        isDone: (e) => e.InspectionLotText === input.reference!.slice(0, 40),
        patch: { InspectionLotText: input.reference.slice(0, 40) },
        traceparent: input.traceparent,
      })
    return r
  }

  private async recordDecision(input: RecordUsageDecisionInput): Promise<StateChangeResult> {
    const lotId = input.inspectionLot
    const wanted = input.valuation === 'accepted' ? 'A' : 'R'
    const stale = new StaleEtagRule(`usage decision of ${lotId}`)
    for (let round = 0; round < 3; round++) {
      const ud = await this.odata.getEntity(
        `${SERVICES.lots}/A_InspLotUsageDecision(${literal(lotId)})`,
        `read usage decision of ${lotId}`,
        input.traceparent,
      )
      if (ud) {
        if (text(ud, 'InspectionLotUsageDecisionCode') !== input.code)
          throw new PermanentError(
            'QLK_REMOTE_CONFLICT',
            `inspection lot ${lotId} already has usage decision ${text(ud, 'InspectionLotUsageDecisionCode')}, not ${input.code}`,
          )
        return { changed: round > 0 }
      }
      await this.lot(lotId, input.traceparent)
      try {
        await this.odata.modify(
          'POST',
          SERVICES.lots,
          '/A_InspLotUsageDecision',
          {
            InspectionLot: lotId,
            InspLotUsageDecisionLevel: 'L',
            InspectionLotUsageDecisionCode: input.code,
            InspLotUsageDecisionCodeGroup: input.codeGroup ?? '',
            InspLotUsageDecisionValuation: wanted,
            InspectionLotUsageDecidedBy: (input.decidedBy ?? 'QUALINK').slice(0, 12),
          },
          { traceparent: input.traceparent, context: `record usage decision of ${lotId}` },
        )
        return { changed: true }
      } catch (e) {
        // QA/094 "already made" or a lost answer: the next round's read-back decides.
        if (!(rereadable(e, stale) || (e instanceof RemoteRejected && e.remoteCode === 'QA/094'))) throw e
      }
    }
    throw new EgressFailure(
      'QLK_EGRESS_AMBIGUOUS',
      `usage decision of ${lotId}: not confirmed by read-back`,
      {
        ambiguous: true,
      },
    )
  }

  /**
   * A changed decision on the batch's inspection lots of the changed QMS inspection (found by the
   * reference written with the decision; without one, every lot carrying the replaced code). SAP keeps one decision per lot and lets its code be changed (PATCH with the
   * ETag); each lot is read first and changed only if it still differs, so a retry is a no-op.
   */
  async changeUsageDecision(input: ChangeUsageDecisionInput): Promise<StateChangeResult> {
    const lots = await this.odata.getCollection(
      `${SERVICES.lots}/A_InspectionLot?${filterQuery({ Material: input.lot.material, Plant: input.lot.plant, Batch: input.lot.lot })}`,
      `find inspection lots of ${input.lot.lot}`,
      input.traceparent,
    )
    let changed = false
    let found = false
    const ref = input.reference?.slice(0, 40)
    for (const l of lots) {
      const id = text(l, 'InspectionLot')
      // With a reference only the lots of that QMS inspection; without, every lot with the code.
      if (ref !== undefined && text(l, 'InspectionLotText') !== ref) continue
      const ud = await this.odata.getEntity(
        `${SERVICES.lots}/A_InspLotUsageDecision(${literal(id)})`,
        `read usage decision of ${id}`,
        input.traceparent,
      )
      const code = ud ? text(ud, 'InspectionLotUsageDecisionCode') : ''
      if (code !== input.previousCode && code !== input.code) continue
      found = true
      const r = await setState(this.odata, {
        service: SERVICES.lots,
        entityPath: `/A_InspLotUsageDecision(${literal(id)})`,
        what: `usage decision of inspection lot ${id}`,
        isDone: (e) => e.InspectionLotUsageDecisionCode === input.code,
        patch: {
          InspectionLotUsageDecisionCode: input.code,
          InspLotUsageDecisionValuation: input.valuation === 'accepted' ? 'A' : 'R',
          ...(input.codeGroup ? { InspLotUsageDecisionCodeGroup: input.codeGroup } : {}),
        },
        traceparent: input.traceparent,
      })
      changed ||= r.changed
    }
    if (!found)
      throw new PermanentError(
        'QLK_REMOTE_CONFLICT',
        `no inspection lot of batch ${input.lot.lot} carries usage decision ${input.previousCode} or ${input.code} in SAP`,
      )
    return { changed }
  }

  private groups(input: PostStockDispositionInput, uom: string): Group[] {
    const scale = this.config.quantityScale
    const byKey = new Map<string, Group>()
    input.lines.forEach((line, i) => {
      if (line.quantity.uom !== uom)
        throw new PermanentError(
          'QLK_UNIT_CONVERSION',
          `lines[${i}].quantity is in ${line.quantity.uom}; inspection lot ${input.inspectionLot} is kept in ${uom}`,
        )
      const qty = steps(line.quantity, scale, `lines[${i}].quantity`)
      if (qty <= 0) throw new PermanentError('QLK_VALIDATION', `lines[${i}].quantity must be > 0`)
      const regrade = line.bucket === 'regrade'
      if (regrade && !line.targetMaterial && !line.targetLot)
        throw new PermanentError('QLK_VALIDATION', `lines[${i}]: regrade needs targetMaterial or targetLot`)
      const st = UD_STOCK_TYPE[line.bucket]
      const m = regrade ? (line.targetMaterial ?? '') : ''
      const b = regrade ? (line.targetLot ?? '') : ''
      const key = groupKey(st, m, b)
      const prev = byKey.get(key)
      byKey.set(key, { key, stockType: st, materialTo: m, batchTo: b, qty: (prev?.qty ?? 0) + qty })
    })
    if (byKey.size === 0) throw new PermanentError('QLK_VALIDATION', 'lines must not be empty')
    return [...byKey.values()]
  }

  async post(input: PostStockDispositionInput): Promise<StockPostingResult> {
    const lotId = input.inspectionLot
    const scale = this.config.quantityScale
    let groups: Group[] | undefined
    const maxRounds = input.lines.length + 4
    const stale = new StaleEtagRule(`UD stock posting of ${lotId}`)
    for (let round = 0; round < maxRounds; round++) {
      const lot = await this.lot(lotId, input.traceparent)
      const uom = text(lot, 'InspectionLotQuantityUnit')
      for (const [field, sap] of [
        ['material', 'Material'],
        ['plant', 'Plant'],
        ['lot', 'Batch'],
      ] as const) {
        if (text(lot, sap) !== input.lot[field])
          throw new PermanentError(
            'QLK_REMOTE_CONFLICT',
            `inspection lot ${lotId} is for ${sap} ${text(lot, sap)}, not ${input.lot[field]}`,
          )
      }
      groups ??= this.groups(input, uom)
      const postings = await this.odata.getCollection(
        `${SERVICES.lots}/A_InspectionLot(${literal(lotId)})/to_InspLotMatlDocItem`,
        `read back UD postings of ${lotId}`,
        input.traceparent,
      )
      const posted = new Map<string, number>()
      for (const p of postings) {
        const k = groupKey(
          text(p, 'UsageDecisionStockType'),
          text(p, 'InspLotMaterialPostedTo'),
          text(p, 'InspLotBatchTransferredTo'),
        )
        posted.set(
          k,
          (posted.get(k) ?? 0) + fromSap(p.InspLotQtyPosted, scale, uom, 'InspLotQtyPosted').units,
        )
      }
      const ours = new Set(groups.map((g) => g.key))
      const foreign = [...posted.keys()].filter((k) => !ours.has(k))
      const over = groups.filter((g) => (posted.get(g.key) ?? 0) > g.qty)
      if (foreign.length > 0 || over.length > 0)
        throw new PermanentError(
          'QLK_REMOTE_CONFLICT',
          `inspection lot ${lotId} holds postings that differ from the decided split (${[...foreign, ...over.map((g) => g.key)].join(', ')}); reconcile by hand`,
        )
      const missing = groups
        .map((g) => ({ ...g, qty: g.qty - (posted.get(g.key) ?? 0) }))
        .filter((g) => g.qty > 0)
      if (missing.length === 0) {
        return {
          documents: [...new Set(postings.map((p) => text(p, 'MaterialDocument')))],
          alreadyDone: round === 0,
        }
      }
      const rest = fromSap(lot.InspLotQtyToBePosted, scale, uom, 'InspLotQtyToBePosted').units
      const need = missing.reduce((s, g) => s + g.qty, 0)
      if (need > rest)
        throw new PermanentError(
          'QLK_REMOTE_CONFLICT',
          `inspection lot ${lotId}: ${need} steps still to post, SAP has only ${rest} left to be posted`,
        )
      const g = missing[0]!
      try {
        await this.odata.modify(
          'POST',
          SERVICES.lots,
          '/A_InspLotMatlDocItem',
          {
            InspectionLot: lotId,
            UsageDecisionStockType: g.stockType,
            InspLotQtyPosted: toSap({ units: g.qty, scale, uom }, scale, 'InspLotQtyPosted'),
            ...(g.stockType === UD_STOCK_TYPE.reserves
              ? { StorageLocation: this.config.reservesStorageLocation }
              : {}),
            ...(g.materialTo ? { InspLotMaterialPostedTo: g.materialTo } : {}),
            ...(g.batchTo ? { InspLotBatchTransferredTo: g.batchTo } : {}),
          },
          {
            etag: etagOf(lot),
            traceparent: input.traceparent,
            context: `post UD stock ${g.stockType} of ${lotId}`,
          },
        )
      } catch (e) {
        if (!rereadable(e, stale)) throw e
      }
    }
    throw new EgressFailure(
      'QLK_EGRESS_AMBIGUOUS',
      `UD stock posting of ${lotId}: read-back did not converge`,
      {
        ambiguous: true,
      },
    )
  }
}

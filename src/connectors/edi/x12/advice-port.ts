/**
 * The EdiPort over X12 and the folder transport: the 861 for a lot's usage decision goes to the
 * supplier of its goods receipt, when that supplier is a configured trading partner.
 *
 * Idempotency: the control number (and time) of a step's 861 is recorded under its idempotency
 * key *before* the file is written. A retried step (crash after the write, lost journal) finds it
 * and writes the same interchange again, same ISA13 — which the partner's translator discards as
 * a duplicate interchange, X12's own way of making a resend harmless. No second number is drawn.
 */
import path from 'node:path'
import { PermanentError } from '../../../engine/errors.ts'
import { recordEdiOutbound } from '../../../store/edi-outbound.ts'
import type { Store } from '../../../store/types.ts'
import type { EdiPort, ReceivingAdviceInput, ReceivingAdviceResult } from '../../../workflows/ports/edi.ts'
import { referenceFor } from '../../sdk/reference.ts'
import { isaControl, nextControlNumber } from './control-numbers.ts'
import {
  adviceFileName,
  type EdiParty,
  type ReceiptReference,
  renderReceivingAdvice,
  type TradingPartner,
  writeInterchange,
} from './receiving-advice-861.ts'

export interface X12AdviceConfig {
  /** Qualink's own interchange identity (ISA05/06, GS02) */
  readonly self: EdiParty
  /** where partners pick up their files */
  readonly outboundDir: string
  /** supplier id as the goods receipt names it (enterprise id) → its trading partner */
  readonly partners: Readonly<Record<string, TradingPartner>>
  /** the connector's name in qualink.yaml, recorded with each sent interchange */
  readonly connector?: string
  /** a sent 861 without the partner's 997 after this long is overdue (default 24 h) */
  readonly overdueAfterMs?: number
}

export const DEFAULT_ACK_OVERDUE_MS = 24 * 3_600_000

interface GoodsReceiptData {
  readonly lot: { readonly id: string; readonly material: string }
  readonly supplier?: string
  readonly supplierBatch?: string
  readonly purchaseOrder?: string
}

export function x12ReceivingAdvicePort(
  store: Pick<Store, 'listEvents' | 'ingress' | 'sql'>,
  cfg: X12AdviceConfig,
): EdiPort {
  // Recorded after the file is written (a resend keeps the first row), so the list of 861s awaiting
  // a 997 never names one that was not sent.
  const track = (
    plant: string,
    lot: string,
    partner: TradingPartner,
    control: number,
    file: string,
    atMs: number,
  ) =>
    recordEdiOutbound(store.sql, {
      partner: partner.id,
      groupControl: String(control),
      plant,
      connector: cfg.connector ?? 'edi',
      transactionSet: '861',
      interchangeControl: isaControl(control),
      subject: lot,
      file: path.basename(file),
      sentAtMs: atMs,
      dueAtMs: atMs + (cfg.overdueAfterMs ?? DEFAULT_ACK_OVERDUE_MS),
    })
  return {
    async sendReceivingAdvice(input: ReceivingAdviceInput): Promise<ReceivingAdviceResult> {
      const [gr] = await store.listEvents(
        { plants: [input.plant] },
        { type: 'erp.goods_receipt.posted.v1', subject: input.lot, limit: 1 },
      )
      if (!gr)
        throw new PermanentError(
          'QLK_VALIDATION',
          `lot ${input.lot}: no goods receipt in plant ${input.plant} to certify; the 861 names the receipt`,
        )
      const d = gr.envelope.data as GoodsReceiptData
      const partner = d.supplier === undefined ? undefined : cfg.partners[d.supplier]
      if (!partner)
        return { sent: false, reason: `supplier ${d.supplier ?? '(none)'} of lot ${input.lot} trades no EDI` }
      const receipt: ReceiptReference = {
        material: d.lot.material,
        // the supplier's batch when the receipt recorded it, else ours
        supplierLot: d.supplierBatch ?? d.lot.id,
        ...(d.purchaseOrder ? { purchaseOrder: d.purchaseOrder } : {}),
      }
      const render = (control: number, at: Date) =>
        renderReceivingAdvice({ self: cfg.self, partner, decision: input.decision, receipt, control, at })
      const record = `edi-x12:861:${referenceFor(input.idempotencyKey)}`
      const prior = await store.ingress.getCursor(record)
      if (prior !== null) {
        const [control, atMs] = prior.split('@').map(Number) as [number, number]
        const file = await writeInterchange(
          cfg.outboundDir,
          adviceFileName(partner, control),
          render(control, new Date(atMs)),
        )
        await track(input.plant, input.lot, partner, control, file, atMs)
        return { sent: true, file, controlNumber: control, resent: true }
      }
      const at = new Date()
      render(1, at) // a decision that cannot be certified burns no number
      const control = await nextControlNumber(store.ingress, partner.id)
      await store.ingress.setCursor(record, `${control}@${at.getTime()}`)
      const file = await writeInterchange(
        cfg.outboundDir,
        adviceFileName(partner, control),
        render(control, at),
      )
      await track(input.plant, input.lot, partner, control, file, at.getTime())
      return { sent: true, file, controlNumber: control, resent: false }
    },
  }
}

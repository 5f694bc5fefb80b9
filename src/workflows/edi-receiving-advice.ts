import { defineWorkflow } from '../engine/workflow.ts'
import type { EdiPort, ReceivingAdviceInput } from './ports/edi.ts'

export interface EdiReceivingAdviceSettings {
  /** send an 861 for this plant's usage decisions (default false: the plant has no EDI suppliers) */
  readonly send861: boolean
}

export const DEFAULT_EDI_RECEIVING_ADVICE_SETTINGS: EdiReceivingAdviceSettings = { send861: false }

interface UsageDecisionData {
  readonly inspectionLot: string
  readonly lot: string
  readonly code: string
  readonly stockPostings: ReceivingAdviceInput['decision']['stockPostings']
}

/**
 * Receiving advice after the usage decision (issue 11 item 5): when the QMS decides a lot, its
 * supplier gets an X12 861 acceptance certificate with the accepted and rejected quantities,
 * through the EDI port, for plants whose settings say so. One step: a retry resends the same
 * interchange, which the partner deduplicates by its control number.
 */
export function ediReceivingAdvice(
  settings: (plant: string) => EdiReceivingAdviceSettings = () => DEFAULT_EDI_RECEIVING_ADVICE_SETTINGS,
) {
  return defineWorkflow<{ readonly edi: EdiPort }, EdiReceivingAdviceSettings>({
    name: 'edi-receiving-advice',
    version: 1,
    triggers: ['qms.usage_decision.made.v1'],
    key: (e) => `861:${(e.data as UsageDecisionData).lot}`,
    config: settings,
    async run(ctx, trigger) {
      if (!ctx.config.send861) return { sent: false, reason: `plant ${ctx.plant} sends no 861` }
      const ud = trigger.envelope.data as UsageDecisionData
      return ctx.step('send-861', ({ idempotencyKey }) =>
        ctx.ports.edi.sendReceivingAdvice({
          idempotencyKey,
          plant: ctx.plant,
          lot: ud.lot,
          decision: { inspectionLot: ud.inspectionLot, code: ud.code, stockPostings: ud.stockPostings },
        }),
      )
    },
  })
}

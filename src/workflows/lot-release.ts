import { PermanentError } from '../engine/errors.ts'
import { defineWorkflow } from '../engine/workflow.ts'
import type { Quantity } from '../model/quantity.ts'
import type { ErpPort, LotRef } from './ports/erp.ts'
import type { NotifyPort } from './ports/notify.ts'

export interface LotReleasePorts {
  readonly erp: ErpPort
  readonly notify?: NotifyPort
}

export const RELEASE_SIGNED = 'qualink.lot.release_signed.v1'

interface ReleaseSigned {
  lot: { id: string; material: string; plant: string }
  massRelease: string
  decision: { code: string; valuation: string; eventSeq: number }
  signatures: Array<{ id: number; signer: string; printedName: string; meaning: string }>
}

/**
 * Lot release after a signed mass release (issue 10): one run per lot, started by the
 * `qualink.lot.release_signed.v1` event the API appends once two different approvers signed.
 * The release is the same ERP effect a changed usage decision posts for blocked stock
 * (`compensate-transfer`, blocked → unrestricted, SAP movement 343): what the ERP holds decides
 * what moves, read inside the step as the complaint block does; the step's key names the signed
 * version and the lot, so a replay, a second execution of the same signatures or a duplicate event
 * never posts twice (the connector reads its reference back before posting).
 */
export function lotRelease() {
  return defineWorkflow<LotReleasePorts, Record<string, never>>({
    name: 'lot-release',
    version: 1,
    triggers: [RELEASE_SIGNED],
    key: (e) => (e.data as ReleaseSigned).lot.id,
    config: () => ({}),
    async run(ctx, trigger) {
      const d = trigger.envelope.data as ReleaseSigned
      // The API lists such a lot as refused; an event saying otherwise is not acted on.
      if (d.decision.valuation !== 'accepted')
        throw new PermanentError(
          'QLK_RELEASE_WITHOUT_ACCEPTANCE',
          `lot ${d.lot.id}: decision ${d.decision.code} is ${d.decision.valuation}; nothing released`,
        )
      const lot: LotRef = { plant: d.lot.plant, material: d.lot.material, lot: d.lot.id }
      const signers = d.signatures.map((s) => s.signer)
      const released = await ctx.step(
        'release-blocked-stock',
        async ({ idempotencyKey }) => {
          const stock = await ctx.ports.erp.readLotStock(lot)
          const blocked = stock.quantities.blocked
          if (!blocked || blocked.units <= 0)
            return { quantity: null as Quantity | null, documents: [] as string[] }
          const posted = await ctx.ports.erp.transferStock({
            idempotencyKey,
            lot,
            from: 'blocked',
            to: 'unrestricted',
            quantity: blocked,
            reason: `mass release signed by ${signers.join(', ')}`,
          })
          return { quantity: blocked as Quantity | null, documents: [...posted.documents] }
        },
        { key: `mass-release/${d.massRelease}/${d.lot.id}` },
      )
      await ctx.step('notify-release', async ({ idempotencyKey }) => {
        await ctx.ports.notify?.send({
          idempotencyKey,
          title: `Lot ${d.lot.id} released`,
          text: released.quantity
            ? `Blocked stock of lot ${d.lot.id} moved to unrestricted (${released.documents.join(', ')}), mass release signed by ${signers.join(', ')}.`
            : `Lot ${d.lot.id} held no blocked stock in the ERP; nothing moved.`,
          severity: 'info',
        })
        return { notified: Boolean(ctx.ports.notify) }
      })
      return {
        lot: d.lot.id,
        massRelease: d.massRelease,
        decision: d.decision.code,
        released: released.quantity,
        documents: released.documents,
        signedBy: signers,
      }
    },
  })
}

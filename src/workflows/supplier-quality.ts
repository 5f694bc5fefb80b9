import { PermanentError } from '../engine/errors.ts'
import { defineWorkflow } from '../engine/workflow.ts'
import type { CorrectiveAction } from '../model/nonconformance.ts'
import { type CapaPolicy, supplierQualityStatus } from '../model/supplier-status.ts'
import type { StoredEvent } from '../store/types.ts'
import type { ErpPort } from './ports/erp.ts'
import type { NotifyPort } from './ports/notify.ts'

export interface SupplierQualityPorts {
  readonly erp: ErpPort
  readonly notify?: NotifyPort
}

export interface SupplierQualitySettings {
  /** what an open supplier corrective action does to the supplier in the ERP (model/supplier-status.ts) */
  readonly onCorrectiveAction: CapaPolicy
}

export const DEFAULT_SUPPLIER_QUALITY_SETTINGS: SupplierQualitySettings = { onCorrectiveAction: 'none' }

const OPENED = 'qms.capa.opened.v1'
const CLOSED = 'qms.capa.closed.v1'

const capaOf = (e: { envelope: Record<string, unknown> } | { data: unknown }) =>
  (('envelope' in e ? e.envelope.data : e.data) as { correctiveAction: CorrectiveAction }).correctiveAction

/**
 * Supplier quality status (issue 8 item 5): a supplier corrective action opened in the QMS sets
 * the supplier's status in the ERP as the plant's policy says (`block-purchasing`: SAP's purchasing
 * block, no new purchase orders), and it is cleared when the supplier's last open CAPA closes.
 *
 * One run per plant and supplier, alive while any of its CAPAs is open: later openings and
 * closings reach its inbox in order (DESIGN §6), so two CAPAs of one supplier block once and
 * release once, after both closed. Each ERP change is a read-then-PATCH step keyed by the CAPA
 * that caused it (a replay or a duplicate webhook changes nothing). A closure stored before its
 * opening (webhooks out of order) is found at the start, and nothing is blocked. The scorecard shows
 * the same status from the same events and the same function (`supplierQualityStatus`).
 */
export function supplierQuality(
  settings: (plant: string) => SupplierQualitySettings = () => DEFAULT_SUPPLIER_QUALITY_SETTINGS,
) {
  return defineWorkflow<SupplierQualityPorts, SupplierQualitySettings>({
    name: 'supplier-quality-status',
    version: 1,
    triggers: [OPENED, CLOSED],
    // A closure with no run open for the supplier has nothing to clear (and is stored for the check below).
    startsOn: [OPENED],
    key: (e) => `${e.plant}/${capaOf(e).supplier ?? '-'}`,
    config: settings,
    async run(ctx, trigger) {
      const first = capaOf(trigger)
      const supplier = first.supplier
      if (!supplier) return { skipped: `CAPA ${first.id} names no supplier` }
      const policy = ctx.config.onCorrectiveAction
      if (supplierQualityStatus(1, policy) === 'released')
        return { supplier, capa: first.id, skipped: `plant policy '${policy}' changes nothing in the ERP` }
      // Out of order: the QMS's closure of this CAPA may already be stored (it started nothing).
      const early = await ctx.waitFor(CLOSED, { subject: first.id, timeout: 1 })
      if (!early.timedOut && !closedBefore(early.event, first))
        return { supplier, capa: first.id, skipped: 'closed before its opening arrived' }

      const open = new Set([first.id])
      const seen = [first.id]
      const erp = ctx.ports.erp
      if (!erp.setSupplierPurchasingBlock)
        throw new PermanentError('QLK_VALIDATION', `the ERP of plant ${ctx.plant} cannot block a supplier`)
      const block = await ctx.step('block-supplier', ({ idempotencyKey }) =>
        erp.setSupplierPurchasingBlock!({
          idempotencyKey,
          plant: ctx.plant,
          supplier,
          blocked: true,
          reason: `CAPA ${first.id}: ${first.title}`.slice(0, 80),
        }),
      )
      await ctx.step('notify-supplier-blocked', async ({ idempotencyKey }) => {
        await ctx.ports.notify?.send({
          idempotencyKey,
          title: `Supplier ${supplier} blocked for purchasing`,
          text: `Corrective action ${first.id} (${first.title}) is open in the QMS.`,
          severity: 'warning',
        })
        return { notified: Boolean(ctx.ports.notify) }
      })
      while (open.size > 0) {
        const next = await ctx.receive()
        if (next.timedOut) continue
        const c = capaOf(next.event)
        if (next.event.type === OPENED) {
          open.add(c.id)
          if (!seen.includes(c.id)) seen.push(c.id)
        } else open.delete(c.id)
      }
      const release = await ctx.step('release-supplier', ({ idempotencyKey }) =>
        erp.setSupplierPurchasingBlock!({
          idempotencyKey,
          plant: ctx.plant,
          supplier,
          blocked: false,
          reason: `CAPAs closed: ${seen.join(', ')}`.slice(0, 80),
        }),
      )
      return { supplier, capas: seen, blocked: block.changed, released: release.changed }
    },
  })
}

/** A closure the QMS stamped before this opening: an earlier round of a reopened CAPA. */
function closedBefore(closed: StoredEvent, opened: CorrectiveAction): boolean {
  const at = (c: CorrectiveAction) => Date.parse(c.audit.timestamp)
  return at(capaOf(closed)) < at(opened)
}

import { defineWorkflow } from '../engine/workflow.ts'
import type { ErpPort } from './ports/erp.ts'
import type { NotifyPort } from './ports/notify.ts'
import type { QmsPort } from './ports/qms.ts'
import type { TraceabilityPort } from './ports/traceability.ts'
import { blockUnrestricted } from './stock-block.ts'

export interface ComplaintPorts {
  readonly erp: ErpPort
  readonly qms: QmsPort
  readonly trace: TraceabilityPort
  readonly notify?: NotifyPort
}

export interface ComplaintSettings {
  /** complaint severities that block the suspect lots' unrestricted stock in the ERP */
  readonly blockOn: ReadonlyArray<'minor' | 'major' | 'critical'>
  readonly depth: number
}

export const DEFAULT_COMPLAINT_SETTINGS: ComplaintSettings = { blockOn: ['major', 'critical'], depth: 20 }

/**
 * The run's configuration snapshot: the plant's settings plus `capa: 'open'` from version 2 on.
 * A v1 run's snapshot has no `capa`, so replaying it keeps v1's step sequence (DESIGN §6).
 */
interface ComplaintRunConfig extends ComplaintSettings {
  readonly capa?: 'open'
}

interface ComplaintData {
  complaint: {
    id: string
    plant: string
    customer: string
    lots: string[]
    severity: 'minor' | 'major' | 'critical'
    description: string
  }
}

/**
 * Customer complaint traceability (DESIGN §1): backward trace from the complained lots to the
 * supplier lots and production orders, forward to every affected lot, delivery and customer (the
 * recall scope) → suspect stock still unrestricted in the ERP is blocked where the plant's
 * policy says so → a nonconformance is opened with the trace in its description, and a corrective
 * action (CAPA) linked to it with the trace summary attached as `trace.json` (issue 8 item 4).
 */
export function complaintTraceability(
  settings: (plant: string) => ComplaintSettings = () => DEFAULT_COMPLAINT_SETTINGS,
) {
  return defineWorkflow<ComplaintPorts, ComplaintRunConfig>({
    name: 'complaint-traceability',
    version: 2,
    // v1 (no CAPA) runs replay on this code: their snapshot has no `capa`, so no CAPA step.
    compatibleWith: [1],
    triggers: ['crm.complaint.opened.v1'],
    key: (e) => (e.data as ComplaintData).complaint.id,
    config: (plant) => ({ ...settings(plant), capa: 'open' }),
    async run(ctx, trigger) {
      const c = (trigger.envelope.data as ComplaintData).complaint
      const scope = await ctx.step('trace', () =>
        ctx.ports.trace.investigate(c.lots, ctx.config.depth, { through: trigger.seq }),
      )
      const blocked: Array<{ lot: string; documents: readonly string[] }> = []
      if (ctx.config.blockOn.includes(c.severity)) {
        for (const l of scope.affectedLots) {
          if (!l.material) continue
          const lot = { plant: l.plant, material: l.material, lot: l.lot }
          // What the ERP holds decides what is blocked, not the projection: read it in the step.
          const r = await ctx.step(
            'block-suspect-stock',
            async ({ idempotencyKey }) => ({
              lot: l.lot,
              documents: (await blockUnrestricted(ctx.ports.erp, lot, idempotencyKey, `complaint ${c.id}`))
                .documents,
            }),
            { key: `complaint/${c.id}/block/${l.lot}` },
          )
          if (r.documents.length > 0) blocked.push(r)
        }
      }
      const summary =
        `Complaint ${c.id} (${c.customer}): supplier lots ${scope.supplierLots.map((s) => `${s.lot}/${s.supplier}`).join(', ') || 'none'}; ` +
        `${scope.affectedLots.length} affected lots; customers ${scope.customers.join(', ') || 'none'}`
      // From v2 on the records are keyed by the complaint, so a complaint delivered again (a new
      // event, hence a new run) finds them instead of opening a second NC or CAPA.
      const v2 = ctx.config.capa === 'open'
      const nc = await ctx.step(
        'open-nonconformance',
        ({ idempotencyKey }) =>
          ctx.ports.qms.openNonconformance({
            idempotencyKey,
            plant: c.plant,
            title: summary.slice(0, 200),
            description:
              `${c.description}\n\nTrace: ${JSON.stringify({ supplierLots: scope.supplierLots, productionOrders: scope.productionOrders, shipments: scope.shipments })}`.slice(
                0,
                3900,
              ),
            severity: c.severity,
            lot: c.lots[0],
          }),
        v2 ? { key: `complaint/${c.id}/nonconformance` } : {},
      )
      const deliveries = [...new Set(scope.shipments.map((s) => s.delivery))].sort()
      const capa = v2
        ? await ctx.step(
            'open-corrective-action',
            ({ idempotencyKey }) =>
              ctx.ports.qms.openCorrectiveAction({
                idempotencyKey,
                plant: c.plant,
                title: `Corrective action for complaint ${c.id} (${c.customer})`.slice(0, 200),
                description: `${summary}\n\n${c.description}`.slice(0, 3900),
                nonconformance: nc.record.id,
                attachments: [
                  {
                    name: 'trace.json',
                    contentType: 'application/json',
                    content: JSON.stringify({
                      complaint: c.id,
                      customer: c.customer,
                      complainedLots: c.lots,
                      suspectLots: scope.affectedLots.map((l) => ({
                        plant: l.plant,
                        material: l.material,
                        lot: l.lot,
                      })),
                      supplierLots: scope.supplierLots,
                      productionOrders: scope.productionOrders,
                      deliveries,
                      customers: scope.customers,
                      blocked,
                      truncated: scope.truncated,
                    }),
                  },
                ],
              }),
            { key: `complaint/${c.id}/capa` },
          )
        : undefined
      await ctx.step('notify-quality', async ({ idempotencyKey }) => {
        await ctx.ports.notify?.send({
          idempotencyKey,
          title: `Complaint ${c.id}: recall scope ready`,
          text: summary,
          severity: c.severity === 'critical' ? 'critical' : 'warning',
        })
        return { notified: Boolean(ctx.ports.notify) }
      })
      return {
        complaint: c.id,
        nonconformance: nc.record.id,
        ...(capa ? { correctiveAction: capa.record.id } : {}),
        supplierLots: scope.supplierLots,
        productionOrders: scope.productionOrders,
        affectedLots: scope.affectedLots.length,
        customers: scope.customers,
        deliveries,
        blocked,
        truncated: scope.truncated,
      }
    },
  })
}

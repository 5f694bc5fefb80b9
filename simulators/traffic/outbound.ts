/**
 * Shipping, complaints and orders in the plant day: finished lots ship to customers, now and then a
 * customer complains about a lot it received (complaint traceability), and orders run through the
 * kernel-demo workflow, every fourth rejected by the ledger so the Exceptions page has real dead
 * letters to replay. The QA lead approves each order some ticks after it arrived; approvals not yet
 * given are part of the saved day, so a restarted demo still gives them and every order completes.
 */
import { audit, CUSTOMERS, type Day } from './day.ts'

/**
 * an order's approval comes this many ticks after it (18 s at 1.5 s a tick); orders come every 5
 * ticks, so at any moment two or three approvals are still to be given, at least one of them for an
 * order the ledger accepts (it rejects every fourth) — what the demo-resume test relies on
 */
export const APPROVAL_TICKS = 12

export async function ship(d: Day): Promise<void> {
  const lot = d.finished[Math.max(0, d.finished.length - 5)]
  if (!lot) return
  const customer = CUSTOMERS[d.stats.shipments! % 3]!
  await d.post(
    'erp.delivery.shipped.v1',
    lot,
    {
      delivery: `80${d.run.slice(-4)}${String(d.stats.shipments).padStart(3, '0')}`,
      plant: d.plant,
      customer,
      lines: [{ item: '000010', material: 'FG-900', lot, quantity: { units: 30, scale: 0, uom: 'PC' } }],
      audit: audit('sap-p100'),
    },
    'urn:erp:sap-p100',
  )
  d.stats.shipments!++
  d.shipped.push({ lot, customer })
}

/** A customer complains about a lot it received: the complaint traceability workflow starts. */
export function complain(d: Day): void {
  const target = d.shipped.at(-1)
  if (!d.o.crm || !target) return
  d.o.crm.fileComplaint({
    customer: target.customer,
    material: 'FG-900',
    batch: target.lot,
    severity: 'HIGH',
    description: 'housing cracked on assembly',
  })
  d.stats.complaints!++
}

export async function order(d: Day): Promise<void> {
  const id = `SO-${d.run}-${d.stats.orders! + 1}`
  d.stats.orders!++
  const status = await d.post(
    'qualink.demo.order_received.v1',
    id,
    { order: id, lines: 2, ...(d.stats.orders! % 4 === 0 ? { failOnLine: 2 } : {}) },
    'urn:demo:orders',
  )
  if (status < 300) d.pendingApprovals.push({ order: id, due: d.tick + APPROVAL_TICKS })
}

/**
 * Gives the approvals that are due. One leaves the list only once Qualink stored it (a 2xx, or a
 * refusal other than 429 that a retry would not change), so an approval due while Qualink was busy or stopping is
 * given on a later tick, or after a restart, instead of being lost.
 */
export async function approvals(d: Day): Promise<void> {
  for (const a of d.pendingApprovals.filter((p) => p.due <= d.tick)) {
    const status = await d.post(
      'qualink.demo.approval_given.v1',
      a.order,
      { order: a.order, approver: 'qa.lead' },
      'urn:demo:orders',
    )
    if (status >= 500 || status === 429) return // try again next tick, in order
    d.pendingApprovals.splice(d.pendingApprovals.indexOf(a), 1)
  }
}

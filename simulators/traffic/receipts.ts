/**
 * Supplier receipts and their usage decisions in the plant day: goods receipts into quality-
 * inspection stock (in the ERP simulator, or as canonical events without one), and the quality
 * engineer who decides the QMS's open inspection lots.
 */
import { MATDOC, s4Client } from '../erp-s4/test-client.ts'
import { audit, type Day, kg } from './day.ts'

/** a late decision comes this many ticks after the lot was opened (2.5 min at 1.5 s a tick) */
export const LATE_DECISION_TICKS = 100

export async function receipt(d: Day): Promise<void> {
  const { o, plant } = d
  const lot = `RAW-${d.run}-${String(d.rawLots.length + 1).padStart(3, '0')}`
  d.rawLots.push(lot)
  const supplier = d.tick % 20 === 0 ? 'V-77' : 'V-42'
  d.stats.receipts!++
  if (o.erp) {
    // A 101 goods receipt into quality-inspection stock; the ERP opens its inspection lot and
    // tells Qualink by webhook, which starts the supplier-receipt-inspection workflow.
    const res = await s4Client(o.erp.url).send('POST', `${MATDOC}/A_MaterialDocumentHeader`, {
      GoodsMovementCode: '01',
      to_MaterialDocumentItem: [
        {
          Material: 'RAW-100',
          Plant: plant,
          StorageLocation: '0001',
          Batch: lot,
          GoodsMovementType: '101',
          PurchaseOrder: '4500000017',
          PurchaseOrderItem: '10',
          Supplier: supplier,
          QuantityInEntryUnit: '500',
          EntryUnit: 'KG',
        },
      ],
    })
    if (res.status !== 201) d.stats.failed!++
    return
  }
  const doc = { id: String(5_000_000_000 + d.tick), year: new Date().getFullYear(), item: '0001' }
  await d.post(
    'erp.goods_receipt.posted.v1',
    lot,
    {
      materialDocument: doc,
      lot: { id: lot, material: 'RAW-100', plant },
      supplier,
      quantity: kg(500),
      bucket: 'qualityInspection',
      audit: audit('sap-p100'),
    },
    'urn:erp:sap-p100',
  )
}

/**
 * A quality engineer decides open inspection lots: mostly accept, some split, some reject; now
 * and then one waits for a late lab result, past the demo's 2-minute decision deadline, so the
 * run asks the QMS, escalates, and still finishes when the decision comes.
 */
export function decide(d: Day): void {
  const qms = d.o.qms
  if (!qms) return
  for (const l of qms.state.inspectionLots) {
    const id = String(l.id)
    if (l.status !== 'OPEN' || d.decided.has(id)) continue
    if (!d.lateUntil.has(id)) {
      // every ninth lot the engineer sees waits for a late lab result
      const late = (d.lateUntil.size + 1) % 9 === 0
      d.lateUntil.set(id, late ? d.tick + LATE_DECISION_TICKS : 0)
      if (late) d.stats.lateDecisions!++
    }
    if (d.tick < d.lateUntil.get(id)!) continue
    d.decided.add(id)
    const n = d.decided.size
    const qty = String(l.quantity)
    if (n % 7 === 0)
      qms.makeUsageDecision(id, {
        decision: 'REJECT',
        code: 'R1',
        dispositions: [{ disposition: 'RETURN_TO_VENDOR', quantity: qty }],
      })
    else if (n % 5 === 0)
      qms.makeUsageDecision(id, {
        decision: 'ACCEPT',
        code: 'A2',
        dispositions: [
          { disposition: 'USE_AS_IS', quantity: String(Number(qty) - 20) },
          { disposition: 'SCRAP', quantity: '20' },
        ],
      })
    else qms.makeUsageDecision(id, { decision: 'ACCEPT', code: 'A1' })
    d.stats.decisions!++
    return // one decision per tick, like a person working a queue
  }
}

/** Without an ERP simulator: the ERP's release posting of a received lot, as a canonical event. */
export async function release(d: Day, lot: string): Promise<void> {
  await d.post(
    'erp.stock.posted.v1',
    lot,
    {
      materialDocument: { id: String(4_900_000_000 + d.tick), year: new Date().getFullYear(), item: '0001' },
      movementType: '321',
      lot: { id: lot, material: 'RAW-100', plant: d.plant },
      from: 'qualityInspection',
      to: 'unrestricted',
      quantity: kg(500),
      audit: audit('sap-p100'),
    },
    'urn:erp:sap-p100',
  )
}

/**
 * The event fields the projections copy as identifiers, quantities or codes: keys, joins and
 * filters of the genealogy (lots, genealogy_edges, shipments: src/projections/genealogy-projector.ts)
 * and of the supplier scorecard (src/projections/supplier-scorecard.ts). A trace follows
 * `from_lot = ?`, a recall scope groups by customer, a scorecard by supplier × material: a value
 * encrypted under a random IV can be neither looked up nor grouped, so these copies stay
 * plaintext, and qualink.yaml may not mark them sensitive (src/security/encryption-config.ts
 * refuses it) — a marked value is then never plaintext anywhere.
 *
 * The scorecard's two free-text copies (the decider `/data/audit/operator` of a usage decision,
 * a CAPA's `/data/correctiveAction/title`) are not listed: they are stored encrypted when marked.
 * src/projections/projected-fields.test.ts checks each pointer against the type's example event.
 */
const lotRef = ['/data/lot/id', '/data/lot/material', '/data/lot/plant']
const capa = [
  '/data/correctiveAction/id',
  '/data/correctiveAction/supplier',
  '/data/correctiveAction/audit/timestamp',
]

export const PROJECTED_IDENTIFIERS: Readonly<Record<string, readonly string[]>> = {
  'erp.goods_receipt.posted.v1': [...lotRef, '/data/supplier', '/data/quantity', '/data/bucket'],
  'erp.goods_receipt.reversed.v1': [...lotRef, '/data/quantity', '/data/reversedDocument/id'],
  'erp.stock.posted.v1': [...lotRef, '/data/quantity', '/data/from', '/data/to', '/data/materialDocument/id'],
  'erp.material_document.cancelled.v1': [...lotRef, '/data/cancelledDocument/id'],
  'mes.operation.completed.v1': [
    '/data/operation/productionOrder',
    '/data/operation/number',
    '/data/consumed/*/lot',
    '/data/consumed/*/material',
    '/data/consumed/*/quantity',
    '/data/produced/*/lot',
    '/data/produced/*/material',
    '/data/produced/*/quantity',
  ],
  'erp.delivery.shipped.v1': [
    '/data/delivery',
    '/data/customer',
    '/data/lines/*/item',
    '/data/lines/*/material',
    '/data/lines/*/lot',
    '/data/lines/*/quantity',
  ],
  'qms.usage_decision.made.v1': [
    '/data/lot',
    '/data/code',
    '/data/valuation',
    '/data/stockPostings',
    '/data/audit/timestamp',
  ],
  'qms.usage_decision.changed.v1': ['/data/code', '/data/valuation', '/data/audit/timestamp'],
  'qms.capa.opened.v1': capa,
  'qms.capa.closed.v1': capa,
}

const segs = (p: string) => p.split('/').slice(1)
const same = (a: string, b: string) => a === '*' || b === '*' || a === b

/** The projected identifier a marked pointer would reach (itself, a parent or a child of it), if any. */
export function projectedIdentifierAt(type: string, pointer: string): string | undefined {
  const p = segs(pointer)
  return (PROJECTED_IDENTIFIERS[type] ?? []).find((q) => {
    const s = segs(q)
    const n = Math.min(p.length, s.length)
    return p.slice(0, n).every((x, i) => same(x, s[i]!))
  })
}

import type { CloudEvent } from '../../../contracts/envelope.ts'
import { type FieldProblem, QualinkError } from '../../../contracts/errors.ts'
import type { Translator } from '../../../engine/translation-stage.ts'
import { resolveOrPark, type XrefResolver, type XrefRow } from '../../../mapping/xref.ts'
import { parseDecimal } from '../../../model/quantity.ts'
import { type FunctionalAck, readFunctionalAck } from './acknowledgments.ts'
import { parseX12, toFieldProblems, type X12Interchange, X12ParseError, type X12Problem } from './parser.ts'
import { readShipNotice, type ShipNotice } from './ship-notice-856.ts'

/**
 * Transaction sets accepted inbound (856 ship notices, 997 acknowledgments of our 861s); anything
 * else rejects the interchange rather than being skipped silently.
 */
const INBOUND = new Set(['856', '997'])

/** Parses an interchange and reads every 856 and 997 in it; all problems of the whole file at once. */
export function readInterchange(content: string | Buffer): {
  interchange?: X12Interchange
  notices: { group: string; transaction: string; notice: ShipNotice }[]
  acks: FunctionalAck[]
  problems: X12Problem[]
} {
  let interchange: X12Interchange
  try {
    interchange = parseX12(content)
  } catch (e) {
    if (e instanceof X12ParseError) return { notices: [], acks: [], problems: [...e.problems] }
    throw e
  }
  const problems: X12Problem[] = []
  const notices: { group: string; transaction: string; notice: ShipNotice }[] = []
  const acks: FunctionalAck[] = []
  for (const g of interchange.groups) {
    for (const tx of g.transactions) {
      if (!INBOUND.has(tx.code)) {
        problems.push({
          segment: tx.st.index,
          segmentId: 'ST',
          element: 1,
          message: `transaction set ${tx.code} is not accepted inbound`,
        })
        continue
      }
      if (tx.code === '997') {
        const a = readFunctionalAck(tx.st, tx.body)
        problems.push(...a.problems)
        if (a.ack) acks.push(a.ack)
        continue
      }
      const r = readShipNotice(tx)
      problems.push(...r.problems)
      if (r.notice) notices.push({ group: g.controlNumber, transaction: tx.controlNumber, notice: r.notice })
    }
  }
  return { interchange, notices, acks, problems }
}

/**
 * The file drop's `check`: one bad segment anywhere rejects the whole interchange to failed/
 * with an .error.json naming segment and element, and nothing of it is stored (X12 treats the
 * interchange as the unit a partner resends).
 */
export function checkX12File(_name: string, content: Buffer): FieldProblem[] {
  return toFieldProblems(readInterchange(content).problems)
}

/**
 * Inbound 856 → one `erp.ship_notice.received.v1` per transaction set (a 997 becomes no event: the
 * inbound handler applies it to the outbound interchanges it acknowledges, x12/inbound.ts). Material: LIN*BP is the
 * buyer's part number, i.e. already our material; LIN*VP is the vendor's and is mapped through
 * the cross-reference (system = this source). Supplier: N103 = 92 (assigned by buyer) is our
 * supplier id; any other qualifier (DUNS, mutually defined) is mapped the same way.
 */
export function x12ShipNoticeTranslator(source: string): Translator {
  return {
    source,
    async translate(raw, xref: XrefResolver): Promise<CloudEvent[]> {
      const { interchange, notices, problems } = readInterchange(raw.body)
      if (!interchange || problems.length > 0) {
        throw new QualinkError(
          'QLK_VALIDATION',
          `X12 file ${raw.headers['file-name'] ?? raw.deliveryId} is invalid`,
          toFieldProblems(problems),
        )
      }
      const events: CloudEvent[] = []
      for (const { group, transaction, notice } of notices) {
        const plant = raw.plant
        const supplier =
          notice.supplier.qualifier === '92'
            ? notice.supplier.code
            : await resolveOrPark(
                xref,
                { system: source, entityType: 'supplier', externalCode: notice.supplier.code, plant },
                '/data/supplier',
              )
        const lines = []
        for (const [i, l] of notice.lines.entries()) {
          const material =
            l.material.qualifier === 'BP'
              ? l.material.code
              : await resolveOrPark(
                  xref,
                  { system: source, entityType: 'material', externalCode: l.material.code, plant },
                  `/data/lines/${i}/material`,
                )
          const scale = l.quantity.split('.')[1]?.length ?? 0
          lines.push({
            line: l.hl,
            material,
            supplierLot: l.supplierLot,
            ...(l.purchaseOrder ? { purchaseOrder: l.purchaseOrder } : {}),
            quantity: parseDecimal(l.quantity, scale, l.uom, `/data/lines/${i}/quantity`),
          })
        }
        events.push({
          specversion: '1.0',
          // Group and transaction control numbers are unique within the interchange, which is the delivery.
          id: `${raw.deliveryId}#${group}.${transaction}`,
          source: `urn:qualink:${source}`,
          type: 'erp.ship_notice.received.v1',
          subject: notice.shipmentId,
          plant,
          data: {
            shipment: notice.shipmentId,
            plant,
            supplier,
            ...(notice.shippedAt ? { shippedAt: notice.shippedAt } : {}),
            lines,
            interchange: {
              sender: interchange.sender,
              controlNumber: interchange.controlNumber,
              transaction,
            },
            audit: {
              timestamp: notice.shippedAt ?? new Date(raw.receivedAtMs).toISOString(),
              sourceSystem: source,
              approvalStatus: 'not_required',
            },
          },
        })
      }
      return events
    },
  }
}

/** The data of `erp.ship_notice.received.v1` this module relies on. */
export interface ShipNoticeData {
  readonly shipment: string
  readonly plant: string
  readonly supplier: string
  readonly lines: readonly {
    readonly line: string
    readonly material: string
    readonly supplierLot: string
  }[]
}

/**
 * Each supplier lot of a ship notice becomes a cross-reference to its expected receipt
 * (`<shipment>/<HL id>`), so the goods receipt that later quotes the supplier batch finds the
 * notice. Keyed by supplier as system: lot numbers are only unique per supplier. Upserting is
 * idempotent, so applying a replayed event again changes nothing.
 */
export function shipNoticeXrefRows(data: ShipNoticeData): XrefRow[] {
  return data.lines.map((l) => ({
    system: `supplier:${data.supplier}`,
    entityType: 'supplier_lot',
    externalCode: l.supplierLot,
    plant: data.plant,
    enterpriseId: `${data.shipment}/${l.line}`,
  }))
}

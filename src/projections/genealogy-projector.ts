import type { Quantity } from '../model/quantity.ts'
import { add, subtract } from '../model/quantity.ts'
import {
  type GenealogyBatch,
  type GenealogyEdge,
  type LotNode,
  type Shipment,
  transferLotKey,
} from '../store/genealogy-types.ts'
import type { Store, StoredEvent } from '../store/types.ts'

export { transferLotKey }

export const GENEALOGY_PROJECTION = 'genealogy'

type Lot = LotNode & { firstSeenSeq: number; lastEventSeq: number }
interface LotRef {
  id: string
  material?: string
  plant?: string
  /** the receiving plant of a transfer naming this lot */
  targetPlant?: string
}

/**
 * Builds lots, genealogy edges and shipments from the event log: MES operations (consumed →
 * produced, ISA-95 MaterialActual), ERP stock postings (bucket moves; 309 to a new batch is a
 * split edge; 301/303 to another plant is a transfer edge), goods receipts (supplier, stock) and
 * delivery goods issues (shipments). Each batch is applied with the cursor move in one
 * transaction, so a crash replays a batch, never half of one.
 *
 * A batch keeps its number when it moves to another plant, but it is another lot there (its own
 * stock, its own downstream): the receiving plant's lot is `batch@plant` (`transferLotKey`), and
 * later events of that plant naming the batch resolve to it.
 */
export class GenealogyProjector {
  constructor(private readonly store: Store) {}

  /** Projects everything committed so far; returns the number of events read. */
  async catchUp(batchSize = 500): Promise<number> {
    let total = 0
    for (;;) {
      const from = await this.store.genealogy.projectionCursor(GENEALOGY_PROJECTION)
      const page = await this.store.tailEvents(
        { allPlants: true, reason: 'genealogy projection' },
        from,
        batchSize,
      )
      if (page.events.length === 0) return total
      const batch = await this.project(page.events)
      if (!(await this.store.genealogy.applyGenealogy(GENEALOGY_PROJECTION, from, page.cursor, batch)))
        return total
      total += page.events.length
    }
  }

  /**
   * The stored ERP event that posted material document `doc` for `lot` (receipts and postings are
   * filed under their lot), to undo it exactly on a reversal or cancellation.
   */
  private async original(lot: string, doc: DocRef): Promise<StoredEvent | undefined> {
    const scope = { allPlants: true, reason: 'genealogy projection' } as const
    for (const type of ['erp.goods_receipt.posted.v1', 'erp.stock.posted.v1']) {
      const found = (await this.store.listEvents(scope, { type, subject: lot, limit: 10_000 })).find((e) => {
        const m = (e.envelope.data as { materialDocument?: DocRef }).materialDocument
        return m?.id === doc.id && Number(m.year) === Number(doc.year)
      })
      if (found) return found
    }
    return undefined
  }

  /** Loads the stored lots among `ids` that the batch does not hold yet. */
  private async load(lots: Map<string, Lot>, ids: readonly string[]): Promise<void> {
    const missing = ids.filter((id) => !lots.has(id))
    if (missing.length === 0) return
    for (const l of await this.store.genealogy.lotsById(missing))
      lots.set(l.lot, { ...l, firstSeenSeq: 0, lastEventSeq: 0 })
  }

  /**
   * The lot a plant-to-plant transfer lands in: the batch (or `targetLot`) in the receiving plant,
   * which is the bare batch when that is the receiving plant's own lot (a transfer back), else
   * `batch@plant`.
   */
  private receivingLot(lots: Map<string, Lot>, d: Record<string, unknown>, from: Lot, into: string): LotRef {
    const batch = typeof d.targetLot === 'string' ? d.targetLot : (d.lot as LotRef).id
    const bare = lots.get(batch)
    const id = !bare || bare.plant === into ? batch : transferLotKey(batch, into)
    return { id, plant: into, material: (d.targetMaterial as string) ?? from.material ?? undefined }
  }

  private async project(events: readonly StoredEvent[]): Promise<GenealogyBatch> {
    const lots = new Map<string, Lot>()
    const edges: GenealogyEdge[] = []
    const shipments: Shipment[] = []
    const ids = new Set<string>()
    for (const e of events)
      for (const r of lotRefs(e)) {
        ids.add(r.id)
        ids.add(transferLotKey(r.id, r.plant ?? e.plant))
        if (r.targetPlant) ids.add(transferLotKey(r.id, r.targetPlant))
      }
    await this.load(lots, [...ids])

    /** The node a batch named in plant `plant` is: its transferred-in lot there, if there is one. */
    const key = (id: string, plant: string) =>
      lots.has(transferLotKey(id, plant)) ? transferLotKey(id, plant) : id
    const touch = (ref: LotRef, e: StoredEvent): Lot => {
      ref = { ...ref, id: key(ref.id, ref.plant ?? e.plant) }
      const existing = lots.get(ref.id)
      const lot: Lot = existing
        ? { ...existing, material: existing.material ?? ref.material ?? null, lastEventSeq: e.seq }
        : {
            lot: ref.id,
            plant: ref.plant ?? e.plant,
            material: ref.material ?? null,
            supplier: null,
            stock: {},
            firstSeenSeq: e.seq,
            lastEventSeq: e.seq,
          }
      lots.set(ref.id, lot)
      return lot
    }
    const move = (lot: Lot, bucket: string, q: Quantity, sign: 1 | -1) => {
      const cur = lot.stock[bucket]
      const next = cur
        ? sign > 0
          ? add(cur, q)
          : subtract(cur, q)
        : sign > 0
          ? q
          : { ...q, units: -q.units }
      lots.set(lot.lot, { ...lot, stock: { ...lot.stock, [bucket]: next } })
    }

    for (const e of events) {
      const d = e.envelope.data as Record<string, unknown>
      switch (e.type) {
        case 'erp.goods_receipt.posted.v1': {
          const lot = touch(d.lot as LotRef, e)
          lots.set(lot.lot, { ...lot, supplier: (d.supplier as string | undefined) ?? lot.supplier })
          move(lots.get(lot.lot)!, String(d.bucket ?? 'qualityInspection'), d.quantity as Quantity, 1)
          break
        }
        case 'erp.stock.posted.v1': {
          const lot = touch(d.lot as LotRef, e)
          const q = d.quantity as Quantity
          move(lot, String(d.from), q, -1)
          const into = receivingPlant(d, lot.plant)
          if (d.to === 'transferredOut' && into) {
            const target = touch(this.receivingLot(lots, d, lot, into), e)
            move(target, transferBucket(d), q, 1)
            edges.push(edge(e, lot.lot, target.lot, 'transfer', null, null, q))
          } else if (d.to === 'transferredOut' && typeof d.targetLot === 'string') {
            const target = touch(
              {
                id: d.targetLot,
                material: (d.targetMaterial as string) ?? lot.material ?? undefined,
                plant: lot.plant,
              },
              e,
            )
            move(target, 'unrestricted', q, 1)
            edges.push(edge(e, lot.lot, target.lot, 'split', null, null, q))
          } else {
            move(lots.get(lot.lot)!, String(d.to), q, 1)
          }
          break
        }
        case 'mes.operation.completed.v1': {
          const op = d.operation as { productionOrder: string; number: string }
          const consumed = d.consumed as Array<{ lot: string; material: string; quantity: Quantity }>
          const produced = d.produced as Array<{ lot: string; material: string; quantity: Quantity }>
          const ins = consumed.map((c) => ({ ...c, lot: touch({ id: c.lot, material: c.material }, e).lot }))
          const outs = produced.map((p) => touch({ id: p.lot, material: p.material }, e).lot)
          for (const c of ins)
            for (const p of outs)
              edges.push(edge(e, c.lot, p, 'consumed', op.number, op.productionOrder, c.quantity))
          break
        }
        case 'erp.goods_receipt.reversed.v1': {
          // SAP 102: the receipt's quantity leaves the bucket the receipt put it in
          const lot = touch(d.lot as LotRef, e)
          const original = await this.original((d.lot as LotRef).id, d.reversedDocument as DocRef)
          move(lot, receiptBucket(original), d.quantity as Quantity, -1)
          break
        }
        case 'erp.material_document.cancelled.v1': {
          // the ERP posted the exact inverse of the cancelled document
          const lot = touch(d.lot as LotRef, e)
          const original = await this.original((d.lot as LotRef).id, d.cancelledDocument as DocRef)
          const od = original?.envelope.data as Record<string, unknown> | undefined
          if (original?.type === 'erp.goods_receipt.posted.v1') {
            move(lot, receiptBucket(original), od!.quantity as Quantity, -1)
          } else if (original?.type === 'erp.stock.posted.v1') {
            const q = od!.quantity as Quantity
            const into = receivingPlant(od!, lot.plant)
            if (od!.to === 'transferredOut' && into) {
              const ref = this.receivingLot(lots, od!, lot, into)
              await this.load(lots, [ref.id])
              move(touch(ref, e), transferBucket(od!), q, -1)
            } else if (od!.to === 'transferredOut' && typeof od!.targetLot === 'string') {
              const target = od!.targetLot
              await this.load(lots, [target])
              move(touch({ id: target, plant: lot.plant }, e), 'unrestricted', q, -1)
            } else move(lot, String(od!.to), q, -1)
            move(lots.get(lot.lot)!, String(od!.from), q, 1)
          }
          break
        }
        case 'erp.delivery.shipped.v1': {
          // the goods issue of the delivery: shipped quantities leave unrestricted stock
          const lines = d.lines as Array<{ item: string; material: string; lot?: string; quantity: Quantity }>
          for (const l of lines) {
            if (!l.lot) continue
            const lot = touch({ id: l.lot, material: l.material }, e)
            move(lot, 'unrestricted', l.quantity, -1)
            shipments.push({
              eventSeq: e.seq,
              plant: e.plant,
              delivery: String(d.delivery),
              item: l.item,
              customer: String(d.customer),
              lot: lot.lot,
              material: l.material,
              quantity: l.quantity,
              at: e.time,
            })
          }
          break
        }
      }
    }
    return { lots: [...lots.values()].filter((l) => l.lastEventSeq > 0), edges, shipments }
  }
}

interface DocRef {
  readonly id: string
  readonly year: number
}

/** The bucket a goods receipt put its quantity in (quality inspection unless it says otherwise). */
function receiptBucket(original: StoredEvent | undefined): string {
  const d = original?.envelope.data as { bucket?: string } | undefined
  return String(d?.bucket ?? 'qualityInspection')
}

/** The receiving plant of a posting, when it moves the quantity to another plant (301/303). */
function receivingPlant(d: Record<string, unknown>, plant: string): string | undefined {
  return typeof d.targetPlant === 'string' && d.targetPlant !== plant ? d.targetPlant : undefined
}

/**
 * Where a transfer's quantity lands in the receiving plant: unrestricted for 301 (one step); for
 * 303 (two steps) SAP keeps it as "stock in transfer" of the receiving plant until 305 places it
 * (erpgreat.com, SAP movement types). The genealogy names that `inTransfer`; it is still stock.
 */
function transferBucket(d: Record<string, unknown>): string {
  return d.movementType === '303' ? 'inTransfer' : 'unrestricted'
}

function edge(
  e: StoredEvent,
  fromLot: string,
  toLot: string,
  kind: GenealogyEdge['kind'],
  operation: string | null,
  productionOrder: string | null,
  quantity: Quantity | null,
): GenealogyEdge {
  return {
    eventSeq: e.seq,
    plant: e.plant,
    fromLot,
    toLot,
    kind,
    operation,
    productionOrder,
    quantity,
    at: e.time,
  }
}

function lotRefs(e: StoredEvent): LotRef[] {
  const d = e.envelope.data as Record<string, unknown>
  switch (e.type) {
    case 'erp.goods_receipt.posted.v1':
    case 'erp.stock.posted.v1': {
      const lot = d.lot as LotRef
      const targetPlant = typeof d.targetPlant === 'string' ? d.targetPlant : undefined
      return [
        { ...lot, targetPlant },
        ...(typeof d.targetLot === 'string' ? [{ id: d.targetLot, plant: targetPlant }] : []),
      ]
    }
    case 'erp.goods_receipt.reversed.v1':
    case 'erp.material_document.cancelled.v1':
      return [d.lot as LotRef]
    case 'mes.operation.completed.v1':
      return [...(d.consumed as Array<{ lot: string }>), ...(d.produced as Array<{ lot: string }>)].map(
        (x) => ({ id: x.lot }),
      )
    case 'erp.delivery.shipped.v1':
      return (d.lines as Array<{ lot?: string }>).filter((l) => l.lot).map((l) => ({ id: l.lot! }))
    default:
      return []
  }
}

import {
  type GenealogyBatch,
  type GenealogyEdge,
  type GenealogyStore,
  type LotNode,
  type Shipment,
  transferredBatch,
} from './genealogy-types.ts'
import { advanceProjection, readProjectionCursor } from './projection-cursor.ts'
import type { Row, SqlExecutor } from './sql-executor.ts'
import { type LogCursor, type Scope, scopeIncludes } from './types.ts'

const j = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)

function toLot(r: Row): LotNode {
  return {
    lot: String(r.lot),
    plant: String(r.plant),
    material: r.material === null ? null : String(r.material),
    supplier: r.supplier === null ? null : String(r.supplier),
    stock: j(r.stock) as LotNode['stock'],
  }
}

/** A genealogy_edges row as the model's edge (also used by the trace's page reads). */
export function toEdge(r: Row): GenealogyEdge {
  return {
    eventSeq: Number(r.event_seq),
    plant: String(r.plant),
    fromLot: String(r.from_lot),
    toLot: String(r.to_lot),
    kind: String(r.kind) as GenealogyEdge['kind'],
    operation: r.operation === null ? null : String(r.operation),
    productionOrder: r.production_order === null ? null : String(r.production_order),
    quantity: r.quantity === null ? null : (j(r.quantity) as GenealogyEdge['quantity']),
    at: String(r.at),
  }
}

function toShipment(r: Row): Shipment {
  return {
    eventSeq: Number(r.event_seq),
    plant: String(r.plant),
    delivery: String(r.delivery),
    item: String(r.item),
    customer: String(r.customer),
    lot: String(r.lot),
    material: String(r.material),
    quantity: j(r.quantity) as Shipment['quantity'],
    at: String(r.at),
  }
}

/** The genealogy projection's tables; the SQL is standard, so one implementation serves both dialects. */
export class GenealogySql implements GenealogyStore {
  /**
   * `eventAtOrBeforeCursor`: the dialect's query for "the event at seq ? lies at or before cursor
   * (txid ?, seq ?)" where the log is tailed in (txid, seq) order (PostgreSQL); without it the log
   * is tailed in seq order (SQLite: one writer) and the cursor's seq decides.
   */
  constructor(
    private readonly x: SqlExecutor,
    private readonly eventAtOrBeforeCursor?: string,
  ) {}

  projectionCursor(name: string): Promise<LogCursor> {
    return readProjectionCursor(this.x, name)
  }

  async projectedThrough(name: string, seq: number): Promise<boolean> {
    const cursor = await this.projectionCursor(name)
    if (!this.eventAtOrBeforeCursor) return cursor.seq >= seq
    return (await this.x.all(this.eventAtOrBeforeCursor, [seq, cursor.txid, cursor.seq])).length > 0
  }

  applyGenealogy(name: string, from: LogCursor, to: LogCursor, b: GenealogyBatch): Promise<boolean> {
    return advanceProjection(this.x, name, from, to, async (x) => {
      for (const l of b.lots) {
        await x.run(
          `INSERT INTO lots (lot, plant, material, supplier, stock, first_seen_seq, last_event_seq, batch)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (lot) DO UPDATE SET material = COALESCE(excluded.material, lots.material),
             supplier = COALESCE(excluded.supplier, lots.supplier), stock = excluded.stock,
             last_event_seq = excluded.last_event_seq`,
          [
            l.lot,
            l.plant,
            l.material,
            l.supplier,
            JSON.stringify(l.stock),
            l.firstSeenSeq,
            l.lastEventSeq,
            transferredBatch(l.lot, l.plant),
          ],
        )
      }
      for (const e of b.edges) {
        await x.run(
          `INSERT INTO genealogy_edges (event_seq, plant, from_lot, to_lot, kind, operation, production_order, quantity, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          [
            e.eventSeq,
            e.plant,
            e.fromLot,
            e.toLot,
            e.kind,
            e.operation,
            e.productionOrder,
            e.quantity && JSON.stringify(e.quantity),
            e.at,
          ],
        )
      }
      for (const s of b.shipments) {
        await x.run(
          `INSERT INTO shipments (event_seq, plant, delivery, item, customer, lot, material, quantity, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          [
            s.eventSeq,
            s.plant,
            s.delivery,
            s.item,
            s.customer,
            s.lot,
            s.material,
            JSON.stringify(s.quantity),
            s.at,
          ],
        )
      }
    })
  }

  /** Rows whose `column` is one of `ids`: one statement for any number (see SqlExecutor.jsonRows). */
  private async whereIn(table: string, column: string, ids: readonly string[], order = ''): Promise<Row[]> {
    if (ids.length === 0) return []
    return this.x.all(`SELECT * FROM ${table} WHERE ${column} IN (${this.x.jsonRows(['text'])})${order}`, [
      JSON.stringify(ids),
    ])
  }

  async lotsById(ids: readonly string[]): Promise<LotNode[]> {
    return (await this.whereIn('lots', 'lot', ids)).map(toLot)
  }

  async edgesFrom(lots: readonly string[]): Promise<GenealogyEdge[]> {
    return (await this.whereIn('genealogy_edges', 'from_lot', lots)).map(toEdge)
  }

  async edgesTo(lots: readonly string[]): Promise<GenealogyEdge[]> {
    return (await this.whereIn('genealogy_edges', 'to_lot', lots)).map(toEdge)
  }

  async shipmentsOf(lots: readonly string[]): Promise<Shipment[]> {
    return (await this.whereIn('shipments', 'lot', lots, ' ORDER BY event_seq')).map(toShipment)
  }

  async getLot(scope: Scope, lot: string): Promise<LotNode | undefined> {
    const [r] = await this.x.all('SELECT * FROM lots WHERE lot = ?', [lot])
    const node = r ? toLot(r) : undefined
    return node && scopeIncludes(scope, node.plant) ? node : undefined
  }

  async findLots(scope: Scope, id: string): Promise<LotNode[]> {
    // Two index lookups (the primary key, 0023's lots_batch); the scope is applied here, as getLot does.
    const rows = await this.x.all(
      'SELECT * FROM lots WHERE lot = ? UNION ALL SELECT * FROM lots WHERE batch = ?',
      [id, id],
    )
    return rows
      .map(toLot)
      .filter((l) => scopeIncludes(scope, l.plant))
      .sort((a, b) => (a.plant < b.plant ? -1 : a.plant > b.plant ? 1 : a.lot < b.lot ? -1 : 1))
  }
}

/**
 * The supplier scorecard projection's tables (migration 0014). The SQL is standard, so one
 * implementation serves both dialects through `store.sql`; the projector's logic is in
 * src/projections/supplier-scorecard.ts.
 */
import type { Quantity } from '../model/quantity.ts'
import { advanceProjection, readProjectionCursor } from './projection-cursor.ts'
import type { Row, SqlExecutor } from './sql-executor.ts'
import type { LogCursor, Scope } from './types.ts'

/** What the projection keeps per received lot. */
export interface ScorecardLot {
  readonly plant: string
  readonly lot: string
  readonly supplier: string
  readonly material: string
  /** received into any bucket, net of reversals */
  readonly received: Quantity | null
  /** quantity the latest decision sent to blocked, scrap or return to vendor */
  readonly rejected: Quantity | null
  readonly valuation: 'accepted' | 'rejected' | null
  readonly decisionCode: string | null
  readonly decidedAt: string | null
  readonly decidedBy: string | null
}

export interface LastDecision {
  readonly lot: string
  readonly code: string
  readonly valuation: string
  readonly at: string
  readonly by: string | null
}

/** One supplier × material in one plant. */
export interface ScorecardRow {
  readonly plant: string
  readonly supplier: string
  readonly material: string
  readonly lotsReceived: number
  readonly lotsAccepted: number
  readonly lotsRejected: number
  /** received quantity of the decided lots (the base of ppm) */
  readonly inspected: Quantity | null
  readonly rejected: Quantity | null
  /** rejected / inspected × 10^6, rounded; null before the first decision */
  readonly ppm: number | null
  readonly lastDecision: LastDecision | null
  readonly updatedSeq: number
}

export interface SupplierCapa {
  readonly plant: string
  readonly capa: string
  readonly supplier: string
  readonly status: 'open' | 'closed'
  readonly title: string
  readonly openedAt: string
  readonly closedAt: string | null
}

const j = <T>(v: unknown): T | null =>
  v === null || v === undefined ? null : ((typeof v === 'string' ? JSON.parse(v) : v) as T)
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v))

function toLot(r: Row): ScorecardLot {
  return {
    plant: String(r.plant),
    lot: String(r.lot),
    supplier: String(r.supplier),
    material: String(r.material),
    received: j<Quantity>(r.received),
    rejected: j<Quantity>(r.rejected),
    valuation: s(r.valuation) as ScorecardLot['valuation'],
    decisionCode: s(r.decision_code),
    decidedAt: s(r.decided_at),
    decidedBy: s(r.decided_by),
  }
}

function toRow(r: Row): ScorecardRow {
  return {
    plant: String(r.plant),
    supplier: String(r.supplier),
    material: String(r.material),
    lotsReceived: Number(r.lots_received),
    lotsAccepted: Number(r.lots_accepted),
    lotsRejected: Number(r.lots_rejected),
    inspected: j<Quantity>(r.inspected),
    rejected: j<Quantity>(r.rejected),
    ppm: r.ppm === null ? null : Number(r.ppm),
    lastDecision: j<LastDecision>(r.last_decision),
    updatedSeq: Number(r.updated_seq),
  }
}

function toCapa(r: Row): SupplierCapa {
  return {
    plant: String(r.plant),
    capa: String(r.capa),
    supplier: String(r.supplier),
    status: String(r.status) as SupplierCapa['status'],
    title: String(r.title),
    openedAt: String(r.opened_at),
    closedAt: s(r.closed_at),
  }
}

function scoped(scope: Scope, column: string): { sql: string; params: string[] } {
  if ('allPlants' in scope) return { sql: 'TRUE', params: [] }
  if (scope.plants.length === 0) return { sql: 'FALSE', params: [] }
  return { sql: `${column} IN (${scope.plants.map(() => '?').join(', ')})`, params: [...scope.plants] }
}

/** The writes of one projected batch, applied with the cursor move in one transaction. */
export interface ScorecardBatch {
  readonly lots: readonly ScorecardLot[]
  readonly rows: readonly ScorecardRow[]
  readonly capas: readonly SupplierCapa[]
}

/** Reads and writes inside one transaction of the projector. */
export class ScorecardTx {
  constructor(private readonly x: SqlExecutor) {}

  async lot(plant: string, lot: string): Promise<ScorecardLot | undefined> {
    const [r] = await this.x.all('SELECT * FROM scorecard_lots WHERE plant = ? AND lot = ?', [plant, lot])
    return r ? toLot(r) : undefined
  }

  async row(plant: string, supplier: string, material: string): Promise<ScorecardRow | undefined> {
    const [r] = await this.x.all(
      'SELECT * FROM supplier_scorecard WHERE plant = ? AND supplier = ? AND material = ?',
      [plant, supplier, material],
    )
    return r ? toRow(r) : undefined
  }

  async capa(plant: string, capa: string): Promise<SupplierCapa | undefined> {
    const [r] = await this.x.all('SELECT * FROM supplier_capas WHERE plant = ? AND capa = ?', [plant, capa])
    return r ? toCapa(r) : undefined
  }

  async write(b: ScorecardBatch): Promise<void> {
    for (const l of b.lots) {
      await this.x.run(
        `INSERT INTO scorecard_lots (plant, lot, supplier, material, received, rejected, valuation, decision_code, decided_at, decided_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (plant, lot) DO UPDATE SET received = excluded.received, rejected = excluded.rejected,
           valuation = excluded.valuation, decision_code = excluded.decision_code,
           decided_at = excluded.decided_at, decided_by = excluded.decided_by`,
        [
          l.plant,
          l.lot,
          l.supplier,
          l.material,
          json(l.received),
          json(l.rejected),
          l.valuation,
          l.decisionCode,
          l.decidedAt,
          l.decidedBy,
        ],
      )
    }
    for (const r of b.rows) {
      await this.x.run(
        `INSERT INTO supplier_scorecard (plant, supplier, material, lots_received, lots_accepted, lots_rejected, inspected, rejected, ppm, last_decision, updated_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (plant, supplier, material) DO UPDATE SET lots_received = excluded.lots_received,
           lots_accepted = excluded.lots_accepted, lots_rejected = excluded.lots_rejected,
           inspected = excluded.inspected, rejected = excluded.rejected, ppm = excluded.ppm,
           last_decision = excluded.last_decision, updated_seq = excluded.updated_seq`,
        [
          r.plant,
          r.supplier,
          r.material,
          r.lotsReceived,
          r.lotsAccepted,
          r.lotsRejected,
          json(r.inspected),
          json(r.rejected),
          r.ppm,
          json(r.lastDecision),
          r.updatedSeq,
        ],
      )
    }
    for (const c of b.capas) {
      await this.x.run(
        `INSERT INTO supplier_capas (plant, capa, supplier, status, title, opened_at, closed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (plant, capa) DO UPDATE SET supplier = excluded.supplier, status = excluded.status,
           title = excluded.title, closed_at = excluded.closed_at`,
        [c.plant, c.capa, c.supplier, c.status, c.title, c.openedAt, c.closedAt],
      )
    }
  }
}

export class ScorecardSql {
  constructor(private readonly x: SqlExecutor) {}

  cursor(name: string): Promise<LogCursor> {
    return readProjectionCursor(this.x, name)
  }

  /**
   * Runs `apply` and moves the cursor from `from` to `to` in one transaction; false (nothing
   * written) when another process moved the cursor first.
   */
  async applyBatch(
    name: string,
    from: LogCursor,
    to: LogCursor,
    apply: (tx: ScorecardTx) => Promise<ScorecardBatch>,
  ): Promise<boolean> {
    return advanceProjection(this.x, name, from, to, async (x) => {
      const tx = new ScorecardTx(x)
      await tx.write(await apply(tx))
    })
  }

  /** The supplier's rows in the caller's plants, by plant and material. */
  async rowsOf(scope: Scope, supplier: string): Promise<ScorecardRow[]> {
    const sc = scoped(scope, 'plant')
    const rows = await this.x.all(
      `SELECT * FROM supplier_scorecard WHERE supplier = ? AND ${sc.sql} ORDER BY plant, material`,
      [supplier, ...sc.params],
    )
    return rows.map(toRow)
  }

  async capasOf(scope: Scope, supplier: string): Promise<SupplierCapa[]> {
    const sc = scoped(scope, 'plant')
    const rows = await this.x.all(
      `SELECT * FROM supplier_capas WHERE supplier = ? AND ${sc.sql} ORDER BY plant, opened_at, capa`,
      [supplier, ...sc.params],
    )
    return rows.map(toCapa)
  }

  /** Open corrective actions naming a supplier, in the caller's plants (the dashboard). */
  async openCapas(scope: Scope, limit: number): Promise<SupplierCapa[]> {
    const sc = scoped(scope, 'plant')
    const rows = await this.x.all(
      `SELECT * FROM supplier_capas WHERE status = 'open' AND ${sc.sql} ORDER BY opened_at, plant, capa LIMIT ?`,
      [...sc.params, limit],
    )
    return rows.map(toCapa)
  }

  /** Every row in the caller's plants (the dashboard's supplier list), worst ppm first. */
  async list(scope: Scope, limit: number): Promise<ScorecardRow[]> {
    const sc = scoped(scope, 'plant')
    const rows = await this.x.all(
      `SELECT * FROM supplier_scorecard WHERE ${sc.sql}
       ORDER BY CASE WHEN ppm IS NULL THEN 1 ELSE 0 END, ppm DESC, supplier, material LIMIT ?`,
      [...sc.params, limit],
    )
    return rows.map(toRow)
  }
}

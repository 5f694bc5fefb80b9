import type { DispositionCode } from '../model/nonconformance.ts'
import type { Quantity } from '../model/quantity.ts'
import { add, rescale, subtract } from '../model/quantity.ts'
import {
  type CapaPolicy,
  type SupplierQualityStatus,
  supplierQualityStatus,
} from '../model/supplier-status.ts'
import {
  type ScorecardLot,
  type ScorecardRow,
  ScorecardSql,
  type ScorecardTx,
  type SupplierCapa,
} from '../store/scorecard-sql.ts'
import type { Scope, Store, StoredEvent } from '../store/types.ts'
import { DISPOSITION_BUCKET } from '../workflows/ports/erp.ts'

export const SCORECARD_PROJECTION = 'supplier-scorecard'

/** Decision lines that count against the supplier: the quantity did not go to use. */
const REJECTING_BUCKETS = new Set(['block', 'scrap', 'return'])

const GR_POSTED = 'erp.goods_receipt.posted.v1'
const GR_REVERSED = 'erp.goods_receipt.reversed.v1'
const UD_MADE = 'qms.usage_decision.made.v1'
const UD_CHANGED = 'qms.usage_decision.changed.v1'
const CAPA_OPENED = 'qms.capa.opened.v1'
const CAPA_CLOSED = 'qms.capa.closed.v1'
const TYPES = new Set([GR_POSTED, GR_REVERSED, UD_MADE, UD_CHANGED, CAPA_OPENED, CAPA_CLOSED])

interface Line {
  readonly code: DispositionCode
  readonly quantity: Quantity
}
interface Decision {
  readonly lot?: string
  readonly code: string
  readonly valuation: 'accepted' | 'rejected'
  readonly stockPostings?: readonly Line[]
  readonly audit?: { readonly timestamp?: string; readonly operator?: string }
}
interface Capa {
  readonly correctiveAction: {
    readonly id: string
    readonly plant: string
    readonly supplier?: string
    readonly title: string
    readonly audit?: { readonly timestamp?: string }
  }
}

/** The lot's share of its supplier × material row. */
function share(l: ScorecardLot | undefined) {
  const decided = l?.valuation != null
  return {
    lots: l ? 1 : 0,
    accepted: l?.valuation === 'accepted' ? 1 : 0,
    rejected: l?.valuation === 'rejected' ? 1 : 0,
    inspected: decided ? l.received : null,
    rejectedQty: decided ? l.rejected : null,
  }
}

/** a + b − c on nullable quantities; a quantity in another unit than the row's is left out. */
function move(total: Quantity | null, plus: Quantity | null, minus: Quantity | null): Quantity | null {
  let t = total
  const same = (q: Quantity) => t === null || t.uom === q.uom
  if (minus && t && same(minus)) t = subtract(t, minus)
  if (plus && same(plus)) t = t === null ? plus : add(t, plus)
  return t
}

function ppmOf(inspected: Quantity | null, rejected: Quantity | null): number | null {
  if (!inspected || inspected.units === 0) return null
  if (!rejected) return 0
  if (rejected.uom !== inspected.uom) return null
  const scale = Math.max(inspected.scale, rejected.scale)
  const i = BigInt(rescale(inspected, scale).units)
  const r = BigInt(rescale(rejected, scale).units)
  return Number((r * 2_000_000n + i) / (2n * i))
}

function rejectedOf(lines: readonly Line[]): Quantity | null {
  let q: Quantity | null = null
  for (const l of lines) if (REJECTING_BUCKETS.has(DISPOSITION_BUCKET[l.code])) q = move(q, l.quantity, null)
  return q
}

/**
 * The supplier scorecard per supplier × material and plant, maintained from the event log (not
 * recomputed per request): goods receipts (lots received, quantity), usage decisions and their
 * changes (accepted/rejected, the rejected quantity: lines to blocked, scrap or return to vendor),
 * and the QMS's supplier corrective actions. A lot's share of its row is replaced when the lot
 * changes (a changed decision, a reversed receipt), so the row never counts a lot twice.
 * ppm = rejected ÷ received quantity of the decided lots × 10^6. Each batch is applied with the
 * cursor move in one transaction.
 */
export class SupplierScorecardProjector {
  private readonly sql: ScorecardSql
  // The two free-text fields copied here (who decided, a CAPA's title) are stored encrypted when
  // qualink.yaml marks them; every other column is an identifier, a code or a quantity.
  private readonly protect: Protect
  constructor(private readonly store: Store) {
    this.sql = new ScorecardSql(store.sql)
    const enc = store.encryptMarkedText
    this.protect = enc ? (type, pointer, value) => enc(type, pointer, value) : (_t, _p, value) => value
  }

  async catchUp(batchSize = 500): Promise<number> {
    let total = 0
    for (;;) {
      const from = await this.sql.cursor(SCORECARD_PROJECTION)
      const page = await this.store.tailEvents(
        { allPlants: true, reason: 'supplier scorecard projection' },
        from,
        batchSize,
      )
      if (page.events.length === 0) return total
      const relevant = page.events.filter((e) => TYPES.has(e.type))
      const ok = await this.sql.applyBatch(SCORECARD_PROJECTION, from, page.cursor, (tx) =>
        new Batch(tx, this.protect).apply(relevant),
      )
      if (!ok) return total
      total += page.events.length
    }
  }
}

type Protect = <T extends string | null>(type: string, pointer: string, value: T) => T

class Batch {
  private readonly lots = new Map<string, ScorecardLot | undefined>()
  private readonly rows = new Map<string, ScorecardRow | undefined>()
  private readonly capas = new Map<string, SupplierCapa>()
  private readonly changedLots = new Set<string>()
  private readonly changedRows = new Set<string>()
  constructor(
    private readonly tx: ScorecardTx,
    private readonly protect: Protect,
  ) {}

  async apply(events: readonly StoredEvent[]) {
    for (const e of events) await this.event(e)
    return {
      lots: [...this.changedLots].map((k) => this.lots.get(k)!),
      rows: [...this.changedRows].map((k) => this.rows.get(k)!),
      capas: [...this.capas.values()],
    }
  }

  private async lot(plant: string, lot: string) {
    const k = `${plant}\u0000${lot}`
    if (!this.lots.has(k)) this.lots.set(k, await this.tx.lot(plant, lot))
    return this.lots.get(k)
  }

  /** Replaces the lot's share of its row by the new version's. */
  private async put(before: ScorecardLot | undefined, after: ScorecardLot, e: StoredEvent, last?: boolean) {
    this.lots.set(`${after.plant}\u0000${after.lot}`, after)
    this.changedLots.add(`${after.plant}\u0000${after.lot}`)
    const k = [after.plant, after.supplier, after.material].join('\u0000')
    if (!this.rows.has(k)) this.rows.set(k, await this.tx.row(after.plant, after.supplier, after.material))
    const row = this.rows.get(k)
    const [was, now] = [share(before), share(after)]
    const inspected = move(row?.inspected ?? null, now.inspected, was.inspected)
    const rejected = move(row?.rejected ?? null, now.rejectedQty, was.rejectedQty)
    this.rows.set(k, {
      plant: after.plant,
      supplier: after.supplier,
      material: after.material,
      lotsReceived: (row?.lotsReceived ?? 0) + now.lots - was.lots,
      lotsAccepted: (row?.lotsAccepted ?? 0) + now.accepted - was.accepted,
      lotsRejected: (row?.lotsRejected ?? 0) + now.rejected - was.rejected,
      inspected,
      rejected,
      ppm: ppmOf(inspected, rejected),
      lastDecision:
        last && after.valuation
          ? {
              lot: after.lot,
              code: after.decisionCode ?? '',
              valuation: after.valuation,
              at: after.decidedAt ?? e.time,
              by: after.decidedBy,
            }
          : (row?.lastDecision ?? null),
      updatedSeq: e.seq,
    })
    this.changedRows.add(k)
  }

  private async event(e: StoredEvent) {
    const d = e.envelope.data as Record<string, unknown>
    switch (e.type) {
      case GR_POSTED: {
        const lot = d.lot as { id: string; material: string }
        const supplier = d.supplier as string | undefined
        if (!supplier) return
        // Qualink's plant (the event's), which scopes every read; the ERP's own plant code may differ.
        const plant = e.plant
        const before = await this.lot(plant, lot.id)
        const q = d.quantity as Quantity
        await this.put(
          before,
          before
            ? { ...before, received: move(before.received, q, null) }
            : {
                plant,
                lot: lot.id,
                supplier,
                material: lot.material,
                received: q,
                rejected: null,
                valuation: null,
                decisionCode: null,
                decidedAt: null,
                decidedBy: null,
              },
          e,
        )
        return
      }
      case GR_REVERSED: {
        const lot = d.lot as { id: string }
        const before = await this.lot(e.plant, lot.id)
        if (before)
          await this.put(
            before,
            { ...before, received: move(before.received, null, d.quantity as Quantity) },
            e,
          )
        return
      }
      case UD_MADE:
      case UD_CHANGED: {
        const ud = d as unknown as Decision
        const before = await this.lot(e.plant, ud.lot ?? e.subject ?? '')
        if (!before) return // not a supplier receipt (e.g. a finished-goods approval)
        await this.put(
          before,
          {
            ...before,
            valuation: ud.valuation,
            decisionCode: ud.code,
            // a change without lines moves no quantity: the decided split stays
            rejected: ud.stockPostings ? rejectedOf(ud.stockPostings) : before.rejected,
            decidedAt: ud.audit?.timestamp ?? e.time,
            decidedBy: this.protect(e.type, '/data/audit/operator', ud.audit?.operator ?? null),
          },
          e,
          true,
        )
        return
      }
      case CAPA_OPENED:
      case CAPA_CLOSED: {
        const c = (d as unknown as Capa).correctiveAction
        if (!c.supplier) return
        const k = `${e.plant}\u0000${c.id}`
        const known = this.capas.get(k) ?? (await this.tx.capa(e.plant, c.id))
        const at = c.audit?.timestamp ?? e.time
        this.capas.set(k, {
          plant: e.plant,
          capa: c.id,
          supplier: c.supplier,
          title: this.protect(e.type, '/data/correctiveAction/title', c.title),
          // a close delivered before its open (out of order) stays closed
          status: e.type === CAPA_CLOSED || known?.status === 'closed' ? 'closed' : 'open',
          openedAt: known?.openedAt ?? at,
          closedAt: e.type === CAPA_CLOSED ? at : (known?.closedAt ?? null),
        })
        return
      }
    }
  }
}

export interface SupplierScorecard {
  readonly supplier: string
  /** per plant in the caller's scope where the supplier has a row or a corrective action */
  readonly plants: Array<{
    readonly plant: string
    readonly qualityStatus: SupplierQualityStatus
    readonly openCapas: SupplierCapa[]
    readonly materials: ScorecardRow[]
  }>
}

/**
 * The supplier's scorecard as the projection holds it, per plant: its materials, open corrective
 * actions and quality status (open CAPAs under the plant's policy). Undefined when the supplier
 * has nothing in the caller's plants (another plant's supplier answers 404).
 */
export async function supplierScorecard(
  store: Store,
  scope: Scope,
  supplier: string,
  policy: (plant: string) => CapaPolicy,
): Promise<SupplierScorecard | undefined> {
  const sql = new ScorecardSql(store.sql)
  const reveal = <T>(v: T): T => (store.decryptAtRest ? store.decryptAtRest(v) : v)
  const [rows, capas] = (await Promise.all([sql.rowsOf(scope, supplier), sql.capasOf(scope, supplier)])).map(
    reveal,
  ) as [ScorecardRow[], SupplierCapa[]]
  if (rows.length === 0 && capas.length === 0) return undefined
  const plants = [...new Set([...rows.map((r) => r.plant), ...capas.map((c) => c.plant)])].sort()
  return {
    supplier,
    plants: plants.map((plant) => {
      const open = capas.filter((c) => c.plant === plant && c.status === 'open')
      return {
        plant,
        qualityStatus: supplierQualityStatus(open.length, policy(plant)),
        openCapas: open,
        materials: rows.filter((r) => r.plant === plant),
      }
    }),
  }
}

/**
 * The dashboard's supplier list from the same projection: every supplier × material row in the
 * caller's plants (worst ppm first) and the suppliers with open CAPAs, with their status.
 */
export async function listScorecards(
  store: Store,
  scope: Scope,
  policy: (plant: string) => CapaPolicy,
  limit = 200,
): Promise<{
  rows: ScorecardRow[]
  blocked: Array<{
    plant: string
    supplier: string
    qualityStatus: SupplierQualityStatus
    capas: SupplierCapa[]
  }>
}> {
  const sql = new ScorecardSql(store.sql)
  const reveal = <T>(v: T): T => (store.decryptAtRest ? store.decryptAtRest(v) : v)
  const [rows, capas] = (await Promise.all([sql.list(scope, limit), sql.openCapas(scope, limit)])).map(
    reveal,
  ) as [ScorecardRow[], SupplierCapa[]]
  const bySupplier = new Map<string, SupplierCapa[]>()
  for (const c of capas) {
    const k = `${c.plant}\u0000${c.supplier}`
    bySupplier.set(k, [...(bySupplier.get(k) ?? []), c])
  }
  return {
    rows,
    blocked: [...bySupplier.values()].map((cs) => ({
      plant: cs[0]!.plant,
      supplier: cs[0]!.supplier,
      qualityStatus: supplierQualityStatus(cs.length, policy(cs[0]!.plant)),
      capas: cs,
    })),
  }
}

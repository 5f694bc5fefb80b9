import type { DispositionCode } from '../model/nonconformance.ts'
import type { Quantity } from '../model/quantity.ts'
import { add, compare, subtract } from '../model/quantity.ts'
import type { Logger } from '../observability/logger.ts'
import type { Scope, Store } from '../store/types.ts'
import { DISPOSITION_BUCKET, type ErpPort, type LotRef } from '../workflows/ports/erp.ts'

export type DriftPolicy = 'alert' | 'heal'
export type DriftKind = 'posting-missing' | 'released-beyond-decision'

export interface Drift {
  readonly id: number
  readonly plant: string
  readonly lot: string
  readonly kind: DriftKind
  readonly status: 'open' | 'healed' | 'resolved'
  readonly sinceMs: number
  readonly checkedAtMs: number
  readonly qmsView: unknown
  readonly erpView: unknown
  readonly detail: string
}

interface Expected {
  plant: string
  lot: LotRef
  inspectionLot: string
  postStockKey: string | null
  lines: Array<{ code: DispositionCode; quantity: Quantity }>
  released: Quantity | null
}

/**
 * Compares, per lot whose receipt inspection finished, what the QMS decided with the stock the
 * ERP holds (read through the ERP port). A difference is recorded as drift with both views and
 * since when; the plant's policy decides whether it only alerts or heals: a missing posting is
 * re-issued through the run's own idempotent step key (the connector posts only what is
 * missing), stock released beyond the decision is moved back to blocked under a key derived from
 * the lot, so a heal happens once however often reconciliation runs.
 */
export class Reconciler {
  constructor(
    private readonly store: Store,
    private readonly erp: ErpPort,
    private readonly policy: (plant: string) => DriftPolicy,
    private readonly logger?: Logger,
  ) {}

  private async expectations(): Promise<Expected[]> {
    const scope: Scope = { allPlants: true, reason: 'reconciliation' }
    const runs = await this.store.engine.listRuns(scope, {
      workflow: 'supplier-receipt-inspection',
      status: 'completed',
      limit: 100_000,
    })
    const out: Expected[] = []
    // Oldest first, so a later changed decision replaces the one its lot was first posted with.
    for (const run of [...runs].sort((a, b) => a.createdAtMs - b.createdAtMs)) {
      const loaded = await this.store.engine.loadRun(scope, run.id)
      const trigger =
        run.triggerEventSeq === null
          ? undefined
          : await this.store.engine.getEventBySeqInternal(run.triggerEventSeq)
      if (
        trigger?.type === 'qms.usage_decision.changed.v1' &&
        (run.result as { outcome?: string } | null)?.outcome === 'decision-changed'
      ) {
        const change = trigger.envelope.data as { lot?: string; stockPostings?: Expected['lines'] }
        const e = out.find((x) => x.lot.lot === (change.lot ?? run.key))
        if (e && change.stockPostings) {
          e.lines = change.stockPostings
          const rel = e.lines.filter((l) => DISPOSITION_BUCKET[l.code] === 'release').map((l) => l.quantity)
          e.released = rel.length ? rel.reduce((a, b) => add(a, b)) : null
        }
        continue
      }
      // v1 waited for the decision; v2 takes it from the run's inbox (docs/workflows.md).
      const wait = loaded?.journal.find(
        (j) =>
          (j.kind === 'wait' && j.name.startsWith('qms.usage_decision.made@')) ||
          (j.kind === 'receive' &&
            /^qms\.usage_decision\.(made|changed)\./.test(
              (j.result as { event?: { type?: string } } | null)?.event?.type ?? '',
            )),
      )
      const post = loaded?.journal.find((j) => j.kind === 'step' && j.name === 'post-stock')
      if (!trigger || !wait) continue
      const gr = trigger.envelope.data as {
        lot: { id: string; material: string; plant: string }
        inspectionLot?: string
      }
      const ud = (wait.result as { event?: { envelope: { data: { stockPostings: Expected['lines'] } } } })
        .event
      if (!ud || !gr.inspectionLot) continue
      const lines = ud.envelope.data.stockPostings
      const releasing = lines.filter((l) => DISPOSITION_BUCKET[l.code] === 'release').map((l) => l.quantity)
      out.push({
        plant: run.plant,
        lot: { plant: gr.lot.plant, material: gr.lot.material, lot: gr.lot.id },
        inspectionLot: gr.inspectionLot,
        postStockKey: post?.idempotencyKey ?? null,
        lines,
        released: releasing.length ? releasing.reduce((a, b) => add(a, b)) : null,
      })
    }
    return out
  }

  /** One pass over every finished lot; returns the drifts found open after it. */
  async runOnce(): Promise<Drift[]> {
    const found: Drift[] = []
    for (const e of await this.expectations()) {
      const stock = (await this.erp.readLotStock(e.lot)).quantities
      const qi = stock.qualityInspection
      const free = stock.unrestricted
      const problems: Array<{ kind: DriftKind; detail: string; heal: () => Promise<unknown> }> = []
      if (qi && qi.units > 0) {
        problems.push({
          kind: 'posting-missing',
          detail: `the QMS decided lot ${e.lot.lot}, but the ERP still holds it in quality inspection`,
          heal: () =>
            this.erp.postStockDisposition({
              idempotencyKey: e.postStockKey ?? `reconcile/${e.lot.lot}/post-stock`,
              inspectionLot: e.inspectionLot,
              lot: e.lot,
              lines: e.lines.map((l) => ({ bucket: DISPOSITION_BUCKET[l.code], quantity: l.quantity })),
            }),
        })
      }
      const allowed = e.released ?? (free ? { ...free, units: 0 } : null)
      if (free && allowed && compare(free, allowed) > 0) {
        const excess = subtract(free, allowed)
        problems.push({
          kind: 'released-beyond-decision',
          detail: `lot ${e.lot.lot}: the ERP has ${excess.units / 10 ** excess.scale} ${excess.uom} more unrestricted stock than the QMS released`,
          heal: () =>
            this.erp.transferStock({
              idempotencyKey: `reconcile/${e.lot.lot}/released-beyond-decision/${free.units}`,
              lot: e.lot,
              from: 'unrestricted',
              to: 'blocked',
              quantity: excess,
              reason: 'reconciliation: beyond the usage decision',
            }),
        })
      }
      const kinds = new Set(problems.map((p) => p.kind))
      await this.closeResolved(e.lot.lot, kinds)
      for (const p of problems) {
        const drift = await this.record(e, p.kind, p.detail, stock)
        if (this.policy(e.plant) === 'heal') {
          try {
            await p.heal()
            await this.heal(drift.id)
          } catch (err) {
            this.logger?.warn(
              { err, lot: e.lot.lot, kind: p.kind },
              'drift heal failed; the drift stays open',
            )
            found.push(drift)
          }
        } else {
          found.push(drift)
        }
      }
    }
    return found
  }

  private async record(e: Expected, kind: DriftKind, detail: string, erpView: unknown): Promise<Drift> {
    const now = await this.store.now()
    const qms = JSON.stringify({ inspectionLot: e.inspectionLot, lines: e.lines })
    const erp = JSON.stringify(erpView)
    const inserted = await this.store.sql.tx(async (x) => {
      const updated = await x.run(
        `UPDATE drift SET checked_at_ms = ?, erp_view = ?, detail = ? WHERE lot = ? AND kind = ? AND status = 'open'`,
        [now, erp, detail, e.lot.lot, kind],
      )
      if (updated === 0) {
        await x.run(
          `INSERT INTO drift (plant, lot, kind, status, since_ms, checked_at_ms, qms_view, erp_view, detail) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
          [e.plant, e.lot.lot, kind, now, now, qms, erp, detail],
        )
      }
      return updated === 0
    })
    if (inserted) {
      await this.store.appendAudit([
        {
          plant: e.plant,
          actor: 'reconciliation',
          action: 'drift.detected',
          subject: e.lot.lot,
          correlationId: null,
          payload: { kind, detail },
        },
      ])
    }
    const [row] = await this.store.sql.all(
      `SELECT * FROM drift WHERE lot = ? AND kind = ? AND status = 'open'`,
      [e.lot.lot, kind],
    )
    return toDrift(row!)
  }

  private async heal(id: number): Promise<void> {
    const now = await this.store.now()
    await this.store.sql.run(
      `UPDATE drift SET status = 'healed', closed_at_ms = ? WHERE id = ? AND status = 'open'`,
      [now, id],
    )
    const [row] = await this.store.sql.all('SELECT * FROM drift WHERE id = ?', [id])
    await this.store.appendAudit([
      {
        plant: String(row!.plant),
        actor: 'reconciliation',
        action: 'drift.healed',
        subject: String(row!.lot),
        correlationId: null,
        payload: { id, kind: row!.kind },
      },
    ])
  }

  private async closeResolved(lot: string, still: ReadonlySet<DriftKind>): Promise<void> {
    const now = await this.store.now()
    for (const r of await this.store.sql.all(`SELECT id, kind FROM drift WHERE lot = ? AND status = 'open'`, [
      lot,
    ])) {
      if (!still.has(String(r.kind) as DriftKind)) {
        await this.store.sql.run(`UPDATE drift SET status = 'resolved', closed_at_ms = ? WHERE id = ?`, [
          now,
          Number(r.id),
        ])
      }
    }
  }
}

export async function listDrift(store: Store, scope: Scope, status?: Drift['status']): Promise<Drift[]> {
  const rows = await store.sql.all(
    `SELECT * FROM drift ${status ? 'WHERE status = ?' : ''} ORDER BY id`,
    status ? [status] : [],
  )
  return rows.map(toDrift).filter((d) => 'allPlants' in scope || scope.plants.includes(d.plant))
}

function toDrift(r: Record<string, unknown>): Drift {
  const j = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)
  return {
    id: Number(r.id),
    plant: String(r.plant),
    lot: String(r.lot),
    kind: String(r.kind) as DriftKind,
    status: String(r.status) as Drift['status'],
    sinceMs: Number(r.since_ms),
    checkedAtMs: Number(r.checked_at_ms),
    qmsView: j(r.qms_view),
    erpView: j(r.erp_view),
    detail: String(r.detail),
  }
}

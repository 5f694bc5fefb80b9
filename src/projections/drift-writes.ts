import { marks } from '../store/sql-executor.ts'
import type { Store } from '../store/types.ts'
import { type Drift, type DriftKind, toDrift } from './drift-store.ts'
import { type Expected, type Line, RUN_PAGE } from './reconciliation-expected.ts'

/** The reconciler's writes of drift rows: recorded (audited once), healed (audited), resolved. */

/** Open drift of `lots` (one statement per page of lots), by lot. */
export async function openDrift(
  store: Store,
  lots: readonly string[],
): Promise<Map<string, Array<{ id: number; kind: string }>>> {
  const out = new Map<string, Array<{ id: number; kind: string }>>()
  const unique = [...new Set(lots)]
  for (let i = 0; i < unique.length; i += RUN_PAGE) {
    const part = unique.slice(i, i + RUN_PAGE)
    for (const r of await store.sql.all(
      `SELECT id, lot, kind FROM drift WHERE status = 'open' AND lot IN (${marks(part.length)})`,
      part,
    )) {
      const list = out.get(String(r.lot)) ?? []
      list.push({ id: Number(r.id), kind: String(r.kind) })
      out.set(String(r.lot), list)
    }
  }
  return out
}

export async function recordDrift(
  store: Store,
  e: Expected,
  view: { source: string; lines: Line[]; readError?: string },
  kind: DriftKind,
  detail: string,
  erpView: unknown,
): Promise<Drift> {
  const now = await store.now()
  const qms = JSON.stringify({
    source: view.source,
    inspectionLot: e.inspectionLot,
    qmsInspectionLot: e.qmsLot,
    lines: view.lines,
    ...(view.readError ? { readError: view.readError } : {}),
  })
  const erp = JSON.stringify(erpView)
  const inserted = await store.sql.tx(async (x) => {
    const updated = await x.run(
      `UPDATE drift SET checked_at_ms = ?, qms_view = ?, erp_view = ?, detail = ? WHERE lot = ? AND kind = ? AND status = 'open'`,
      [now, qms, erp, detail, e.lot.lot, kind],
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
    await store.appendAudit([
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
  const [row] = await store.sql.all(`SELECT * FROM drift WHERE lot = ? AND kind = ? AND status = 'open'`, [
    e.lot.lot,
    kind,
  ])
  return toDrift(row!, now)
}

export async function markHealed(store: Store, id: number): Promise<void> {
  const now = await store.now()
  await store.sql.run(
    `UPDATE drift SET status = 'healed', closed_at_ms = ? WHERE id = ? AND status = 'open'`,
    [now, id],
  )
  const [row] = await store.sql.all('SELECT * FROM drift WHERE id = ?', [id])
  await store.appendAudit([
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

/** Drift no longer seen is resolved (only drift still open: a concurrent heal keeps its status). */
export async function closeResolved(store: Store, gone: ReadonlyArray<{ id: number }>): Promise<void> {
  if (gone.length === 0) return
  const now = await store.now()
  for (const d of gone)
    await store.sql.run(
      `UPDATE drift SET status = 'resolved', closed_at_ms = ? WHERE id = ? AND status = 'open'`,
      [now, d.id],
    )
}

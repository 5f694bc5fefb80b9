import type { SqlExecutor } from '../store/sql-executor.ts'
import { SYNTHETIC_ENVELOPE_LIKE } from '../synthetic/mark.ts'
import { IN_PROCESS_WORKFLOW, RECEIPT_WORKFLOW } from './business-queries.ts'
import type { CountSample, DurationSample } from './kpis.ts'

/**
 * Store reads behind the outcome KPIs, in standard SQL over the engine's tables, the event log
 * and the audit log, so both dialects share them. They read every plant in [fromMs, toMs) (or the
 * one plant asked for): src/observability/kpis.ts applies the caller's scope, so samples of
 * plants the caller may not see are counted there, not silently dropped (like trace pages).
 */
export interface Window {
  readonly fromMs: number
  readonly toMs: number
  readonly plant?: string
}

const plantFilter = (w: Window, column: string) =>
  w.plant === undefined ? { sql: '', params: [] } : { sql: ` AND ${column} = ?`, params: [w.plant] }

const json = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>

/**
 * Lot release cycle time: Qualink's receipt of the goods receipt that started a receipt
 * inspection run, to the run's first `confirm-posting` (the ERP's stock read back with nothing
 * left in quality inspection, SAP SPRQ → SPCO). Runs started by a changed decision or a
 * reversal are not receipts and are left out, and so are receipts of designated test materials
 * (synthetic transactions, src/synthetic/mark.ts).
 */
export async function lotReleaseCycles(sql: SqlExecutor, w: Window): Promise<DurationSample[]> {
  const p = plantFilter(w, 'r.plant')
  const rows = await sql.all(
    `SELECT r.plant, r.id, MIN(j.completed_at_ms) AS done, MIN(e.recorded_at_ms) AS started
       FROM run_journal j
       JOIN workflow_runs r ON r.id = j.run_id
       JOIN events e ON e.seq = r.trigger_event_seq
      WHERE r.workflow = ? AND j.kind = 'step' AND j.name = 'confirm-posting'
        AND e.type = 'erp.goods_receipt.posted.v1'
        AND CAST(e.envelope AS TEXT) NOT LIKE ?${p.sql}
      GROUP BY r.plant, r.id
     HAVING MIN(j.completed_at_ms) >= ? AND MIN(j.completed_at_ms) < ?`,
    [RECEIPT_WORKFLOW, SYNTHETIC_ENVELOPE_LIKE, ...p.params, w.fromMs, w.toMs],
  )
  return rows.map((r) => ({
    kpi: 'lotRelease',
    plant: String(r.plant),
    id: String(r.id),
    startMs: Number(r.started),
    endMs: Number(r.done),
  }))
}

const DISPOSITION_WAIT = 'qms.nonconformance.dispositioned@%'

/**
 * Nonconformance containment time, from two sources:
 * - in-process check runs: the journaled `open-nonconformance` step (the NC exists in the QMS,
 *   the order already on hold) to the journaled wait that received the NC's disposition;
 * - the event log: `qms.nonconformance.opened.v1` to the `qms.nonconformance.dispositioned.v1`
 *   naming that NC, both at Qualink's receipt, for NCs no run opened (opened in the QMS itself).
 * An NC a run opened is counted once, from its journal.
 */
export async function ncContainment(sql: SqlExecutor, w: Window): Promise<DurationSample[]> {
  const p = plantFilter(w, 'r.plant')
  const journal = await sql.all(
    `SELECT r.plant, r.id, j.kind, j.result, j.completed_at_ms
       FROM run_journal j JOIN workflow_runs r ON r.id = j.run_id
      WHERE r.workflow = ?${p.sql}
        AND ((j.kind = 'step' AND j.name = 'open-nonconformance')
             OR (j.kind = 'wait' AND j.name LIKE '${DISPOSITION_WAIT}' AND j.result LIKE '{"event"%'))
        AND EXISTS (SELECT 1 FROM run_journal d
                     WHERE d.run_id = r.id AND d.kind = 'wait' AND d.name LIKE '${DISPOSITION_WAIT}'
                       AND d.result LIKE '{"event"%' AND d.completed_at_ms >= ? AND d.completed_at_ms < ?)`,
    [IN_PROCESS_WORKFLOW, ...p.params, w.fromMs, w.toMs],
  )
  const runs = new Map<string, { plant: string; nc?: string; opened?: number; done?: number }>()
  for (const r of journal) {
    const run = runs.get(String(r.id)) ?? { plant: String(r.plant) }
    const at = Number(r.completed_at_ms)
    if (r.kind === 'step') {
      run.opened = at
      run.nc = String((json(r.result).record as { id?: unknown } | undefined)?.id ?? '')
    } else run.done = Math.min(run.done ?? at, at)
    runs.set(String(r.id), run)
  }
  const out: DurationSample[] = []
  const byRun = new Set<string>()
  for (const [id, r] of runs) {
    if (r.opened === undefined || r.done === undefined) continue
    if (r.nc) byRun.add(`${r.plant}|${r.nc}`)
    out.push({ kpi: 'ncContainment', plant: r.plant, id: r.nc || id, startMs: r.opened, endMs: r.done })
  }

  const e = plantFilter(w, 'plant')
  const dispositions = await sql.all(
    `SELECT plant, envelope, recorded_at_ms FROM events
      WHERE type = 'qms.nonconformance.dispositioned.v1' AND recorded_at_ms >= ? AND recorded_at_ms < ?${e.sql}`,
    [w.fromMs, w.toMs, ...e.params],
  )
  const closed = new Map<string, number>()
  for (const r of dispositions) {
    const nc = (json(r.envelope).data as { disposition?: { nonconformance?: string } }).disposition
      ?.nonconformance
    const k = `${r.plant}|${nc}`
    if (nc && !byRun.has(k))
      closed.set(k, Math.min(closed.get(k) ?? Number(r.recorded_at_ms), Number(r.recorded_at_ms)))
  }
  if (closed.size === 0) return out
  const opened = await sql.all(
    `SELECT plant, envelope, recorded_at_ms FROM events
      WHERE type = 'qms.nonconformance.opened.v1' AND recorded_at_ms < ?${e.sql}`,
    [w.toMs, ...e.params],
  )
  for (const r of opened) {
    const nc = (json(r.envelope).data as { nonconformance?: { id?: string } }).nonconformance?.id
    const k = `${r.plant}|${nc}`
    const end = closed.get(k)
    if (nc && end !== undefined) {
      out.push({
        kpi: 'ncContainment',
        plant: String(r.plant),
        id: nc,
        startMs: Number(r.recorded_at_ms),
        endMs: end,
      })
      closed.delete(k)
    }
  }
  return out
}

/**
 * Supplier response time on corrective actions: `qms.capa.opened.v1` to `qms.capa.closed.v1` of
 * the same CAPA (plant and id), for CAPAs naming a supplier: from the QMS's capa.* webhooks (the
 * qms-rest-webhook translator) or canonical events posted to the log. Timed by the events' own `time` (the
 * QMS's clock for both ends): a CAPA lives for weeks and is often delivered in batches, so
 * Qualink's receipt times would measure the delivery, not the supplier. CAPAs are few (a
 * handful per supplier and month), so all are read and paired here.
 */
export async function capaResponses(sql: SqlExecutor, w: Window): Promise<DurationSample[]> {
  const e = plantFilter(w, 'plant')
  const rows = await sql.all(
    `SELECT plant, type, time, envelope FROM events
      WHERE type IN ('qms.capa.opened.v1', 'qms.capa.closed.v1')${e.sql} ORDER BY seq`,
    e.params,
  )
  const capas = new Map<
    string,
    { plant: string; id: string; supplier?: string; opened?: number; closed?: number }
  >()
  for (const r of rows) {
    const ca = (json(r.envelope).data as { correctiveAction?: { id?: string; supplier?: string } })
      .correctiveAction
    if (!ca?.id) continue
    const k = `${r.plant}|${ca.id}`
    const c = capas.get(k) ?? { plant: String(r.plant), id: ca.id }
    c.supplier ??= ca.supplier
    const t = Date.parse(String(r.time))
    if (r.type === 'qms.capa.opened.v1') c.opened = Math.min(c.opened ?? t, t)
    else c.closed ??= t // the first closure: a reopened and re-closed CAPA counts its first answer
    capas.set(k, c)
  }
  return [...capas.values()]
    .filter((c) => c.supplier && c.opened !== undefined && c.closed !== undefined)
    .map((c) => ({ kpi: 'capaResponse', plant: c.plant, id: c.id, startMs: c.opened!, endMs: c.closed! }))
}

/** Manual corrections: drift the reconciliation healed (its `drift.healed` audit entries). */
export async function driftHealed(sql: SqlExecutor, w: Window): Promise<CountSample[]> {
  const p = plantFilter(w, 'plant')
  const rows = await sql.all(
    `SELECT plant, at_ms FROM audit_log WHERE action = 'drift.healed' AND at_ms >= ? AND at_ms < ?${p.sql}`,
    [w.fromMs, w.toMs, ...p.params],
  )
  return rows.map((r) => ({ kpi: 'driftHealed', plant: String(r.plant), atMs: Number(r.at_ms) }))
}

/** Integration incidents: dead letters opened, with the workflow whose run died. */
export async function deadLettersOpened(sql: SqlExecutor, w: Window): Promise<CountSample[]> {
  const p = plantFilter(w, 'plant')
  const rows = await sql.all(
    `SELECT plant, workflow, created_at_ms FROM dead_letters
      WHERE created_at_ms >= ? AND created_at_ms < ?${p.sql}`,
    [w.fromMs, w.toMs, ...p.params],
  )
  return rows.map((r) => ({
    kpi: 'deadLetters',
    plant: String(r.plant),
    workflow: String(r.workflow),
    atMs: Number(r.created_at_ms),
  }))
}

/** Every sample the KPIs are computed from, for one window. */
export async function kpiSamples(
  sql: SqlExecutor,
  w: Window,
): Promise<{ durations: DurationSample[]; counts: CountSample[] }> {
  // One after the other: a SQLite connection serves one statement at a time anyway.
  const release = await lotReleaseCycles(sql, w)
  const nc = await ncContainment(sql, w)
  const capa = await capaResponses(sql, w)
  const healed = await driftHealed(sql, w)
  const dead = await deadLettersOpened(sql, w)
  return { durations: [...release, ...nc, ...capa], counts: [...healed, ...dead] }
}

/**
 * Holds for the overview's aging chart: production orders on quality hold (active in-process
 * runs past `hold-order`) and received lots awaiting their usage decision (active receipt runs
 * that created the inspection lot and have not confirmed the posting), with when the hold began
 * (the journaled step that placed it).
 */
export async function openHolds(
  sql: SqlExecutor,
): Promise<Array<{ plant: string; workflow: string; sinceMs: number }>> {
  const rows = await sql.all(
    `SELECT r.plant, r.workflow, MIN(j.completed_at_ms) AS since FROM workflow_runs r
       JOIN run_journal j ON j.run_id = r.id AND j.kind = 'step'
      WHERE r.status IN ('pending', 'waiting')
        AND ((r.workflow = ? AND j.name = 'hold-order')
             OR (r.workflow = ? AND j.name = 'create-inspection-lot'
                 AND NOT EXISTS (SELECT 1 FROM run_journal c WHERE c.run_id = r.id
                                    AND c.kind = 'step' AND c.name = 'confirm-posting')))
      GROUP BY r.plant, r.workflow, r.id`,
    [IN_PROCESS_WORKFLOW, RECEIPT_WORKFLOW],
  )
  return rows.map((r) => ({ plant: String(r.plant), workflow: String(r.workflow), sinceMs: Number(r.since) }))
}

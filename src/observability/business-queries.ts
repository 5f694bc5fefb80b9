import type { SqlExecutor } from '../store/sql-executor.ts'
import { SYNTHETIC_ENVELOPE_LIKE } from '../synthetic/mark.ts'

/**
 * Store reads behind the business metrics and the SLOs, in standard SQL over the engine's
 * tables (runs, journal, dead letters, events), so both dialects share them. Names of workflows
 * and steps are the ones src/workflows/*.ts journal; test/observability checks them end to end.
 */
export const RECEIPT_WORKFLOW = 'supplier-receipt-inspection'
export const IN_PROCESS_WORKFLOW = 'in-process-quality-check'

/**
 * Business latency legs: from Qualink's receipt of the run's trigger event (goods receipt, MES
 * completion) to the journaled completion of the step that confirms the ERP or QMS effect.
 * Receipt time rather than the source's own `time`: source clocks and date-only posting dates
 * would otherwise skew the leg.
 */
export const LEGS = [
  { leg: 'receipt-to-qms-inspection', workflow: RECEIPT_WORKFLOW, step: 'create-inspection-lot' },
  // confirm-posting reads the ERP's stock back: nothing left in quality inspection (SAP SPRQ → SPCO).
  { leg: 'receipt-to-erp-posting', workflow: RECEIPT_WORKFLOW, step: 'confirm-posting' },
  { leg: 'completion-to-erp-hold', workflow: IN_PROCESS_WORKFLOW, step: 'hold-order' },
] as const
export type LegName = (typeof LEGS)[number]['leg']

export interface LegRow {
  readonly plant: string
  readonly leg: LegName
  /** run, step and occurrence: what makes one leg unique */
  readonly key: string
  readonly startedMs: number
  readonly doneMs: number
}

/** Legs whose confirming step completed at or after `sinceMs`. */
export async function legsCompleted(sql: SqlExecutor, sinceMs: number): Promise<LegRow[]> {
  const pairs = LEGS.map(() => '(r.workflow = ? AND j.name = ?)').join(' OR ')
  const rows = await sql.all(
    `SELECT r.plant, r.workflow, j.run_id, j.name, j.occurrence, j.completed_at_ms, e.recorded_at_ms
       FROM run_journal j
       JOIN workflow_runs r ON r.id = j.run_id
       JOIN events e ON e.seq = r.trigger_event_seq
      WHERE j.kind = 'step' AND j.completed_at_ms >= ? AND (${pairs})`,
    [sinceMs, ...LEGS.flatMap((l) => [l.workflow, l.step])],
  )
  return rows.map((r) => ({
    plant: String(r.plant),
    leg: LEGS.find((l) => l.workflow === r.workflow && l.step === r.name)!.leg,
    key: `${r.run_id}|${r.name}|${r.occurrence}`,
    startedMs: Number(r.recorded_at_ms),
    doneMs: Number(r.completed_at_ms),
  }))
}

/**
 * Receipt inspections not yet created in the QMS: receipt runs that are active (or stuck behind
 * an open dead letter) with no journaled `create-inspection-lot`, created at or before `beforeMs`.
 */
export async function inspectionsAwaitingCreation(
  sql: SqlExecutor,
  beforeMs = Number.MAX_SAFE_INTEGER,
): Promise<Array<{ plant: string; n: number; oldest: number }>> {
  const rows = await sql.all(
    `SELECT r.plant, COUNT(*) AS n, MIN(r.created_at_ms) AS oldest FROM workflow_runs r
      WHERE r.workflow = ? AND r.created_at_ms <= ?
        AND (r.status IN ('pending', 'waiting', 'failed')
             OR (r.status = 'dead' AND EXISTS (
                   SELECT 1 FROM dead_letters d WHERE d.run_id = r.id AND d.status = 'open')))
        AND NOT EXISTS (
              SELECT 1 FROM run_journal j
               WHERE j.run_id = r.id AND j.kind = 'step' AND j.name = 'create-inspection-lot')
        -- runs a receipt started; those started by a changed decision or a late reversal create no
        -- lot; a synthetic receipt (a designated test material, src/synthetic/mark.ts) is no backlog
        AND EXISTS (SELECT 1 FROM events e WHERE e.seq = r.trigger_event_seq AND e.type = ?
                      AND CAST(e.envelope AS TEXT) NOT LIKE ?)
      GROUP BY r.plant`,
    [RECEIPT_WORKFLOW, beforeMs, 'erp.goods_receipt.posted.v1', SYNTHETIC_ENVELOPE_LIKE],
  )
  return rows.map((r) => ({ plant: String(r.plant), n: Number(r.n), oldest: Number(r.oldest) }))
}

/**
 * Failed disposition updates: dead letters of runs that had their quality decision (a usage
 * decision or an NC disposition, delivered by waitFor or to the run's inbox, or polled) and so
 * died carrying it to the ERP. Journal results are the JSON of the delivered stored event.
 * `open`: only those awaiting replay or discard; otherwise every one created since `sinceMs`.
 */
export async function failedDispositionUpdates(
  sql: SqlExecutor,
  f: { readonly open: true } | { readonly sinceMs: number },
): Promise<Array<{ plant: string; workflow: string; n: number }>> {
  const filter = 'open' in f ? `d.status = 'open'` : 'd.created_at_ms >= ?'
  const rows = await sql.all(
    `SELECT d.plant, d.workflow, COUNT(*) AS n FROM dead_letters d
      WHERE ${filter} AND EXISTS (
        SELECT 1 FROM run_journal j WHERE j.run_id = d.run_id AND (
          (j.kind IN ('wait', 'receive') AND j.result LIKE '{"event"%'
            AND (j.result LIKE '%"type":"qms.usage_decision.%'
                 OR j.result LIKE '%"type":"qms.nonconformance.dispositioned.%'))
          OR (j.kind = 'step' AND j.name = 'poll-usage-decision'
              AND j.result IS NOT NULL AND j.result <> 'null')))
      GROUP BY d.plant, d.workflow`,
    'open' in f ? [] : [f.sinceMs],
  )
  return rows.map((r) => ({ plant: String(r.plant), workflow: String(r.workflow), n: Number(r.n) }))
}

/** Dead letters created since `sinceMs` per plant (integration incidents). */
export async function deadLettersSince(
  sql: SqlExecutor,
  sinceMs: number,
): Promise<Array<{ plant: string; n: number }>> {
  const rows = await sql.all(
    'SELECT plant, COUNT(*) AS n FROM dead_letters WHERE created_at_ms >= ? GROUP BY plant',
    [sinceMs],
  )
  return rows.map((r) => ({ plant: String(r.plant), n: Number(r.n) }))
}

/**
 * Per-key ordering by the source's own sequence (DESIGN §6: "a state machine parks an event older
 * than the state it would overwrite"). Runs of one workflow and key start in log order, which is
 * arrival order; a source that numbers its messages (the CloudEvents `sequence` extension, e.g.
 * the MES) may deliver them out of order. A trigger is stale when a run of the same workflow, key
 * and plant was already started by an event of the same source with the same or a higher
 * sequence: applying it now would put older data over newer. The engine parks such a run as a
 * dead letter (QLK_STALE_SEQUENCE, policy skip: the key goes on) for a person to look at.
 * Only triggers that carry a sequence are checked, so nothing else pays for the query.
 */
import type { RunRow } from '../store/engine-types.ts'
import type { SqlExecutor } from '../store/sql-executor.ts'
import type { StoredEvent } from '../store/types.ts'

/** Why `trigger` is stale for `run`, or undefined when it is not (or carries no sequence). */
export async function staleTrigger(
  sql: SqlExecutor,
  run: Pick<RunRow, 'id' | 'plant' | 'workflow' | 'key'>,
  trigger: Pick<StoredEvent, 'source' | 'sourceSequence' | 'type'>,
): Promise<string | undefined> {
  if (trigger.sourceSequence === null) return undefined
  const [newer] = await sql.all(
    `SELECT e.id, e.source_sequence FROM workflow_runs r JOIN events e ON e.seq = r.trigger_event_seq
      WHERE r.plant = ? AND r.workflow = ? AND r.run_key = ? AND r.id <> ?
        AND e.source = ? AND e.source_sequence >= ?
      ORDER BY e.source_sequence DESC LIMIT 1`,
    [run.plant, run.workflow, run.key, run.id, trigger.source, trigger.sourceSequence],
  )
  if (!newer) return undefined
  return (
    `${run.workflow} ${run.key}: ${trigger.type} from ${trigger.source} has sequence ${trigger.sourceSequence}, ` +
    `not newer than sequence ${newer.source_sequence} (event ${newer.id}) already applied to this key`
  )
}

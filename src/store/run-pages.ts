import { toJournal, toRun } from './engine-rows.ts'
import type { JournalEntry, RunRow } from './engine-types.ts'
import { toEvent } from './rows.ts'
import { marks, type SqlExecutor } from './sql-executor.ts'
import type { StoredEvent } from './types.ts'

/**
 * Batched reads of finished runs for passes over all of them (reconciliation): keyset pages in
 * (run_key, created_at_ms, id) order, one statement per page for the runs, one for their journal
 * entries and one for their trigger events, instead of one `loadRun` and one event read per run.
 * Standard SQL (row-value comparison), served by 0023's partial index workflow_runs_completed_key.
 */

/** Where a page ends: the next page starts after this run. */
export interface RunPageCursor {
  readonly key: string
  readonly createdAtMs: number
  readonly id: string
}

// SQLite caps bound parameters per statement; IN lists are read in parts of this size.
const CHUNK = 500

/** Up to `limit` completed runs of `workflow` after `after`, ordered by key, creation, id. */
export async function completedRunsPage(
  x: SqlExecutor,
  workflow: string,
  after: RunPageCursor | null,
  limit: number,
): Promise<RunRow[]> {
  const rows = await x.all(
    `SELECT * FROM workflow_runs WHERE workflow = ? AND status = 'completed'${
      after ? ' AND (run_key, created_at_ms, id) > (?, ?, ?)' : ''
    } ORDER BY run_key, created_at_ms, id LIMIT ?`,
    after ? [workflow, after.key, after.createdAtMs, after.id, limit] : [workflow, limit],
  )
  return rows.map(toRun)
}

/** How many runs of a workflow completed: a reconciliation pass's total (one index range). */
export async function countCompletedRuns(x: SqlExecutor, workflow: string): Promise<number> {
  const [r] = await x.all(
    `SELECT COUNT(*) AS n FROM workflow_runs WHERE workflow = ? AND status = 'completed'`,
    [workflow],
  )
  return Number(r?.n ?? 0)
}

/** The journal entries of `runIds` whose kind or name is listed, by run in position order. */
export async function journalsOf(
  x: SqlExecutor,
  runIds: readonly string[],
  only: { readonly kinds: readonly string[]; readonly names: readonly string[] },
): Promise<Map<string, JournalEntry[]>> {
  const out = new Map<string, JournalEntry[]>()
  for (let i = 0; i < runIds.length; i += CHUNK) {
    const part = runIds.slice(i, i + CHUNK)
    const rows = await x.all(
      `SELECT * FROM run_journal WHERE run_id IN (${marks(part.length)})
         AND (kind IN (${marks(only.kinds.length)}) OR name IN (${marks(only.names.length)}))
       ORDER BY run_id, position`,
      [...part, ...only.kinds, ...only.names],
    )
    for (const r of rows) {
      const id = String(r.run_id)
      const list = out.get(id)
      if (list) list.push(toJournal(r))
      else out.set(id, [toJournal(r)])
    }
  }
  return out
}

/** Events by their log position, whatever their plant (internal reads). */
export async function eventsBySeq(
  x: SqlExecutor,
  seqs: readonly number[],
): Promise<Map<number, StoredEvent>> {
  const out = new Map<number, StoredEvent>()
  const unique = [...new Set(seqs)]
  for (let i = 0; i < unique.length; i += CHUNK) {
    const part = unique.slice(i, i + CHUNK)
    for (const r of await x.all(`SELECT * FROM events WHERE seq IN (${marks(part.length)})`, part)) {
      const e = toEvent(r)
      out.set(e.seq, e)
    }
  }
  return out
}

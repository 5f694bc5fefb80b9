import type { SqlExecutor } from './sql-executor.ts'
import { LOG_START, type LogCursor } from './types.ts'

/** Where projection `name` stands in the log (LOG_START before its first batch). */
export async function readProjectionCursor(x: SqlExecutor, name: string): Promise<LogCursor> {
  const [r] = await x.all('SELECT txid, seq FROM projection_cursors WHERE name = ?', [name])
  return r ? { txid: String(r.txid), seq: Number(r.seq) } : LOG_START
}

/**
 * Runs `write` and moves projection `name` from `from` to `to` in one transaction; false (nothing
 * written) when another process moved the cursor first, so a batch is applied once.
 */
export function advanceProjection(
  x: SqlExecutor,
  name: string,
  from: LogCursor,
  to: LogCursor,
  write: (tx: SqlExecutor) => Promise<void>,
): Promise<boolean> {
  return x.tx(async (tx) => {
    const at = await readProjectionCursor(tx, name)
    if (at.txid !== from.txid || at.seq !== from.seq) return false
    await write(tx)
    await tx.run(
      `INSERT INTO projection_cursors (name, txid, seq) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, seq = excluded.seq`,
      [name, to.txid, to.seq],
    )
    return true
  })
}

import type { Client, Row } from './engine-tx.ts'

/**
 * Advisory lock keys. A wait (or an inbox receive) is registered in another transaction than the
 * ingest that could match it; under READ COMMITTED each side could miss the other's uncommitted
 * row and the run would sleep until its timeout. Both sides take the same transaction-level
 * advisory lock per (type family, subject) and per (workflow, key) first, so one always sees the
 * other's commit.
 */
export const waitLock = (family: string, subject: string) => `wait|${family}|${subject}`
export const inboxLock = (workflow: string, key: string) => `inbox|${workflow}|${key}`

/**
 * The lock pass as SQL over two array parameters (keys, shared flags), for a statement that must
 * hold the locks before it writes: `WITH lk AS MATERIALIZED (…)` plus `(SELECT count(*) FROM lk)`
 * in the writing part's WHERE, an uncorrelated subquery PostgreSQL runs once (an InitPlan) before
 * the first row passes. The output expressions are evaluated after the ORDER BY sort (PostgreSQL
 * postpones volatile target-list functions past a sort since 9.6), so the locks are taken in key
 * order, as lockAll takes them.
 */
export function lockAllSql(keysParam: string, sharedParam: string): string {
  return `SELECT CASE WHEN s THEN pg_advisory_xact_lock_shared(hashtextextended(k, 7162))
                   ELSE pg_advisory_xact_lock(hashtextextended(k, 7162)) END
             FROM unnest(${keysParam}::text[], ${sharedParam}::boolean[]) AS u(k, s) ORDER BY k`
}

/**
 * Transaction-level advisory locks, taken in one sorted pass so two transactions never deadlock
 * on them. Keys in `shared` are taken in share mode: ingest takes the wait keys shared (ingests
 * of one subject do not exclude each other), a wait registration takes its key exclusively.
 */
export async function lockAll(
  c: Client,
  keys: string[],
  shared: ReadonlySet<string> = new Set(),
): Promise<void> {
  if (keys.length === 0) return
  keys.sort()
  await c.query(lockAllSql('$1', '$2'), [keys, keys.map((k) => shared.has(k))])
}

/**
 * A run that ends takes its key's inbox lock before its status changes, as routing does before
 * it reads whether the key is busy: otherwise, under READ COMMITTED, an event routed into the
 * inbox while the run ends is missed by startNextFromInbox and waits forever (seen in the F8
 * fault scenario on PostgreSQL: the key's last event stored, never run).
 */
export async function lockKeyInbox(c: Client, run: Row): Promise<void> {
  await lockAll(c, [inboxLock(String(run.workflow), String(run.run_key))])
}

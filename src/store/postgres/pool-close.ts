import type pg from 'pg'
import type { PreparingClient } from './preparing-client.ts'

/**
 * Ends the pool. pool.end() waits for every checked-out client; one that is never released
 * (a statement that does not return) would hold close() forever. After the grace, each such
 * client is named with its last statement (a process warning) and its connection ended, which
 * fails its statement; close() then waits one more grace and returns regardless.
 */
export async function closePool(
  pool: pg.Pool,
  checkedOut: ReadonlyMap<pg.PoolClient, number>,
  graceMs: number,
): Promise<void> {
  const ended = pool.end()
  if (await settlesWithin(ended, graceMs)) return
  const now = Date.now()
  for (const [c, since] of checkedOut) {
    const last = (c as unknown as PreparingClient).lastStatement
    process.emitWarning(
      `PostgreSQL connection checked out ${now - since} ms was not released at close; ending it. ` +
        `Last statement (${last ? now - last.atMs : '?'} ms ago): ${last?.text.slice(0, 300) ?? 'none'}`,
      'QualinkShutdownWarning',
    )
    void (c as unknown as pg.Client).end().catch(() => {})
  }
  await settlesWithin(ended, graceMs)
}

/** true when `p` settled (either way) within `ms` */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

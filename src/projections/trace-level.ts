import { marks } from '../store/sql-executor.ts'
import type { Store } from '../store/types.ts'
import type { Direction, Link } from './trace-page.ts'

/**
 * Reads of one level of a trace walk that stay on indexes (standard SQL through `store.sql`, the
 * 0005/0016/0023 tables and indexes). Profiled on the generated 1,000,000-lot genealogy of
 * bench/genealogy.ts (machine loaded, 2 cores shared): a bulk lot's 9,699 consumers read whole
 * with their plants through the lots primary key took 41–55 ms on SQLite; the ~4,300 of them in id
 * order that one plant's first page needs, index-only (EXPLAIN ANALYZE on PostgreSQL: Index Only
 * Scan on genealogy_from_to and lots_lot_plant, no heap fetches), 17–22 ms on SQLite and
 * 13.7 ms on PostgreSQL.
 */

// SQLite caps bound parameters per statement; IN lists are read in parts of this size.
const CHUNK = 500

/**
 * `n` rows of a VALUES list, to join keys to a table (SQLite and PostgreSQL both name its columns
 * column1, column2, …): each key an index probe whatever plan a prepared statement gets (see
 * edgeRows in trace-page.ts for what the other forms cost under PostgreSQL's generic plans).
 */
export const valueRows = (n: number, row: string) => Array.from({ length: n }, () => `(${row})`).join(', ')

/** Plant of each lot that has a row, read from 0023's `lots_lot_plant (lot, plant)` alone. */
export async function plantsOf(store: Store, lots: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (let i = 0; i < lots.length; i += CHUNK) {
    const part = lots.slice(i, i + CHUNK)
    for (const r of await store.sql.all(
      `SELECT lot, plant FROM lots WHERE lot IN (${marks(part.length)})`,
      part,
    ))
      out.set(String(r.lot), String(r.plant))
  }
  return out
}

/** A link of the level with the plant of the lot it reaches (null: no row for that lot). */
export interface FarLink {
  readonly link: Link
  readonly far: string
  readonly plant: string | null
}

/**
 * The next `limit` links leaving one lot in the walk direction, in order of the lot they reach
 * (then event_seq), after `after`: a keyset page on the edge index (forward: 0016's
 * `genealogy_from_to (from_lot, to_lot, event_seq)`), each reached lot's plant from 0023's
 * `lots_lot_plant (lot, plant)`: both read from the indexes alone.
 * A bulk lot's first page reads only as many of its thousands of links as the page needs.
 */
export async function linksInOrder(
  store: Store,
  near: string,
  d: Direction,
  after: { readonly far: string; readonly seq: number } | null,
  limit: number,
): Promise<FarLink[]> {
  const [nearCol, farCol] = d === 'forward' ? ['from_lot', 'to_lot'] : ['to_lot', 'from_lot']
  const rows = await store.sql.all(
    `SELECT e.event_seq, e.from_lot, e.to_lot, l.plant
       FROM genealogy_edges e LEFT JOIN lots l ON l.lot = e.${farCol}
      WHERE e.${nearCol} = ?${after ? ` AND (e.${farCol}, e.event_seq) > (?, CAST(? AS BIGINT))` : ''}
      ORDER BY e.${farCol}, e.event_seq LIMIT ?`,
    [near, ...(after ? [after.far, after.seq] : []), limit],
  )
  return rows.map((r) => {
    const link = { seq: Number(r.event_seq), from: String(r.from_lot), to: String(r.to_lot) }
    return {
      link,
      far: d === 'forward' ? link.to : link.from,
      plant: r.plant === null ? null : String(r.plant),
    }
  })
}

/**
 * The links leaving `near` that reach one of `fars` (forward: `genealogy_from_to` answers alone),
 * or, with `fars` undefined, every link after `after`: what a page cut inside a level must still
 * know of its source's links back to earlier levels (loops), which belong on that page.
 */
export async function linksFrom(
  store: Store,
  near: string,
  d: Direction,
  only:
    | { readonly fars: readonly string[] }
    | { readonly after: { readonly far: string; readonly seq: number } },
): Promise<Link[]> {
  const [nearCol, farCol] = d === 'forward' ? ['from_lot', 'to_lot'] : ['to_lot', 'from_lot']
  const out: Link[] = []
  const read = async (sql: string, params: unknown[]) => {
    for (const r of await store.sql.all(sql, params))
      out.push({ seq: Number(r.event_seq), from: String(r.from_lot), to: String(r.to_lot) })
  }
  const columns = 'e.event_seq, e.from_lot, e.to_lot'
  if ('fars' in only) {
    // both ends joined from VALUES, not `IN (…)`: see valueRows
    const per = Math.floor(CHUNK / 2)
    for (let i = 0; i < only.fars.length; i += per) {
      const part = only.fars.slice(i, i + per)
      await read(
        `SELECT ${columns} FROM (VALUES ${valueRows(part.length, '?, ?')}) AS v
           JOIN genealogy_edges e ON e.${nearCol} = v.column1 AND e.${farCol} = v.column2`,
        part.flatMap((far) => [near, far]),
      )
    }
  } else
    await read(
      `SELECT ${columns} FROM genealogy_edges e
        WHERE e.${nearCol} = ? AND (e.${farCol}, e.event_seq) > (?, CAST(? AS BIGINT))`,
      [near, only.after.far, only.after.seq],
    )
  return out
}

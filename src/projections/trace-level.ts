import { EDGE_COLUMNS, toEdge } from '../store/genealogy-sql.ts'
import type { GenealogyEdge } from '../store/genealogy-types.ts'
import type { Store } from '../store/types.ts'
import type { Direction, Link } from './trace-page.ts'

/**
 * Reads of one level of a trace walk that stay on indexes (standard SQL through `store.sql`, the
 * 0005/0016/0022/0023 tables and indexes). Profiled on the generated 1,000,000-lot genealogy of
 * bench/genealogy.ts (machine loaded, 2 cores shared): a bulk lot's 9,699 consumers read whole
 * with their plants through the lots primary key took 41–55 ms on SQLite; the ~4,300 of them in id
 * order that one plant's first page needs, index-only (EXPLAIN ANALYZE on PostgreSQL: Index Only
 * Scan on genealogy_from_to and lots_lot_plant, no heap fetches), 17–22 ms on SQLite and
 * 13.7 ms on PostgreSQL. Since 0022 the plants come with the links, from the edge index: 4,000 of a
 * bulk lot's links in id order with their plants, EXPLAIN ANALYZE on PostgreSQL 99–243 ms (a nested
 * loop of lots_lot_plant probes, 14,000–16,000 buffers; machine load 20+) → 1.4–1.5 ms (Index Only
 * Scan on genealogy_from_to, 2,400 buffers, the lots lookup never executed); SQLite, fastest of 41
 * runs, 14–19 ms → 6–9 ms.
 *
 * Lists of lots or keys are one JSON parameter (`store.sql.jsonRows`), not `IN (?, ?, …)`: one
 * statement text for any length, prepared once and planned alike whatever the list. On a bulk
 * lot's first page that reaches a second level, the 7 statements of 500 lots that read its level
 * and the 7 of 166 keys that read its edges became one each; on PostgreSQL each had been a round
 * trip and, at a new list length, a new statement to parse and plan.
 */

/** Lot ids in code-unit order: the listing order must not depend on the server's locale. */
export const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * A link's ends in the walk direction: forward goes from → to, backward to → from. Two functions,
 * not a pair: the walk asks for them for every link it reads, and a pair is an allocation each.
 */
export const nearOf = (l: Link, d: Direction) => (d === 'forward' ? l.from : l.to)
export const farOf = (l: Link, d: Direction) => (d === 'forward' ? l.to : l.from)

/**
 * Order of a level's in-order read (the lot reached, then the lot it is reached from, then
 * event_seq) of two links as read, without building their keys (checked for every link read).
 */
export const readOrder = (a: FarLink, b: FarLink, d: Direction) =>
  byId(a.far, b.far) || byId(nearOf(a.link, d), nearOf(b.link, d)) || a.link.seq - b.link.seq

const cols = (d: Direction): [string, string] =>
  d === 'forward' ? ['from_lot', 'to_lot'] : ['to_lot', 'from_lot']

const toLink = (r: Record<string, unknown>): Link => ({
  seq: Number(r.event_seq),
  from: String(r.from_lot),
  to: String(r.to_lot),
})

/** The links whose `near` end (in the walk direction `d`) is one of `lots`: the level read whole. */
export async function links(store: Store, lots: readonly string[], d: Direction): Promise<Link[]> {
  const [nearCol] = cols(d)
  const rows = await store.sql.all(
    `SELECT event_seq, from_lot, to_lot FROM genealogy_edges WHERE ${nearCol} IN (${store.sql.jsonRows(['text'])})`,
    [JSON.stringify(lots)],
  )
  return rows.map(toLink)
}

/** Plant of each lot that has a row, read from 0023's `lots_lot_plant (lot, plant)` alone. */
export async function plantsOf(store: Store, lots: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const r of await store.sql.all(
    `SELECT lot, plant FROM lots WHERE lot IN (${store.sql.jsonRows(['text'])})`,
    [JSON.stringify(lots)],
  ))
    out.set(String(r.lot), String(r.plant))
  return out
}

/** A link of the level with the plant of the lot it reaches (null: no row for that lot). */
export interface FarLink {
  readonly link: Link
  readonly far: string
  readonly plant: string | null
}

/** Where a keyset page of a level's links resumes: after this (far lot, near lot, event_seq). */
export interface After {
  readonly far: string
  readonly near: string
  readonly seq: number
}

const farLinks = (rows: Record<string, unknown>[], d: Direction): FarLink[] =>
  rows.map((r) => {
    const link = toLink(r)
    return {
      link,
      far: farOf(link, d),
      plant: r.plant === null ? null : String(r.plant),
    }
  })

/**
 * The plant of the lot at the far end of a link: the copy on the edge (0022), else (an edge written
 * before that lot's row) the lot's row. COALESCE evaluates its second argument only when the first
 * is NULL, on both dialects (PostgreSQL documents it: "COALESCE only evaluates the arguments that
 * are needed to determine the result"), so the lookup costs nothing while the copy is there.
 */
const farPlant = (e: string, d: Direction) => {
  const [, farCol] = cols(d)
  const plantCol = d === 'forward' ? 'to_plant' : 'from_plant'
  return `COALESCE(${e}.${plantCol}, (SELECT p.plant FROM lots p WHERE p.lot = ${e}.${farCol}))`
}

/**
 * The next `limit` links leaving `nears` in the walk direction, in order of the lot they reach
 * (then the lot they leave, then event_seq), after `after`, each with its reached lot's plant as
 * copied on the edge (0022). Forward, everything comes from the edge index alone (0022's
 * `genealogy_from_to (from_lot, to_lot, event_seq, to_plant)`): one lot (a bulk lot's consumers),
 * a keyset page of it; several (the next level of a bulk lot), every near lot's links probed and
 * only the first `limit` in order returned. Before 0022 each link's plant was a `lots` probe, the
 * largest part of a bulk lot's first page (bench/README.md, "Issue 7"). On a store that reads on
 * several connections at once (PostgreSQL) a wide level's probes are split in parts read side by
 * side: the second level of L0000002 in the 1,000,000-lot benchmark graph (3,310 near lots) took
 * 21–23 ms in one statement, 12–15 ms in two (2 cores; bench/README.md, "Issue 7").
 */
export async function linksInOrder(
  store: Store,
  nears: readonly string[],
  d: Direction,
  after: After | null,
  limit: number,
): Promise<FarLink[]> {
  const [nearCol, farCol] = cols(d)
  if (nears.length === 1) {
    const rows = await store.sql.all(
      `SELECT e.event_seq, e.from_lot, e.to_lot, ${farPlant('e', d)} AS plant
         FROM genealogy_edges e
        WHERE e.${nearCol} = ?${after ? ` AND (e.${farCol}, e.event_seq) > (?, CAST(? AS BIGINT))` : ''}
        ORDER BY e.${farCol}, e.event_seq LIMIT ?`,
      [nears[0], ...(after ? [after.far, after.seq] : []), limit],
    )
    return farLinks(rows, d)
  }
  const sql = `SELECT e.event_seq, e.from_lot, e.to_lot, ${farPlant('e', d)} AS plant FROM genealogy_edges e
      WHERE e.${nearCol} IN (${store.sql.jsonRows(['text'])})${
        after ? ` AND (e.${farCol}, e.${nearCol}, e.event_seq) > (?, ?, CAST(? AS BIGINT))` : ''
      }
      ORDER BY e.${farCol}, e.${nearCol}, e.event_seq LIMIT ?`
  const read = (part: readonly string[]) =>
    store.sql.all(sql, [JSON.stringify(part), ...(after ? [after.far, after.near, after.seq] : []), limit])
  // Every near lot is an index probe: where the store reads on several connections at once, the
  // near lots are read in parts side by side, each part's first `limit` links, merged here.
  const parts = Math.min(store.sql.parallelReads ?? 1, Math.floor(nears.length / SPLIT_FROM))
  if (parts < 2) return farLinks(await read(nears), d)
  const size = Math.ceil(nears.length / parts)
  const each = await Promise.all(
    Array.from({ length: parts }, (_, i) =>
      read(nears.slice(i * size, (i + 1) * size)).then((r) => farLinks(r, d)),
    ),
  )
  return mergeOrdered(each, d, limit)
}

/** Near lots per part below which a level read is not split (a part's round trip is not free). */
const SPLIT_FROM = 500

/**
 * The first `limit` links of `lists`, each in the database's order, in (far, near, event_seq)
 * order. Each list's own order is kept (a merge), so a list the database ordered otherwise than
 * code-unit order still shows as out of order to the caller, which then reads the level whole.
 */
function mergeOrdered(lists: FarLink[][], d: Direction, limit: number): FarLink[] {
  const at = lists.map(() => 0)
  const out: FarLink[] = []
  while (out.length < limit) {
    let pick = -1
    for (let i = 0; i < lists.length; i++) {
      const r = lists[i]![at[i]!]
      if (r && (pick < 0 || readOrder(r, lists[pick]![at[pick]!]!, d) < 0)) pick = i
    }
    if (pick < 0) break
    const k = at[pick]!
    at[pick] = k + 1
    out.push(lists[pick]![k]!)
  }
  return out
}

/**
 * The links from one of `nears` to `far`: the lot's inputs (few) through the index on the far end,
 * filtered here (with the list in the query, SQLite probed every near lot instead: 7–8 ms for a
 * level of 3,310 lots against well under 1 ms).
 */
export async function linksInto(
  store: Store,
  nears: readonly string[],
  far: string,
  d: Direction,
): Promise<Link[]> {
  const [nearCol, farCol] = cols(d)
  const rows = await store.sql.all(
    `SELECT event_seq, from_lot, to_lot FROM genealogy_edges WHERE ${farCol} = ?`,
    [far],
  )
  const near = new Set(nears)
  return rows.filter((r) => near.has(String(r[nearCol]))).map(toLink)
}

/**
 * The links from one of `nears` to one of `fars`: what a page cut inside a level must still know
 * of its listed lots' links back to lots already listed (loops), which belong on that page. Both
 * lists are at most a page long; each far lot is an index probe and its few links (a lot's inputs)
 * are kept when they leave one of `nears`.
 */
export async function linksBack(
  store: Store,
  nears: readonly string[],
  fars: readonly string[],
  d: Direction,
): Promise<Link[]> {
  const [nearCol, farCol] = cols(d)
  if (nears.length === 0 || fars.length === 0) return []
  const list = store.sql.jsonRows(['text'])
  const rows = await store.sql.all(
    `SELECT event_seq, from_lot, to_lot FROM genealogy_edges
      WHERE ${farCol} IN (${list}) AND ${nearCol} IN (${list})`,
    [JSON.stringify(fars), JSON.stringify(nears)],
  )
  return rows.map(toLink)
}

const key = (seq: number, from: string, to: string) => `${seq}\u0000${from}\u0000${to}`

/**
 * The full rows of `wanted` links (by primary key), in the order given. The keys are joined to the
 * table, each an index probe: PostgreSQL plans a prepared statement generically after five runs,
 * and the generic plans of the forms used before read every edge of a bulk lot (EXPLAIN ANALYZE
 * on the 1,000,000-lot genealogy, 499 of its 9,699 edges: `from_lot = $1 AND to_lot IN ($2, …)`
 * 181 ms, the index condition on from_lot alone and the 499 values tested per edge; `from_lot =
 * $1` joined to VALUES of targets 9–23 ms, a hash of all 9,699; the three key columns joined from
 * VALUES, 166 keys, 0.9 ms, a nested loop of probes). The keys come as one JSON parameter
 * (`jsonRows`), which keeps that nested loop and needs one statement for any number of keys.
 */
export async function edgeRows(store: Store, wanted: readonly Link[]): Promise<GenealogyEdge[]> {
  if (wanted.length === 0) return []
  const found = new Map<string, GenealogyEdge>()
  for (const r of await store.sql.all(
    `SELECT ${EDGE_COLUMNS.replace(/(\w+)/g, 'e.$1')} FROM (${store.sql.jsonRows(['bigint', 'text', 'text'])}) AS v
       JOIN genealogy_edges e ON e.event_seq = v.column1 AND e.from_lot = v.column2 AND e.to_lot = v.column3`,
    [JSON.stringify(wanted.map((l) => [l.seq, l.from, l.to]))],
  )) {
    const e = toEdge(r)
    found.set(key(e.eventSeq, e.fromLot, e.toLot), e)
  }
  return wanted.flatMap((l) => found.get(key(l.seq, l.from, l.to)) ?? [])
}

import type { GenealogyEdge } from '../store/genealogy-types.ts'
import { marks } from '../store/sql-executor.ts'
import { type Scope, type Store, scopeIncludes } from '../store/types.ts'
import { type FarLink, linksFrom, linksInOrder, plantsOf, valueRows } from './trace-level.ts'

/**
 * The paged walk behind `trace()`. It reads only what a page needs: edge ends and lot plants while
 * walking (narrow queries on the 0005_genealogy.sql tables, standard SQL through `store.sql`), the
 * full lot and edge rows for the page alone. On the 100,000-lot generated graph of
 * bench/genealogy.ts, reading a bulk lot's 1,376 consumer edges as full rows (`edgesFrom`) took
 * 3.8–4.6 ms on SQLite, the narrow read 1.5–1.8 ms.
 */

export type Direction = 'forward' | 'backward'

/** An edge as stored: from_lot → to_lot, keyed with its operation's event_seq. */
export interface Link {
  readonly seq: number
  readonly from: string
  readonly to: string
}

// SQLite caps bound parameters per statement; the store chunks its IN lists by the same size.
const CHUNK = 500

/** Lot ids in code-unit order: the listing order must not depend on the server's locale. */
export const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** A link's ends in the walk direction: forward goes from → to, backward to → from. */
export const ends = (l: Link, d: Direction): [string, string] =>
  d === 'forward' ? [l.from, l.to] : [l.to, l.from]

/** The links whose `near` end (in the walk direction `d`) is one of `lots`. */
export async function links(store: Store, lots: readonly string[], d: Direction): Promise<Link[]> {
  const column = d === 'forward' ? 'from_lot' : 'to_lot'
  const out: Link[] = []
  for (let i = 0; i < lots.length; i += CHUNK) {
    const part = lots.slice(i, i + CHUNK)
    const rows = await store.sql.all(
      `SELECT event_seq, from_lot, to_lot FROM genealogy_edges WHERE ${column} IN (${marks(part.length)})`,
      part,
    )
    for (const r of rows)
      out.push({ seq: Number(r.event_seq), from: String(r.from_lot), to: String(r.to_lot) })
  }
  return out
}

const key = (seq: number, from: string, to: string) => `${seq}\u0000${from}\u0000${to}`
const j = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)

function toEdge(r: Record<string, unknown>): GenealogyEdge {
  return {
    eventSeq: Number(r.event_seq),
    plant: String(r.plant),
    fromLot: String(r.from_lot),
    toLot: String(r.to_lot),
    kind: String(r.kind) as GenealogyEdge['kind'],
    operation: r.operation === null ? null : String(r.operation),
    productionOrder: r.production_order === null ? null : String(r.production_order),
    quantity: r.quantity === null ? null : (j(r.quantity) as GenealogyEdge['quantity']),
    at: String(r.at),
  }
}

/**
 * The full rows of `wanted` links (by primary key), in the order given. The keys are joined to the
 * table from a VALUES list, each an index probe: PostgreSQL plans a prepared statement
 * generically after five runs, and the generic plans of the forms used before read every edge of
 * a bulk lot (EXPLAIN ANALYZE on the 1,000,000-lot genealogy, 499 of its 9,699 edges:
 * `from_lot = $1 AND to_lot IN ($2, …)` 181 ms, the index condition on from_lot alone and the
 * 499 values tested per edge; `from_lot = $1` joined to VALUES of targets 9–23 ms, a hash of all
 * 9,699; the three key columns joined from VALUES, 166 keys, 0.9 ms, a nested loop of probes).
 */
export async function edgeRows(store: Store, wanted: readonly Link[]): Promise<GenealogyEdge[]> {
  const found = new Map<string, GenealogyEdge>()
  const keep = (rows: Record<string, unknown>[]) => {
    for (const r of rows) {
      const e = toEdge(r)
      found.set(key(e.eventSeq, e.fromLot, e.toLot), e)
    }
  }
  const per = Math.floor(CHUNK / 3)
  for (let i = 0; i < wanted.length; i += per) {
    const part = wanted.slice(i, i + per)
    keep(
      await store.sql.all(
        `SELECT e.* FROM (VALUES ${valueRows(part.length, 'CAST(? AS BIGINT), ?, ?')}) AS v
           JOIN genealogy_edges e ON e.event_seq = v.column1 AND e.from_lot = v.column2 AND e.to_lot = v.column3`,
        part.flatMap((l) => [l.seq, l.from, l.to]),
      ),
    )
  }
  return wanted.flatMap((l) => found.get(key(l.seq, l.from, l.to)) ?? [])
}

/** The walk so far: lots in the caller's plants in listing order, and what was counted on the way. */
export interface Walked {
  readonly depthOf: Map<string, number>
  readonly listed: Array<{ readonly lot: string; readonly depth: number }>
  /** lots reached in other plants, with their plant */
  readonly hidden: Map<string, string>
  /** walk-direction links by their source and by their target, for every level expanded */
  readonly out: Map<string, Link[]>
  readonly into: Map<string, Link[]>
  /** deepest level reached; the levels above it were expanded */
  level: number
  /** every lot within the depth was reached and classified: the counts are exact */
  complete: boolean
  truncated: boolean
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
  const list = m.get(k)
  if (list) list.push(v)
  else m.set(k, [v])
}

/**
 * Walks level by level only until `want` lots in scope are listed. Listing order is (depth, lot
 * id), and a level's membership needs every shallower level (the visited set), so the cost is
 * the levels up to the page's end, not the whole graph. A level fed by one lot (a bulk lot's
 * consumers) is read in keyset pages in id order with each lot's plant, index-only, and only as
 * far as the page reaches (`levelInOrder`); a wider level is read whole (narrow rows) and its
 * lots' plants in id order as far as the page reaches. Either way the counts of a page cut inside
 * the walk are what it classified so far (`complete: false`, a lower bound).
 */
export async function walkUntil(
  store: Store,
  scope: Scope,
  root: string,
  o: { readonly direction: Direction; readonly depth: number; readonly maxNodes: number },
  want: number,
): Promise<Walked> {
  const w: Walked = {
    depthOf: new Map([[root, 0]]),
    listed: [{ lot: root, depth: 0 }],
    hidden: new Map(),
    out: new Map(),
    into: new Map(),
    level: 0,
    complete: true,
    truncated: false,
  }
  let frontier = [root]
  const share = { seen: 0, kept: 0 }
  while (w.listed.length < want && w.level < o.depth && frontier.length > 0) {
    // One lot feeding the level (a bulk lot's consumers): read in id order, only as far as the page.
    const ordered =
      frontier.length === 1 ? await levelInOrder(store, scope, w, frontier[0]!, o, want, share) : null
    if (ordered === 'page-full') {
      w.complete = false
      return w
    }
    if (ordered) {
      frontier = ordered
      continue
    }
    const next: string[] = []
    for (const l of await links(store, frontier, o.direction)) {
      const [from, to] = ends(l, o.direction)
      push(w.out, from, l)
      push(w.into, to, l)
      if (w.depthOf.has(to) || w.truncated) continue
      if (w.depthOf.size >= o.maxNodes) {
        w.truncated = true
        continue
      }
      w.depthOf.set(to, w.level + 1)
      next.push(to)
    }
    w.level++
    next.sort(byId)
    let i = 0
    while (i < next.length && w.listed.length < want) {
      // Chunks sized by the share in scope so far: a plant-scoped page of a bulk lot (a quarter of
      // its consumers in the plant) takes a couple of round trips, not one per hundred lots.
      const chunk = next.slice(i, i + chunkSize(share, want - w.listed.length))
      const plantOf = await plantsOf(store, chunk)
      for (const id of chunk) classify(scope, w, share, id, plantOf.get(id) ?? null)
      i += chunk.length
    }
    frontier = next
    if (i < next.length) {
      w.complete = false
      return w
    }
  }
  // Stopped with levels left to walk within the depth: what lies beyond is not counted yet.
  if ((frontier.length > 0 && w.level < o.depth) || w.truncated) w.complete = false
  return w
}

/**
 * The links of a page (see TraceResult.edges), from what the walk read: a link into the next level
 * with the lot it reaches (that level's links were read to find the lot); a link within a level or
 * back to an earlier one (a loop) with the last listed lot of its source's level, whose page is
 * the first to have read that level's links. Only links whose source lies above the depth limit
 * count, as in the full walk. A page whose last level was not expanded reads nothing more.
 */
export function pageLinks(
  w: Walked,
  start: number,
  end: number,
  o: { readonly direction: Direction; readonly depth: number },
): Link[] {
  const listed = w.listed.slice(0, end)
  const pos = new Map(listed.map((n, i) => [n.lot, i]))
  // Last listed position of each level whose links were read (the levels above the deepest).
  const last = new Map<number, number>()
  listed.forEach((n, i) => {
    if (n.depth < w.level) last.set(n.depth, i)
  })
  const out: Link[] = []
  for (let p = start; p < listed.length; p++) {
    const n = listed[p]!
    const mine: Link[] = []
    for (const l of w.into.get(n.lot) ?? []) {
      const from = ends(l, o.direction)[0]
      if (w.depthOf.get(from) === n.depth - 1 && pos.has(from)) mine.push(l)
    }
    if (last.get(n.depth) === p && n.depth < o.depth) {
      for (let q = p; q >= 0 && listed[q]!.depth === n.depth; q--)
        for (const l of w.out.get(listed[q]!.lot) ?? []) {
          const to = ends(l, o.direction)[1]
          if (pos.has(to) && w.depthOf.get(to)! <= n.depth) mine.push(l)
        }
    }
    out.push(...mine.sort((a, b) => byId(a.from, b.from) || byId(a.to, b.to) || a.seq - b.seq))
  }
  return out
}

/** Lots classified so far and how many were in scope: sizes the next read. */
interface Share {
  seen: number
  kept: number
}

/** How many lots to read to list `missing` more in scope, from the share in scope so far. */
const chunkSize = (share: Share, missing: number) => {
  const ratio = share.seen === 0 ? 1 : Math.max(share.kept / share.seen, 0.05)
  return Math.min(Math.max(Math.ceil((1.1 * missing) / ratio), 100), 5000)
}

/** A newly reached lot of the current level: listed in scope, hidden outside, neither without a row. */
function classify(
  scope: Scope,
  w: Walked,
  share: Share,
  id: string,
  plant: string | null,
  depth = w.level,
): void {
  // An edge to a lot the projection has no row for: reached (total) but neither listed nor hidden.
  if (plant === null) return
  share.seen++
  if (scopeIncludes(scope, plant)) {
    w.listed.push({ lot: id, depth })
    share.kept++
  } else w.hidden.set(id, plant)
}

/**
 * The next level when one lot feeds it: its links read in keyset pages in the order of the lots
 * they reach (which is the listing order), each with its lot's plant, until the page is full or the
 * level is read. Returns the level's lots when it was read whole, 'page-full' when the page filled
 * first (the rest of the level is neither read nor counted: the counts are then a lower bound), or
 * null when the database orders lot ids otherwise than the listing (a collation that is not code-unit
 * order): the caller then reads the level whole and sorts it itself. Nothing is recorded in `w` for
 * a null answer.
 */
async function levelInOrder(
  store: Store,
  scope: Scope,
  w: Walked,
  near: string,
  o: { readonly direction: Direction; readonly depth: number; readonly maxNodes: number },
  want: number,
  share: Share,
): Promise<string[] | 'page-full' | null> {
  const read: FarLink[] = []
  let after: { far: string; seq: number } | null = null
  let listed = w.listed.length
  let kept = share.kept
  let seen = share.seen
  const fresh = new Set<string>()
  for (;;) {
    const size: number = chunkSize({ seen, kept }, want - listed)
    const rows: FarLink[] = await linksInOrder(store, near, o.direction, after, size)
    for (const r of rows) {
      const prev = read.at(-1)
      if (prev && (byId(prev.far, r.far) > 0 || (prev.far === r.far && prev.link.seq > r.link.seq)))
        return null
      read.push(r)
      if (w.depthOf.has(r.far) || fresh.has(r.far)) continue
      fresh.add(r.far)
      if (r.plant === null) continue
      seen++
      if (scopeIncludes(scope, r.plant)) {
        listed++
        kept++
      }
    }
    const last = rows.at(-1)
    if (rows.length < size || !last) break
    after = { far: last.far, seq: last.link.seq }
    if (listed >= want) {
      // The page is full. Its last lot's other links (more operations from the same lot) belong
      // on this page too: read them before stopping.
      for (;;) {
        const more = await linksInOrder(store, near, o.direction, after, 100)
        const same = more.filter((r) => r.far === last.far)
        read.push(...same)
        if (same.length < more.length || more.length < 100) break
        after = { far: last.far, seq: same.at(-1)!.link.seq }
      }
      // And its links back to lots of earlier levels (loops) whose ids lie past the page: by
      // those lots when they are few, else by reading the rest of its links (without plants).
      const endFar = read.at(-1)!.far
      const back = (
        w.depthOf.size < 500
          ? await linksFrom(store, near, o.direction, { fars: [...w.depthOf.keys()] })
          : await linksFrom(store, near, o.direction, { after: { far: endFar, seq: read.at(-1)!.link.seq } })
      ).filter((l) => {
        const far = ends(l, o.direction)[1]
        return far > endFar && w.depthOf.has(far)
      })
      apply(
        scope,
        w,
        o,
        [...read, ...back.map((link) => ({ link, far: ends(link, o.direction)[1], plant: null }))],
        share,
      )
      return 'page-full'
    }
  }
  return apply(scope, w, o, read, share)
}

/** Records an in-order level read by `levelInOrder` in the walk, as the whole-level read does. */
function apply(
  scope: Scope,
  w: Walked,
  o: { readonly direction: Direction; readonly maxNodes: number },
  read: readonly FarLink[],
  share: Share,
): string[] {
  const next: string[] = []
  for (const { link, far, plant } of read) {
    const [from, to] = ends(link, o.direction)
    push(w.out, from, link)
    push(w.into, to, link)
    if (w.depthOf.has(far) || w.truncated) continue
    if (w.depthOf.size >= o.maxNodes) {
      w.truncated = true
      continue
    }
    w.depthOf.set(far, w.level + 1)
    next.push(far)
    classify(scope, w, share, far, plant, w.level + 1)
  }
  w.level++
  return next
}

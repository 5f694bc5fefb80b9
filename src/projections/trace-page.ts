import { type Scope, type Store, scopeIncludes } from '../store/types.ts'
import {
  type After,
  byId,
  type FarLink,
  farOf,
  links,
  linksBack,
  linksInOrder,
  linksInto,
  nearOf,
  plantsOf,
  readOrder,
} from './trace-level.ts'

export { edgeRows } from './trace-level.ts'

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
 * the levels up to the page's end, not the whole graph. Each level is first read in id order with
 * each lot's plant, only as far as the page reaches (`levelInOrder`): a level fed by one lot (a
 * bulk lot's consumers) in keyset pages, index-only; a level fed by several (the next level of a
 * bulk lot) in one read of its first links in order. A level that read does not cover is read
 * whole (narrow rows) and its lots' plants in id order as far as the page reaches. Either way the
 * counts of a page cut inside the walk are what it classified so far (`complete: false`, a lower
 * bound). Measured on the 1,000,000-lot genealogy of bench/genealogy.ts (SQLite, process CPU time
 * per page, machine loaded): the first page of a bulk lot that reaches the second level
 * (L0000002, 3,310 consumers) went from 94–99 ms to 55–59 ms when that level was read in order.
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
    // The level read in id order, only as far as the page reaches (see levelInOrder).
    const ordered = await levelInOrder(store, scope, w, frontier, o, want, share)
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
      const to = farOf(l, o.direction)
      if (record(w, o, l, to)) next.push(to)
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
      const from = nearOf(l, o.direction)
      if (w.depthOf.get(from) === n.depth - 1 && pos.has(from)) mine.push(l)
    }
    if (last.get(n.depth) === p && n.depth < o.depth) {
      for (let q = p; q >= 0 && listed[q]!.depth === n.depth; q--)
        for (const l of w.out.get(listed[q]!.lot) ?? []) {
          const to = farOf(l, o.direction)
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

/** Order of a level's in-order read: the lot reached, then the lot it is reached from, then event_seq. */
const keyOrder = (a: After, b: After) => byId(a.far, b.far) || byId(a.near, b.near) || a.seq - b.seq
const keyOf = (l: Link, far: string, d: Direction): After => ({ far, near: nearOf(l, d), seq: l.seq })

/**
 * The next level read in the order of the lots it reaches (which is the listing order), each with
 * its lot's plant, until the page is full or the level is read. One lot feeding the level (a bulk
 * lot's consumers): keyset pages on the edge index. Several: one read of the first links in order
 * (`linksInOrder`), sized for the page; a level that does not fill the page within it is left to
 * the caller's whole read, which is cheaper than reading a wide level in several such rounds (each
 * probes every lot feeding it). Returns the level's lots when it was read whole, 'page-full' when
 * the page filled first (the rest of the level is neither read nor counted: the counts are then a
 * lower bound), or null when the caller must read the level whole: the level is wider than one
 * round, or the database orders lot ids otherwise than the listing (a collation that is not
 * code-unit order). Nothing is recorded in `w` for a null answer.
 */
async function levelInOrder(
  store: Store,
  scope: Scope,
  w: Walked,
  nears: readonly string[],
  o: { readonly direction: Direction; readonly depth: number; readonly maxNodes: number },
  want: number,
  share: Share,
): Promise<string[] | 'page-full' | null> {
  const d = o.direction
  const many = nears.length > 1
  const read: FarLink[] = []
  let after: After | null = null
  let listed = w.listed.length
  let kept = share.kept
  let seen = share.seen
  const fresh = new Set<string>()
  for (let round = 0; ; round++) {
    if (many && round > 0) return null
    const estimate = chunkSize({ seen, kept }, want - listed)
    // One round only when several lots feed the level: a margin over the estimate (lots reached
    // twice, a share in scope that drifts) rather than a second round.
    const size = many ? Math.min(Math.ceil(1.3 * estimate), 5000) : estimate
    const rows: FarLink[] = await linksInOrder(store, nears, d, after, size)
    for (const r of rows) {
      const prev = read.at(-1)
      if (prev && readOrder(prev, r, d) > 0) return null
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
    after = keyOf(last.link, last.far, d)
    if (listed >= want) {
      // The page is full. Its last lot's other links (more operations, or more lots it is reached
      // from) belong on this page too: read them before stopping.
      // And the links of its listed lots back to listed lots of this or earlier levels (loops)
      // whose ids lie past the page's end. The two reads side by side (on PostgreSQL, two
      // connections; one round trip of waiting instead of two).
      const end = after
      const inLevel = new Set(nears)
      const [into, back] = await Promise.all([
        linksInto(store, nears, last.far, d),
        linksBack(
          store,
          w.listed.filter((n) => inLevel.has(n.lot) && n.depth === w.level).map((n) => n.lot),
          w.listed.filter((n) => n.lot > last.far).map((n) => n.lot),
          d,
        ),
      ])
      const tail = into
        .map((link) => ({ link, far: last.far, plant: last.plant }))
        .filter((r) => keyOrder(keyOf(r.link, r.far, d), end) > 0)
        .sort((a, b) => readOrder(a, b, d))
      read.push(...tail)
      apply(
        scope,
        w,
        o,
        [...read, ...back.map((link) => ({ link, far: farOf(link, d), plant: null }))],
        share,
      )
      return 'page-full'
    }
  }
  return apply(scope, w, o, read, share)
}

/**
 * Records one link of the current level in the walk (both of its ends' link lists); true when it
 * reaches `far` first, now at the next level, and the walk still has room (else it is truncated).
 */
function record(
  w: Walked,
  o: { readonly direction: Direction; readonly maxNodes: number },
  link: Link,
  far: string,
): boolean {
  push(w.out, nearOf(link, o.direction), link)
  push(w.into, far, link)
  if (w.depthOf.has(far) || w.truncated) return false
  if (w.depthOf.size >= o.maxNodes) {
    w.truncated = true
    return false
  }
  w.depthOf.set(far, w.level + 1)
  return true
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
    if (!record(w, o, link, far)) continue
    next.push(far)
    classify(scope, w, share, far, plant, w.level + 1)
  }
  w.level++
  return next
}

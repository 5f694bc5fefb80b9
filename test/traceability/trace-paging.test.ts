import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adjacency,
  edgeRow,
  type Genealogy,
  generateGenealogy,
  lotId,
  lotRow,
  plantName,
  reach,
} from '../../bench/lib/genealogy-gen.ts'
import { type Direction, type TraceResult, trace } from '../../src/projections/trace.ts'
import { type FarLink, linksInOrder } from '../../src/projections/trace-level.ts'
import { LOG_START, type Scope, type Store } from '../../src/store/types.ts'
import { AVAILABLE, createTestDatabase, DIALECTS, type Dialect, type TestDatabase } from '../dialects.ts'

// The benchmark's generator at 5,000 lots: bulk lots feeding a hundred or more, splits, rework loops.
const g: Genealogy = generateGenealogy({
  lots: 5000,
  edges: 15_000,
  seed: 7,
  plants: 3,
  bulkLots: 10,
  window: 100,
})
const DEPTH = 10
const LIMIT = 97

async function load(store: Store): Promise<void> {
  let from = LOG_START
  const lots = Array.from({ length: g.spec.lots }, (_, i) => {
    const l = lotRow(g, i)
    return { ...l, firstSeenSeq: l.seq, lastEventSeq: l.seq }
  })
  const edges = Array.from({ length: g.spec.edges }, (_, j) => edgeRow(g, j))
  for (let k = 0; k < 4; k++) {
    const to = { txid: '0', seq: k + 1 }
    const part = <T>(xs: T[]) => xs.slice((k * xs.length) / 4, ((k + 1) * xs.length) / 4)
    expect(
      await store.genealogy.applyGenealogy('paging-test', from, to, {
        lots: part(lots),
        edges: part(edges),
        shipments: [],
      }),
    ).toBe(true)
    from = to
  }
}

/** The trace computed from the generator's arrays alone: listing, edges, counts. */
function expected(root: number, direction: Direction, scope: Scope) {
  const depthOf = reach(adjacency(g, direction), root, DEPTH)
  const visible = (i: number) => 'allPlants' in scope || scope.plants.includes(plantName(g.plant[i]!))
  const listing = [...depthOf]
    .filter(([i]) => visible(i))
    .map(([i, d]) => `${lotId(i)}@${d}`)
    .sort((a, b) => {
      const [la, da] = a.split('@') as [string, string]
      const [lb, db] = b.split('@') as [string, string]
      return Number(da) - Number(db) || (la < lb ? -1 : la > lb ? 1 : 0)
    })
  const edges: string[] = []
  for (let j = 0; j < g.spec.edges; j++) {
    const [src, dst] = direction === 'forward' ? [g.from[j]!, g.to[j]!] : [g.to[j]!, g.from[j]!]
    const d = depthOf.get(src)
    if (d !== undefined && d < DEPTH && visible(src) && visible(dst))
      edges.push(`${g.seq[j]}:${lotId(g.from[j]!)}>${lotId(g.to[j]!)}`)
  }
  const hidden = [...depthOf.keys()].filter((i) => !visible(i))
  return {
    listing,
    edges: edges.sort(),
    total: depthOf.size,
    outOfScope: {
      lots: hidden.length,
      plants: [...new Set(hidden.map((i) => plantName(g.plant[i]!)))].sort(),
    },
  }
}

async function allPages(store: Store, scope: Scope, root: number, direction: Direction) {
  const pages: TraceResult[] = []
  let cursor: number | undefined = 0
  while (cursor !== undefined) {
    const p = await trace(store, scope, lotId(root), { direction, depth: DEPTH, limit: LIMIT, cursor })
    pages.push(p!)
    cursor = p!.nextCursor === null ? undefined : Number(p!.nextCursor)
  }
  return pages
}

// Roots: the largest bulk lot (its forward trace spans most of the graph), a raw lot, a mid-tier
// lot and the last (finished) lot; scopes: one plant of three, and all plants.
const ROOTS = [0, 3, 2500, 4999]
const SCOPES: Scope[] = [{ plants: [plantName(0)] }, { allPlants: true, reason: 'test' }]

describe.each(DIALECTS)('trace paging on a generated 5,000-lot genealogy on %s', (dialect: Dialect) => {
  let db: TestDatabase
  let store: Store

  beforeAll(async () => {
    if (!AVAILABLE[dialect]) return
    db = await createTestDatabase(dialect, { migrated: true })
    store = await db.open()
    await load(store)
  }, 120_000)
  afterAll(async () => {
    await store?.close()
    await db?.cleanup()
  })

  it.for(['forward', 'backward'] as const)(
    'the pages of a %s trace together are the full traversal, each lot and edge once',
    async (direction, ctx) => {
      if (!AVAILABLE[dialect]) ctx.skip()
      let checked = 0
      for (const scope of SCOPES)
        for (const root of ROOTS) {
          if (!('allPlants' in scope) && !scope.plants.includes(plantName(g.plant[root]!))) {
            expect(
              await trace(store, scope, lotId(root), { direction, depth: DEPTH, limit: LIMIT }),
            ).toBeUndefined()
            continue
          }
          const want = expected(root, direction, scope)
          const pages = await allPages(store, scope, root, direction)
          expect(pages.flatMap((p) => p.nodes.map((n) => `${n.lot}@${n.depth}`))).toEqual(want.listing)
          expect(
            pages.flatMap((p) => p.edges.map((e) => `${e.eventSeq}:${e.fromLot}>${e.toLot}`)).sort(),
          ).toEqual(want.edges)
          expect(pages.slice(0, -1).every((p) => p.nodes.length === LIMIT)).toBe(true)
          for (const p of pages) {
            // A page's counts are what was walked for it: exact when flagged, never more than the truth.
            if (p.exactCounts)
              expect({ total: p.total, outOfScope: p.outOfScope }).toEqual({
                total: want.total,
                outOfScope: want.outOfScope,
              })
            else {
              expect(p.total).toBeLessThanOrEqual(want.total)
              expect(p.outOfScope.lots).toBeLessThanOrEqual(want.outOfScope.lots)
            }
          }
          const exact = await trace(store, scope, lotId(root), {
            direction,
            depth: DEPTH,
            limit: LIMIT,
            exactCounts: true,
          })
          expect({
            total: exact!.total,
            outOfScope: exact!.outOfScope,
            exactCounts: exact!.exactCounts,
          }).toEqual({
            total: want.total,
            outOfScope: want.outOfScope,
            exactCounts: true,
          })
          checked += pages.length
        }
      // the bulk lot's forward trace is many pages, so the cursor and the cut levels are exercised
      expect(checked).toBeGreaterThan(direction === 'forward' ? 20 : ROOTS.length)
    },
  )

  it("cuts a bulk lot's first page before the walk ends and says its counts are lower bounds", async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    const all = { allPlants: true, reason: 'test' } as const
    const want = expected(0, 'forward', all)
    const first = await trace(store, all, lotId(0), { direction: 'forward', depth: DEPTH, limit: LIMIT })
    expect(want.total).toBeGreaterThan(10 * LIMIT)
    expect(first!.exactCounts).toBe(false)
    expect(first!.total).toBeLessThan(want.total)
    expect(first!.nodes.map((n) => `${n.lot}@${n.depth}`)).toEqual(want.listing.slice(0, LIMIT))
  })

  it('pages a level fed by one lot in id order: repeated operations and a loop back land on their page', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    // ZROOT → HUB; HUB → C001…C250 (C005 twice, two operations); HUB → ZROOT (a loop back to a lot
    // whose id sorts after every page end); every seventh consumer in another plant. More links
    // than one read takes: the first page stops inside HUB's level.
    const lot = (id: string, plant: string) => ({
      lot: id,
      plant,
      material: 'M',
      supplier: null,
      stock: {},
      firstSeenSeq: 1,
      lastEventSeq: 1,
    })
    const edge = (seq: number, from: string, to: string) => ({
      eventSeq: 900_000 + seq,
      plant: 'PX1',
      fromLot: from,
      toLot: to,
      kind: 'consumed' as const,
      operation: null,
      productionOrder: null,
      quantity: null,
      at: '2026-01-01T00:00:00Z',
    })
    const consumers = Array.from({ length: 250 }, (_, i) => `C${String(i + 1).padStart(3, '0')}`)
    const hidden = new Set(consumers.filter((_, i) => i % 7 === 6))
    expect(
      await store.genealogy.applyGenealogy(
        'paging-test',
        { txid: '0', seq: 4 },
        { txid: '0', seq: 5 },
        {
          lots: [
            lot('ZROOT', 'PX1'),
            lot('HUB', 'PX1'),
            ...consumers.map((c) => lot(c, hidden.has(c) ? 'PX2' : 'PX1')),
          ],
          edges: [
            edge(1, 'ZROOT', 'HUB'),
            ...consumers.map((c, i) => edge(10 + i, 'HUB', c)),
            edge(500, 'HUB', 'C005'),
            edge(600, 'HUB', 'ZROOT'),
          ],
          shipments: [],
        },
      ),
    ).toBe(true)
    const scope = { plants: ['PX1'] }
    const o = { direction: 'forward' as const, depth: 5, limit: 5000 }
    const whole = (await trace(store, scope, 'ZROOT', o))!
    expect(whole.nodes.map((n) => n.lot)).toEqual([
      'ZROOT',
      'HUB',
      ...consumers.filter((c) => !hidden.has(c)),
    ])
    const pages: TraceResult[] = []
    for (let cursor: number | undefined = 0; cursor !== undefined; ) {
      const p: TraceResult = (await trace(store, scope, 'ZROOT', { ...o, limit: 4, cursor }))!
      pages.push(p)
      cursor = p.nextCursor === null ? undefined : Number(p.nextCursor)
    }
    const key = (e: { eventSeq: number; fromLot: string; toLot: string }) =>
      `${e.eventSeq}:${e.fromLot}>${e.toLot}`
    expect(pages.flatMap((p) => p.nodes.map((n) => n.lot))).toEqual(whole.nodes.map((n) => n.lot))
    expect(pages.flatMap((p) => p.edges.map(key)).sort()).toEqual(whole.edges.map(key).sort())
    expect(whole.edges.map(key)).toContain('900600:HUB>ZROOT')
    expect(whole.edges.map(key)).toContain('900500:HUB>C005')
    // the first page stops inside HUB's level: its counts are what it walked, never more than the truth
    expect(pages[0]!.exactCounts).toBe(false)
    for (const p of pages) {
      expect(p.outOfScope.lots).toBeLessThanOrEqual(hidden.size)
      if (p.exactCounts) expect(p.outOfScope).toEqual(whole.outOfScope)
    }
    expect(whole).toMatchObject({
      exactCounts: true,
      total: 252,
      outOfScope: { lots: hidden.size, plants: ['PX2'] },
    })
    expect(pages[0]!.outOfScope.lots).toBeLessThan(hidden.size)
  })
  it('pages a level fed by several lots in id order: shared, repeated and back links land on their page', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    // ZR → H1, H2 (a level of two lots); H1 → D001…D150 and H2 → D100…D250, so D100…D150 are
    // reached from both; H2 → D120 a second time (another operation); H1 → H2 (within the level)
    // and H2 → ZR (back to the root), both to lots whose ids sort after every D; every seventh D
    // in another plant. Small pages stop inside the D level, which several lots feed.
    const lot = (id: string, plant: string) => ({
      lot: id,
      plant,
      material: 'M',
      supplier: null,
      stock: {},
      firstSeenSeq: 1,
      lastEventSeq: 1,
    })
    const edge = (seq: number, from: string, to: string) => ({
      eventSeq: 800_000 + seq,
      plant: 'PX1',
      fromLot: from,
      toLot: to,
      kind: 'consumed' as const,
      operation: null,
      productionOrder: null,
      quantity: null,
      at: '2026-01-01T00:00:00Z',
    })
    const d = (i: number) => `D${String(i).padStart(3, '0')}`
    const ds = Array.from({ length: 250 }, (_, i) => d(i + 1))
    const hidden = new Set(ds.filter((_, i) => i % 7 === 3))
    const from = await store.genealogy.projectionCursor('paging-test')
    expect(
      await store.genealogy.applyGenealogy(
        'paging-test',
        from,
        { txid: '0', seq: from.seq + 1 },
        {
          lots: [
            lot('ZR', 'PX1'),
            lot('H1', 'PX1'),
            lot('H2', 'PX1'),
            ...ds.map((x) => lot(x, hidden.has(x) ? 'PX2' : 'PX1')),
          ],
          edges: [
            edge(1, 'ZR', 'H1'),
            edge(2, 'ZR', 'H2'),
            ...ds.slice(0, 150).map((x, i) => edge(10 + i, 'H1', x)),
            ...ds.slice(99).map((x, i) => edge(200 + i, 'H2', x)),
            edge(500, 'H2', d(120)),
            edge(600, 'H1', 'H2'),
            edge(700, 'H2', 'ZR'),
          ],
          shipments: [],
        },
      ),
    ).toBe(true)
    const scope = { plants: ['PX1'] }
    const o = { direction: 'forward' as const, depth: 5 }
    const whole = (await trace(store, scope, 'ZR', { ...o, limit: 5000 }))!
    const key = (e: { eventSeq: number; fromLot: string; toLot: string }) =>
      `${e.eventSeq}:${e.fromLot}>${e.toLot}`
    expect(whole.nodes.map((n) => n.lot)).toEqual(['ZR', 'H1', 'H2', ...ds.filter((x) => !hidden.has(x))])
    expect(whole).toMatchObject({ exactCounts: true, total: 253, outOfScope: { lots: hidden.size } })
    const all = whole.edges.map(key)
    expect(all).toEqual(expect.arrayContaining(['800600:H1>H2', '800700:H2>ZR', '800500:H2>D120']))
    // D120 is reached from both H1 and H2 (three links), and every in-scope D from H1, H2 or both
    expect(all.filter((k) => k.endsWith('>D120'))).toHaveLength(3)
    for (const limit of [4, 37, 120]) {
      const pages: TraceResult[] = []
      for (let cursor: number | undefined = 0; cursor !== undefined; ) {
        const p: TraceResult = (await trace(store, scope, 'ZR', { ...o, limit, cursor }))!
        pages.push(p)
        cursor = p.nextCursor === null ? undefined : Number(p.nextCursor)
      }
      expect(pages.flatMap((p) => p.nodes.map((n) => n.lot))).toEqual(whole.nodes.map((n) => n.lot))
      expect(pages.flatMap((p) => p.edges.map(key)).sort()).toEqual([...all].sort())
      // the loop and the link within the first level are on the first page, with H2
      expect(pages[0]!.edges.map(key)).toEqual(expect.arrayContaining(['800600:H1>H2', '800700:H2>ZR']))
      expect(pages[0]!.exactCounts).toBe(false)
      for (const p of pages) {
        expect(p.total).toBeLessThanOrEqual(whole.total)
        expect(p.outOfScope.lots).toBeLessThanOrEqual(hidden.size)
        if (p.exactCounts)
          expect({ total: p.total, outOfScope: p.outOfScope }).toEqual({
            total: whole.total,
            outOfScope: whole.outOfScope,
          })
      }
    }
  })

  it('reads a wide level in parts side by side where the store can, with the same links as one read', async (ctx) => {
    if (!AVAILABLE[dialect]) ctx.skip()
    // 2,400 near lots: above the split threshold for up to four parts. SQLite runs the parts one
    // after the other (its reads are synchronous); the merge is the same code on both dialects.
    const nears = Array.from({ length: 2400 }, (_, i) => lotId(1000 + i))
    const split = (parallelReads: number): Store =>
      ({ ...store, sql: { ...store.sql, parallelReads } }) as unknown as Store
    const keys = (ls: FarLink[]) => ls.map((l) => `${l.link.seq}:${l.link.from}>${l.link.to}@${l.plant}`)
    for (const d of ['forward', 'backward'] as const)
      for (const limit of [1, 97, 2000, 100_000]) {
        const whole = await linksInOrder(split(1), nears, d, null, limit)
        expect(whole.length).toBeGreaterThan(Math.min(limit, 2400) - 1)
        for (const parts of [2, 4])
          expect(keys(await linksInOrder(split(parts), nears, d, null, limit))).toEqual(keys(whole))
      }
  })
})

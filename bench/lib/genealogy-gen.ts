/**
 * A seeded, deterministic manufacturing genealogy for issue 7's benchmark (and, small, for the
 * paging test), and each lot's and edge's row as the projector writes it; genealogy-load.ts writes
 * it straight into the projection's tables on SQLite and PostgreSQL.
 *
 * The distribution (bench/README.md repeats it with the measured figures):
 * - Lots are created in time order; each is raw material (tier 0, 10 %), an intermediate (tier 1,
 *   35 %; tier 2, 30 %) or a finished good (tier 3, 25 %), in one of `plants` plants (uniform).
 *   The first `bulkLots` lots are raw bulk commodities (resin, steel coil) drawn on by every plant.
 * - Every produced lot has fan-in 1–5 (drawn 10/15/25/25/25 %, then nudged lot by lot until the
 *   edge total is exact), one operation (event_seq) per produced lot.
 * - An input of a tier-t lot comes from tier t−1 (85 %) or a lower tier (15 %), from the same plant
 *   (95 %) or another, uniformly among the last `window` lots of that tier and plant: production
 *   consumes what was made shortly before, so an ordinary lot's trace stays local.
 * - Fan-out is heavy-tailed: 5 % of tier-1 inputs are bulk lots picked by Zipf's law (rank r with
 *   weight 1/r), so the first bulk lot feeds thousands of lots and the 100th about a hundred.
 * - 3 % of produced lots are splits (kind 'split', fan-in 1, input of the same tier: a 309 to a new
 *   batch). 0.3 % of tier-2/3 lots are reworked into one of their inputs: an extra edge back, a loop.
 */

export interface GenealogySpec {
  readonly lots: number
  readonly edges: number
  readonly seed: number
  readonly plants: number
  readonly bulkLots: number
  /** how far back in time (per tier and plant) a produced lot finds its inputs */
  readonly window: number
}

export const FULL_SPEC: GenealogySpec = {
  lots: 1_000_000,
  edges: 3_000_000,
  seed: 20261127,
  plants: 4,
  bulkLots: 200,
  window: 2000,
}

export const KIND_CONSUMED = 0
export const KIND_SPLIT = 1

export interface Genealogy {
  readonly spec: GenealogySpec
  readonly tier: Uint8Array
  readonly plant: Uint8Array
  /** edge j: from[j] → to[j], kind[j], one operation per produced lot (seq[j]) */
  readonly from: Int32Array
  readonly to: Int32Array
  readonly kind: Uint8Array
  readonly seq: Int32Array
  readonly reworkEdges: number
}

const TIER_SHARE = [0.1, 0.35, 0.3, 0.25]
const FAN_IN_SHARE = [0.1, 0.15, 0.25, 0.25, 0.25]
const SPLIT_SHARE = 0.03
const REWORK_SHARE = 0.003
const BULK_SHARE = 0.05

/** sfc32: small, fast, and the same sequence on every machine for a seed. */
function rng(seed: number): () => number {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = () => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 15; i++) next()
  return next
}

const pick = (shares: readonly number[], u: number) => {
  let acc = 0
  for (let i = 0; i < shares.length; i++) {
    acc += shares[i]!
    if (u < acc) return i
  }
  return shares.length - 1
}

export function lotId(i: number): string {
  return `L${String(i).padStart(7, '0')}`
}

export const plantName = (p: number) => `P${(p + 1) * 100}`

export function generateGenealogy(spec: GenealogySpec): Genealogy {
  const r = rng(spec.seed)
  const n = spec.lots
  const tier = new Uint8Array(n)
  const plant = new Uint8Array(n)
  const fanIn = new Uint8Array(n)
  const split = new Uint8Array(n)
  const rework = new Uint8Array(n)
  let reworkEdges = 0
  for (let i = 0; i < n; i++) {
    plant[i] = Math.floor(r() * spec.plants)
    tier[i] = i < spec.bulkLots ? 0 : pick(TIER_SHARE, r())
    if (tier[i] === 0) continue
    if (r() < SPLIT_SHARE) split[i] = 1
    fanIn[i] = split[i] ? 1 : 1 + pick(FAN_IN_SHARE, r())
    if (tier[i]! >= 2 && !split[i] && r() < REWORK_SHARE) {
      rework[i] = 1
      reworkEdges++
    }
  }
  // Nudge fan-ins (never below 1 or above 5, splits untouched) until the edge count is exact.
  let sum = reworkEdges
  for (let i = 0; i < n; i++) sum += fanIn[i]!
  for (let guard = 0; sum !== spec.edges && guard < 50 * n; guard++) {
    const i = Math.floor(r() * n)
    if (tier[i] === 0 || split[i]) continue
    if (sum < spec.edges && fanIn[i]! < 5) {
      fanIn[i]!++
      sum++
    } else if (sum > spec.edges && fanIn[i]! > 1) {
      fanIn[i]!--
      sum--
    }
  }
  if (sum !== spec.edges) throw new Error(`cannot reach ${spec.edges} edges with ${n} lots and fan-in 1–5`)

  const from = new Int32Array(spec.edges)
  const to = new Int32Array(spec.edges)
  const kind = new Uint8Array(spec.edges)
  const seq = new Int32Array(spec.edges)
  // Recent lots per (tier, plant): a ring of the last `window` lot indices.
  const rings = Array.from({ length: 4 * spec.plants }, () => ({
    ids: new Int32Array(spec.window),
    size: 0,
    at: 0,
  }))
  const remember = (i: number) => {
    const ring = rings[tier[i]! * spec.plants + plant[i]!]!
    ring.ids[ring.at] = i
    ring.at = (ring.at + 1) % spec.window
    ring.size = Math.min(ring.size + 1, spec.window)
  }
  const recent = (t: number, p: number): number => {
    const ring = rings[t * spec.plants + p]!
    return ring.size === 0 ? -1 : ring.ids[Math.floor(r() * ring.size)]!
  }
  // Zipf over bulk ranks by inverting the cumulative 1/r weights.
  const zipf = new Float64Array(spec.bulkLots)
  for (let k = 0, acc = 0; k < spec.bulkLots; k++) zipf[k] = acc += 1 / (k + 1)
  const bulk = () => {
    const u = r() * zipf[spec.bulkLots - 1]!
    let lo = 0
    let hi = spec.bulkLots - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (zipf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  let e = 0
  for (let i = 0; i < n; i++) {
    const t = tier[i]!
    const inputs: number[] = []
    for (let k = 0; k < fanIn[i]!; k++) {
      for (let attempt = 0; attempt < 20; attempt++) {
        let src: number
        if (split[i]) src = recent(t, plant[i]!)
        else if (t === 1 && spec.bulkLots > 0 && r() < BULK_SHARE) src = bulk()
        else {
          const st = t === 1 || r() < 0.85 ? t - 1 : Math.floor(r() * (t - 1))
          const sp = r() < 0.95 ? plant[i]! : Math.floor(r() * spec.plants)
          src = recent(st, sp)
          if (src < 0) src = recent(st, plant[i]!)
        }
        // Early in time a tier may still be empty: fall back to any earlier lot of a lower tier.
        if (src < 0) src = Math.floor(r() * Math.min(i, Math.max(spec.bulkLots, 1)))
        if (src >= 0 && src !== i && !inputs.includes(src)) {
          inputs.push(src)
          break
        }
      }
    }
    // A lot too early to find distinct inputs still gets its fan-in: the lowest unused earlier lots.
    for (let s = 0; inputs.length < fanIn[i]! && s < i; s++) if (!inputs.includes(s)) inputs.push(s)
    if (inputs.length < fanIn[i]!) throw new Error(`lot ${i} has too few earlier lots for fan-in ${fanIn[i]}`)
    for (const src of inputs) {
      from[e] = src
      to[e] = i
      kind[e] = split[i] ? KIND_SPLIT : KIND_CONSUMED
      seq[e++] = i + 1
    }
    if (rework[i]) {
      from[e] = i
      to[e] = inputs[0]!
      kind[e] = KIND_CONSUMED
      seq[e++] = n + i + 1
    }
    remember(i)
  }
  return { spec, tier, plant, from, to, kind, seq, reworkEdges }
}

/** Adjacency in one direction (forward: from → to), compressed rows. */
export interface Adjacency {
  readonly offsets: Int32Array
  readonly targets: Int32Array
  readonly edge: Int32Array
}

export function adjacency(g: Genealogy, direction: 'forward' | 'backward'): Adjacency {
  const n = g.spec.lots
  const [src, dst] = direction === 'forward' ? [g.from, g.to] : [g.to, g.from]
  const offsets = new Int32Array(n + 1)
  for (let j = 0; j < src.length; j++) offsets[src[j]! + 1]!++
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!
  const fill = offsets.slice(0, n)
  const targets = new Int32Array(src.length)
  const edge = new Int32Array(src.length)
  for (let j = 0; j < src.length; j++) {
    const at = fill[src[j]!]!++
    targets[at] = dst[j]!
    edge[at] = j
  }
  return { offsets, targets, edge }
}

/** Breadth-first depths from `root` within `depth`, stopping once more than `cap` lots are reached. */
export function reach(adj: Adjacency, root: number, depth: number, cap = Number.POSITIVE_INFINITY) {
  const depthOf = new Map<number, number>([[root, 0]])
  let frontier = [root]
  for (let d = 1; d <= depth && frontier.length > 0 && depthOf.size <= cap; d++) {
    const next: number[] = []
    for (const f of frontier)
      for (let k = adj.offsets[f]!; k < adj.offsets[f + 1]!; k++) {
        const t = adj.targets[k]!
        if (!depthOf.has(t)) {
          depthOf.set(t, d)
          next.push(t)
        }
      }
    frontier = next
  }
  return depthOf
}

const BASE_MS = Date.parse('2026-01-01T00:00:00Z')

/** Column values of lot i as the projector writes them (stock is a small unrestricted quantity). */
export function lotRow(g: Genealogy, i: number) {
  const t = g.tier[i]!
  return {
    lot: lotId(i),
    plant: plantName(g.plant[i]!),
    material: `M${t}-${i % 97}`,
    supplier: t === 0 ? `V-${i % 31}` : null,
    stock: { unrestricted: { units: 1000 + (i % 9000), scale: 3, uom: 'KG' } },
    seq: i + 1,
  }
}

export function edgeRow(g: Genealogy, j: number) {
  const to = g.to[j]!
  return {
    eventSeq: g.seq[j]!,
    plant: plantName(g.plant[to]!),
    fromLot: lotId(g.from[j]!),
    toLot: lotId(to),
    kind: g.kind[j] === KIND_SPLIT ? ('split' as const) : ('consumed' as const),
    operation: '0010',
    productionOrder: `PO-${g.seq[j]}`,
    quantity: { units: 1000, scale: 3, uom: 'KG' },
    at: new Date(BASE_MS + g.seq[j]! * 1000).toISOString(),
  }
}

/**
 * Issue 7's benchmark: genealogy traces on a generated genealogy of 1,000,000 lots and 3,000,000
 * edges (bench/lib/genealogy-gen.ts documents the distribution), on SQLite and PostgreSQL.
 *
 * 1. Backward and forward trace at depth 10 through `trace()` (src/projections/trace.ts, the route's
 *    code path, scoped to the root lot's plant, page limit 1,000) for a seeded sample of lots whose
 *    traces reach at most 1,000 lots: p50/p95/p99, target p95 ≤ 50 ms.
 * 2. The first page (1,000 lots) of the forward trace of the largest bulk lots, same target.
 * Baseline for both, in the same run, on the same database: one plain recursive-CTE query of the
 * same traversal (WITH RECURSIVE, shallowest depth per lot, joined to lots, ordered, LIMIT 1,000).
 * 3. Reconciliation against the S/4 simulator: lots per second (bench/lib/reconciliation-bench.ts).
 *
 * Run: npx tsx bench/genealogy.ts [--dialect sqlite|postgres|both] [--quick] [--samples N]
 *      [--recon-lots N] [--bulk-indexes] [--pg-private [--pg-shared-buffers SIZE]
 *      [--pg-effective-cache-size SIZE]] (or npm run bench -- genealogy …); `--recon-lots 0` skips
 *      reconciliation (traces only, a few minutes instead of ~20). Not a test: no
 *      assertion, exit 0; PASS/FAIL is against issue 7's targets. Only a full run writes
 *      bench/README.md. `--bulk-indexes` measures only the bulk first pages, alternating the edge
 *      index sets (INDEX_SETS), and prints p50/p95 per set. `--pg-private` runs the whole PostgreSQL
 *      part (Qualink, the recursive-CTE baseline and reconciliation) on a throwaway cluster of its
 *      own (bench/lib/private-postgres.ts) with shared_buffers / effective_cache_size sized for the
 *      graph (defaults 4GB / 12GB), destroyed at the end; without it, the shared server
 *      (QUALINK_BENCH_PG_URL or 127.0.0.1:5432) as it is configured. Opt-in: needs root.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import pg from 'pg'
import { trace } from '../src/projections/trace.ts'
import { PostgresStore } from '../src/store/postgres/store.ts'
import { SqliteStore } from '../src/store/sqlite/store.ts'
import type { Store } from '../src/store/types.ts'
import { type Dialect, type Options, parseArgs } from './lib/genealogy-args.ts'
import {
  adjacency,
  FULL_SPEC,
  type Genealogy,
  type GenealogySpec,
  generateGenealogy,
  lotId,
  plantName,
  reach,
} from './lib/genealogy-gen.ts'
import { loadPostgres, loadSqlite } from './lib/genealogy-load.ts'
import { type DialectTraces, distribution, percentile, report, type Series } from './lib/genealogy-report.ts'
import {
  createTempDatabase,
  describeMachine,
  describePostgres,
  type TempDatabase,
  waitForQuiet,
} from './lib/machine.ts'
import { benchPostgres } from './lib/private-postgres.ts'
import { writeReadmeSection, writeResultsRow } from './lib/readme.ts'
import { type ReconciliationResult, reconciliationBench } from './lib/reconciliation-bench.ts'
import { median } from './lib/stats.ts'

const SHARED_URL = process.env.QUALINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const HERE = path.dirname(fileURLToPath(import.meta.url))
const DEPTH = 10
const LIMIT = 1000
const BULK_LOTS = 5
const BULK_REPS = 20
const BASELINE_BULK_REPS = 3
const QUICK_SPEC: GenealogySpec = { ...FULL_SPEC, lots: 100_000, edges: 300_000, bulkLots: 50 }

const log = (s: string) => process.stderr.write(`[genealogy] ${s}\n`)

/** A seeded sample per direction of lots whose depth-10 trace reaches at most 1,000 lots. */
function pickSamples(g: Genealogy, n: number) {
  let s = 12345
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s / 2 ** 32
  }
  const out = {
    backward: [] as Array<{ lot: number; size: number }>,
    forward: [] as Array<{ lot: number; size: number }>,
  }
  for (const direction of ['backward', 'forward'] as const) {
    const adj = adjacency(g, direction)
    while (out[direction].length < n) {
      const lot = Math.floor(next() * g.spec.lots)
      const size = reach(adj, lot, DEPTH, LIMIT).size
      if (size <= LIMIT) out[direction].push({ lot, size })
    }
  }
  const fwd = adjacency(g, 'forward')
  const fanOut = (i: number) => fwd.offsets[i + 1]! - fwd.offsets[i]!
  const bulk = Array.from({ length: g.spec.bulkLots }, (_, i) => i)
    .sort((a, b) => fanOut(b) - fanOut(a))
    .slice(0, BULK_LOTS)
    .map((lot) => ({ lot, size: reach(fwd, lot, DEPTH).size, fanOut: fanOut(lot) }))
  return { ...out, bulk }
}

const cte = (p: (i: number) => string, direction: 'forward' | 'backward') => {
  const [near, far] = direction === 'forward' ? ['from_lot', 'to_lot'] : ['to_lot', 'from_lot']
  return `WITH RECURSIVE walk(lot, depth) AS (
  SELECT CAST(${p(1)} AS TEXT), 0
  UNION
  SELECT e.${far}, w.depth + 1 FROM walk w JOIN genealogy_edges e ON e.${near} = w.lot WHERE w.depth < ${p(2)}
), shallowest AS (SELECT lot, MIN(depth) AS depth FROM walk GROUP BY lot)
SELECT l.*, s.depth FROM shallowest s JOIN lots l ON l.lot = s.lot ORDER BY s.depth, l.lot LIMIT ${p(3)}`
}

interface Opened {
  readonly store: Store
  baseline(root: string, direction: 'forward' | 'backward'): Promise<number>
  close(): Promise<void>
}

let adminUrl = SHARED_URL

async function open(dialect: Dialect, g: Genealogy): Promise<Opened & { loadSeconds: number }> {
  const t0 = performance.now()
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qlk-bench-genealogy-'))
    const file = path.join(dir, 'qualink.db')
    await loadSqlite(file, g)
    const loadSeconds = (performance.now() - t0) / 1000
    const store = SqliteStore.open({ file })
    const raw = new Database(file, { readonly: true })
    const stmts = {
      forward: raw.prepare(cte(() => '?', 'forward')),
      backward: raw.prepare(cte(() => '?', 'backward')),
    }
    return {
      store,
      loadSeconds,
      baseline: async (root, direction) => stmts[direction].all(root, DEPTH, LIMIT).length,
      close: async () => {
        raw.close()
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const db: TempDatabase = await createTempDatabase(adminUrl, 'genealogy')
  await loadPostgres(db.url, g)
  const loadSeconds = (performance.now() - t0) / 1000
  const store = await PostgresStore.open({ connectionString: db.url })
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  const text = { forward: cte((i) => `$${i}`, 'forward'), backward: cte((i) => `$${i}`, 'backward') }
  return {
    store,
    loadSeconds,
    baseline: async (root, direction) =>
      (
        await client.query({
          name: `trace-${direction}`,
          text: text[direction],
          values: [root, DEPTH, LIMIT],
        })
      ).rows.length,
    close: async () => {
      await client.end()
      await store.close()
      await db.drop()
    },
  }
}

const ms = async (f: () => Promise<unknown>) => {
  const t = performance.now()
  await f()
  return performance.now() - t
}

async function traces(
  dialect: Dialect,
  g: Genealogy,
  sample: ReturnType<typeof pickSamples>,
): Promise<DialectTraces> {
  const o = await open(dialect, g)
  log(`${dialect}: loaded ${g.spec.lots} lots and ${g.spec.edges} edges in ${o.loadSeconds.toFixed(1)} s`)
  const idle: number[] = []
  const scopeOf = (lot: number) => ({ plants: [plantName(g.plant[lot]!)] })
  const ours = (lot: number, direction: 'forward' | 'backward', cursor = 0, exactCounts = false) =>
    trace(o.store, scopeOf(lot), lotId(lot), { direction, depth: DEPTH, limit: LIMIT, cursor, exactCounts })
  const series = (): Series => ({ ours: [], baseline: [] })
  const out: DialectTraces = {
    dialect,
    loadSeconds: o.loadSeconds,
    backward: series(),
    forward: series(),
    both: [],
    bulkFirst: series(),
    bulkSecond: [],
    bulkFull: [],
    returned: { backward: [], forward: [] },
    idle,
  }
  try {
    // Warm-up: caches, prepared statements and the JIT, untimed.
    for (const s of sample.forward.slice(0, 30)) {
      await ours(s.lot, 'forward')
      await o.baseline(lotId(s.lot), 'forward')
    }
    for (const direction of ['backward', 'forward'] as const) {
      const list = sample[direction]
      for (let i = 0; i < list.length; i++) {
        if (i % 50 === 0) idle.push(await waitForQuiet())
        const { lot } = list[i]!
        let nodes = 0
        out[direction].ours.push(
          await ms(async () => {
            nodes = (await ours(lot, direction))!.nodes.length
          }),
        )
        out.returned[direction].push(nodes)
        out[direction].baseline.push(await ms(() => o.baseline(lotId(lot), direction)))
      }
    }
    // Backward plus forward of the same lot, for lots in both samples' first halves.
    for (let i = 0; i < Math.min(sample.backward.length, sample.forward.length); i++)
      out.both.push(out.backward.ours[i]! + out.forward.ours[i]!)
    for (const b of sample.bulk) {
      idle.push(await waitForQuiet())
      for (let r = 0; r < BULK_REPS; r++) {
        out.bulkFirst.ours.push(await ms(() => ours(b.lot, 'forward')))
        out.bulkSecond.push(await ms(() => ours(b.lot, 'forward', LIMIT)))
      }
      for (let r = 0; r < BASELINE_BULK_REPS; r++)
        out.bulkFirst.baseline.push(await ms(() => o.baseline(lotId(b.lot), 'forward')))
      out.bulkFull.push(await ms(() => ours(b.lot, 'forward', 0, true)))
      log(
        `${dialect}: bulk lot ${lotId(b.lot)} (fan-out ${b.fanOut}, ${b.size} lots within depth ${DEPTH}) measured`,
      )
    }
  } finally {
    await o.close()
  }
  return out
}

/**
 * The edge index sets compared by `--bulk-indexes`: 0005's single-column `genealogy_from`, or the
 * covering `genealogy_from_to (from_lot, to_lot, event_seq)` of 0016 that replaces it, as 0022
 * rebuilt it with `to_plant` (the walk's narrow read `SELECT event_seq, from_lot, to_lot, to_plant …
 * WHERE from_lot IN (…)` is then index-only).
 */
const INDEX_SETS = {
  single: [
    'DROP INDEX IF EXISTS genealogy_from_to',
    'CREATE INDEX IF NOT EXISTS genealogy_from ON genealogy_edges (from_lot)',
  ],
  pair: [
    'CREATE INDEX IF NOT EXISTS genealogy_from_to ON genealogy_edges (from_lot, to_lot, event_seq, to_plant)',
    'DROP INDEX IF EXISTS genealogy_from',
  ],
} as const

/** The bulk lots' first pages, alternating the edge index sets (ABAB, each then ANALYZEd). */
async function bulkIndexes(dialect: Dialect, g: Genealogy, sample: ReturnType<typeof pickSamples>) {
  const o = await open(dialect, g)
  log(`${dialect}: loaded ${g.spec.lots} lots and ${g.spec.edges} edges in ${o.loadSeconds.toFixed(1)} s`)
  const out: Record<keyof typeof INDEX_SETS, number[]> = { single: [], pair: [] }
  try {
    for (const set of ['single', 'pair', 'single', 'pair'] as const) {
      for (const sql of INDEX_SETS[set]) await o.store.sql.run(sql)
      // PostgreSQL answers from an index alone only for pages its visibility map marks all-visible:
      // VACUUM sets it (autovacuum would, on a live database); SQLite needs ANALYZE only.
      await o.store.sql.run(`${dialect === 'postgres' ? 'VACUUM ' : ''}ANALYZE genealogy_edges`)
      for (const b of sample.bulk) {
        const scope = { plants: [plantName(g.plant[b.lot]!)] }
        const page = () =>
          trace(o.store, scope, lotId(b.lot), { direction: 'forward', depth: DEPTH, limit: LIMIT })
        await page() // warm
        await waitForQuiet()
        for (let r = 0; r < BULK_REPS / 2; r++) out[set].push(await ms(page))
      }
      log(`${dialect}: ${set} edge index, bulk first pages measured`)
    }
  } finally {
    await o.close()
  }
  const pct = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1]!
  for (const set of ['single', 'pair'] as const)
    process.stdout.write(
      `${dialect}\t${set}\tn ${out[set].length}\tp50 ${pct(out[set], 50).toFixed(1)} ms\tp95 ${pct(out[set], 95).toFixed(1)} ms\n`,
    )
}

export async function main(argv: readonly string[]): Promise<void> {
  const opts = parseArgs(argv)
  const cluster =
    opts.pgPrivate && opts.dialects.includes('postgres') ? await benchPostgres(opts.pgPrivate) : undefined
  if (cluster) {
    adminUrl = cluster.pg.url
    log(`PostgreSQL: private cluster on port ${cluster.pg.port} (${JSON.stringify(opts.pgPrivate)})`)
  }
  try {
    await run(opts)
  } finally {
    cluster?.close()
  }
}

async function run(opts: Options): Promise<void> {
  if (opts.bulkIndexes) {
    const g = generateGenealogy(opts.quick ? QUICK_SPEC : FULL_SPEC)
    const sample = pickSamples(g, 1)
    for (const d of opts.dialects) await bulkIndexes(d, g, sample)
    return
  }
  const machine = await describeMachine()
  const pgInfo = opts.dialects.includes('postgres') ? await describePostgres(adminUrl) : undefined
  const spec = opts.quick ? QUICK_SPEC : FULL_SPEC
  const started = performance.now()
  const g = generateGenealogy(spec)
  const genSeconds = (performance.now() - started) / 1000
  const dist = distribution(g)
  log(`generated ${spec.lots} lots, ${spec.edges} edges in ${genSeconds.toFixed(1)} s; ${dist.join('; ')}`)
  const sample = pickSamples(g, opts.samples)
  const results: DialectTraces[] = []
  for (const d of opts.dialects) results.push(await traces(d, g, sample))
  const recon: Array<{ dialect: Dialect; r: ReconciliationResult }> = []
  // --recon-lots 0: traces only (the 100,000-lot reconciliation takes minutes per dialect)
  for (const d of opts.reconLots > 0 ? opts.dialects : [])
    recon.push({
      dialect: d,
      // a pass over 100,000 lots takes minutes: one repetition
      r: await reconciliationBench(d, adminUrl, opts.reconLots, opts.reconLots > 1000 ? 1 : 3, log),
    })
  const elapsed = (performance.now() - started) / 1000
  mkdirSync(path.join(HERE, 'results'), { recursive: true })
  writeFileSync(
    path.join(HERE, 'results', `genealogy${opts.quick ? '-quick' : ''}.json`),
    `${JSON.stringify({ machine, pg: pgInfo, pgPrivate: opts.pgPrivate, spec, genSeconds, dist, sample, results, recon, elapsed }, null, 1)}\n`,
  )
  const body = report({
    machine,
    pg: pgInfo,
    pgPrivate: opts.pgPrivate !== undefined,
    spec,
    genSeconds,
    dist,
    sample,
    results,
    recon,
    elapsed,
    quick: opts.quick,
    samples: opts.samples,
  })
  process.stdout.write(`\n${body}\n`)
  if (opts.quick || opts.dialects.length < 2 || opts.reconLots === 0) {
    log('README not updated: only a full run (both dialects, no --quick, reconciliation) is written there')
    return
  }
  writeReadmeSection(path.join(HERE, 'README.md'), 'Issue 7: genealogy trace and reconciliation', body)
  const p95 = (xs: number[]) => percentile(xs, 95).toFixed(1)
  const summary = results
    .map(
      (r) =>
        `${r.dialect}: trace p95 backward ${p95(r.backward.ours)} / forward ${p95(r.forward.ours)} ms, bulk first page p95 ${p95(r.bulkFirst.ours)} ms (target 50 ms)`,
    )
    .join('; ')
  const lotsPerS = recon.map(({ dialect, r }) => `${dialect} ${median(r.passes).toFixed(0)}`).join(', ')
  writeResultsRow(
    'genealogy',
    'Issue 7: trace on 1M lots / 3M edges, reconciliation',
    `${summary}; reconciliation lots/s ${lotsPerS}`,
    machine,
    pgInfo,
  )
  log(
    'bench/README.md: section "Issue 7: genealogy trace and reconciliation" and bench/RESULTS.md row written',
  )
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2))
}

/**
 * Loaders that write a generated genealogy (genealogy-gen.ts) straight into the projection's tables
 * (`lots`, `genealogy_edges`; migrations 0005_genealogy.sql and later) on SQLite and PostgreSQL,
 * the edge indexes dropped for the load and rebuilt by their own definitions.
 */
import { spawn } from 'node:child_process'
import Database from 'better-sqlite3'
import { PostgresStore } from '../../src/store/postgres/store.ts'
import { SqliteStore } from '../../src/store/sqlite/store.ts'
import { edgeRow, type Genealogy, lotRow, plantName } from './genealogy-gen.ts'

const QTY = JSON.stringify({ units: 1000, scale: 3, uom: 'KG' })

const LOT_COLUMNS = 'lot, plant, material, supplier, stock, first_seen_seq, last_event_seq'
// from_plant, to_plant: the plants of the edge's lots, as the projector copies them (0022).
const EDGE_COLUMNS =
  'event_seq, plant, from_lot, to_lot, kind, operation, production_order, quantity, at, from_plant, to_plant'
/**
 * The secondary indexes of genealogy_edges as the migrations left them (0005_genealogy.sql and
 * later): read from the catalogue, dropped for the load and rebuilt by their own definitions.
 */
const SQLITE_EDGE_INDEXES = `SELECT name, sql FROM sqlite_master
  WHERE type = 'index' AND tbl_name = 'genealogy_edges' AND sql IS NOT NULL`
const PG_EDGE_INDEXES = `SELECT indexname AS name, indexdef AS sql FROM pg_indexes
  WHERE tablename = 'genealogy_edges' AND indexname <> 'genealogy_edges_pkey'`

function* lotValues(g: Genealogy) {
  for (let i = 0; i < g.spec.lots; i++) {
    const l = lotRow(g, i)
    yield [l.lot, l.plant, l.material, l.supplier, JSON.stringify(l.stock), l.seq, l.seq] as const
  }
}

function* edgeValues(g: Genealogy) {
  for (let j = 0; j < g.spec.edges; j++) {
    const e = edgeRow(g, j)
    yield [
      e.eventSeq,
      e.plant,
      e.fromLot,
      e.toLot,
      e.kind,
      e.operation,
      e.productionOrder,
      QTY,
      e.at,
      plantName(g.plant[g.from[j]!]!),
      plantName(g.plant[g.to[j]!]!),
    ] as const
  }
}

/** Migrates a fresh SQLite file through the store, then bulk-inserts in one transaction. */
export async function loadSqlite(file: string, g: Genealogy): Promise<void> {
  await SqliteStore.open({ file, readWorkers: 0 }).close()
  const db = new Database(file)
  try {
    db.pragma('synchronous = OFF')
    db.pragma('cache_size = -400000')
    const indexes = db.prepare(SQLITE_EDGE_INDEXES).all() as Array<{ name: string; sql: string }>
    for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`)
    const lots = db.prepare(`INSERT INTO lots (${LOT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    const edges = db.prepare(
      `INSERT INTO genealogy_edges (${EDGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    db.transaction(() => {
      for (const v of lotValues(g)) lots.run(...v)
      for (const v of edgeValues(g)) edges.run(...v)
    })()
    for (const ix of indexes) db.exec(ix.sql)
    db.exec('ANALYZE')
  } finally {
    db.close()
  }
}

const tsv = (v: readonly unknown[]) =>
  v.map((x) => (x === null ? '\\N' : String(x).replace(/\\/g, '\\\\').replace(/\t/g, '\\t'))).join('\t')

/** Streams rows into `COPY … FROM STDIN` through psql (the pg driver has no COPY support). */
async function psqlCopy(url: string, table: string, columns: string, rows: Iterable<readonly unknown[]>) {
  const child = spawn(
    'psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', `\\copy ${table} (${columns}) FROM STDIN`],
    {
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`psql \\copy ${table}: ${stderr.trim()}`)),
    )
  })
  let buf: string[] = []
  for (const row of rows) {
    buf.push(tsv(row))
    if (buf.length >= 10_000) {
      if (!child.stdin.write(`${buf.join('\n')}\n`)) await new Promise((r) => child.stdin.once('drain', r))
      buf = []
    }
  }
  if (buf.length > 0) child.stdin.write(`${buf.join('\n')}\n`)
  child.stdin.end()
  await done
}

/** Migrates a fresh PostgreSQL database through the store, then COPYs both tables. */
export async function loadPostgres(url: string, g: Genealogy): Promise<void> {
  const store = await PostgresStore.open({ connectionString: url })
  let indexes: Array<{ name: string; sql: string }>
  try {
    indexes = (await store.sql.all(PG_EDGE_INDEXES)).map((r) => ({
      name: String(r.name),
      sql: String(r.sql),
    }))
    for (const ix of indexes) await store.sql.run(`DROP INDEX ${ix.name}`)
  } finally {
    await store.close()
  }
  await psqlCopy(url, 'lots', LOT_COLUMNS, lotValues(g))
  await psqlCopy(url, 'genealogy_edges', EDGE_COLUMNS, edgeValues(g))
  const store2 = await PostgresStore.open({ connectionString: url })
  try {
    for (const ix of indexes) await store2.sql.run(ix.sql)
    // VACUUM sets the visibility map, as autovacuum does on a live database after inserts
    // (autovacuum_vacuum_insert_threshold): until then an index-only scan still reads the heap.
    await store2.sql.run('VACUUM ANALYZE lots')
    await store2.sql.run('VACUUM ANALYZE genealogy_edges')
  } finally {
    await store2.close()
  }
}

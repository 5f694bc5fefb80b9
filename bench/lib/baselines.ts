/**
 * Physical limits for the ingest benchmark, measured in the same run as Qualink:
 * - PostgreSQL: pgbench with the Appendix A scripts of reference/perf-reliability.md (ins100.sql,
 *   outbox.sql), `-n -M prepared -j 2`, on a temporary database.
 * - SQLite: the same transactions written directly with better-sqlite3 (WAL, synchronous=FULL) in a
 *   tight loop in this process: no HTTP, no validation, no queue.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import pg from 'pg'

const run = promisify(execFile)

/** ~60 B of JSON, as in Appendix A (no `:name` sequences: pgbench would read them as variables). */
const PAYLOAD = '{"type":"qualink.test.pinged.v1","plant":"P100","note":"hello","n":1}'

const PG_SCHEMA = `
CREATE TABLE ev(id bigserial primary key, payload jsonb, created_at timestamptz default now());
CREATE TABLE outbox(id bigserial primary key, ev_id bigint, topic text, payload jsonb, sent_at timestamptz);
CREATE INDEX ON outbox(id) WHERE sent_at IS NULL;
CREATE TABLE audit(id bigserial primary key, ev_id bigint, prev_hash bytea, hash bytea, at timestamptz default now());
`

const INS100_SQL = `INSERT INTO ev(payload) SELECT '${PAYLOAD}'::jsonb FROM generate_series(1, 100);\n`

const OUTBOX_SQL = `BEGIN;
INSERT INTO ev(payload) VALUES ('${PAYLOAD}'::jsonb);
INSERT INTO outbox(ev_id, topic, payload) VALUES (currval('ev_id_seq'), 'qualink.test.pinged.v1', '${PAYLOAD}'::jsonb);
INSERT INTO audit(ev_id, prev_hash, hash) VALUES (currval('ev_id_seq'), NULL, sha256(convert_to(currval('ev_id_seq')::text || '${PAYLOAD}', 'UTF8')));
COMMIT;
`

export type PgbenchScript = 'ins100' | 'outbox'

export interface PgbenchResult {
  readonly script: PgbenchScript
  readonly clients: number
  readonly tps: number
  readonly latencyAvgMs: number | null
  readonly command: string
}

/** Creates the Appendix A tables in `databaseUrl` and writes the scripts into `dir`. */
export async function preparePgbench(databaseUrl: string, dir: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  try {
    await c.query(PG_SCHEMA)
  } finally {
    await c.end()
  }
  writeFileSync(path.join(dir, 'ins100.sql'), INS100_SQL)
  writeFileSync(path.join(dir, 'outbox.sql'), OUTBOX_SQL)
}

export async function runPgbench(
  databaseUrl: string,
  dir: string,
  script: PgbenchScript,
  clients: number,
  seconds: number,
): Promise<PgbenchResult> {
  const r = await runPgbenchFile(databaseUrl, path.join(dir, `${script}.sql`), clients, seconds)
  return { script, ...r }
}

/** pgbench `-n -M prepared -j 2 -c <clients> -T <seconds> -f <file>` on `databaseUrl`'s database. */
export async function runPgbenchFile(
  databaseUrl: string,
  file: string,
  clients: number,
  seconds: number,
): Promise<Omit<PgbenchResult, 'script'> & { transactions: number }> {
  const u = new URL(databaseUrl)
  const args = [
    '-h',
    u.hostname,
    '-p',
    u.port || '5432',
    '-U',
    decodeURIComponent(u.username || 'postgres'),
    '-n',
    '-M',
    'prepared',
    '-j',
    '2',
    '-c',
    String(clients),
    '-T',
    String(seconds),
    '-f',
    file,
    u.pathname.slice(1),
  ]
  const env = { ...process.env, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) }
  const { stdout } = await run('/usr/bin/pgbench', args, { env })
  const tps = /tps = ([\d.]+)/.exec(stdout)
  if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`)
  const lat = /latency average = ([\d.]+) ms/.exec(stdout)
  const done = /number of transactions actually processed: (\d+)/.exec(stdout)
  const failed = /number of failed transactions: (\d+)/.exec(stdout)
  if (failed && Number(failed[1]) > 0)
    throw new Error(`pgbench: ${failed[1]} failed transactions:\n${stdout}`)
  return {
    clients,
    tps: Number(tps[1]),
    latencyAvgMs: lat ? Number(lat[1]) : null,
    transactions: done ? Number(done[1]) : Number.NaN,
    command: `pgbench ${args.slice(6).join(' ')}`,
  }
}

export interface SqliteBaselineResult {
  readonly script: PgbenchScript
  readonly tps: number
  readonly transactions: number
}

function openRaw(file: string): Database.Database {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(`
    CREATE TABLE IF NOT EXISTS ev(id INTEGER PRIMARY KEY, payload TEXT, created_at INTEGER DEFAULT (unixepoch('subsec') * 1000));
    CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, ev_id INTEGER, topic TEXT, payload TEXT, sent_at INTEGER);
    CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(id) WHERE sent_at IS NULL;
    CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY, ev_id INTEGER, prev_hash BLOB, hash BLOB, at INTEGER DEFAULT (unixepoch('subsec') * 1000));
  `)
  return db
}

/**
 * The SQLite equivalent of pgbench on one connection: the same transaction as fast as one thread can
 * commit it durably. better-sqlite3 is synchronous, so this is also SQLite's single-writer ceiling.
 */
export function runSqliteBaseline(
  file: string,
  script: PgbenchScript,
  seconds: number,
): SqliteBaselineResult {
  const db = openRaw(file)
  try {
    const insEv = db.prepare('INSERT INTO ev(payload) VALUES (?)')
    const insOutbox = db.prepare('INSERT INTO outbox(ev_id, topic, payload) VALUES (?, ?, ?)')
    const insAudit = db.prepare('INSERT INTO audit(ev_id, prev_hash, hash) VALUES (?, NULL, ?)')
    const tx =
      script === 'ins100'
        ? db.transaction(() => {
            for (let i = 0; i < 100; i++) insEv.run(PAYLOAD)
          })
        : db.transaction(() => {
            const id = Number(insEv.run(PAYLOAD).lastInsertRowid)
            insOutbox.run(id, 'qualink.test.pinged.v1', PAYLOAD)
            insAudit.run(
              id,
              createHash('sha256')
                .update(String(id) + PAYLOAD)
                .digest(),
            )
          })
    const start = performance.now()
    const end = start + seconds * 1000
    let n = 0
    let now = start
    while (now < end) {
      tx.immediate()
      n++
      now = performance.now()
    }
    return { script, tps: (n * 1000) / (now - start), transactions: n }
  } finally {
    db.close()
  }
}

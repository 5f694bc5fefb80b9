import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { hashCanonical } from '../../audit/canonical-json.ts'
import { QualinkError } from '../../contracts/errors.ts'
import { GenealogySql } from '../genealogy-sql.ts'
import { loadMigrations, planMigrations } from '../migrations.ts'
import {
  AUDIT_COLUMNS,
  CHAIN_SELECT,
  EVENT_COLUMNS,
  ingestAuditPayload,
  toAuditRow,
  toChainRecord,
  toEvent,
  toRawDelivery,
} from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type { ListType, SqlExecutor } from '../sql-executor.ts'
import type {
  AppendRequest,
  AppendResult,
  AuditEntry,
  AuditRow,
  ChainLink,
  ChainRecord,
  EventFilter,
  Lease,
  LogCursor,
  RawDelivery,
  Scope,
  Store,
  StoredEvent,
  StoredRawDelivery,
} from '../types.ts'
import { SqliteEngine } from './engine.ts'
import { SqliteIngress } from './ingress.ts'
import { acquireLockFile } from './lock-file.ts'
import { ReadPool } from './read-pool.ts'

type Row = Record<string, unknown>
const q = () => '?'
const NOW_MS = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`
/** how often a long-lived store re-runs PRAGMA optimize (SQLite suggests periodically, e.g. daily) */
const OPTIMIZE_EVERY_MS = 60 * 60 * 1000

export interface SqliteOptions {
  /** database file; `:memory:` is refused: the store must be durable */
  readonly file: string
  /** worker-thread read connections for heavy reads; 0 runs them on the main connection */
  readonly readWorkers?: number
  /**
   * Bytes of the file read through a memory map (PRAGMA mmap_size) on every connection of the
   * store; 0 reads through SQLite's own page cache alone. Default `DEFAULT_MMAP_SIZE`.
   */
  readonly mmapSize?: number
}

/**
 * Reads through a memory map: SQLite reads a page straight from the OS page cache instead of
 * copying it into its own cache with a read() call (https://sqlite.org/mmap.html; writes still go
 * through the WAL, so durability is unchanged). A trace page reads thousands of pages of a large
 * store at random (a bulk lot's 1,000 lots and 1,000 edges of 1,000,000 and 3,000,000): on the
 * generated genealogy of bench/genealogy.ts the first page of a bulk lot took 54–58 → 35–37 ms of
 * process CPU at the median, 69–71 → 54 at p95 (bench/README.md, "Issue 7", 2026-11-28). 1 GiB
 * of address space, not of memory: pages are only mapped, and the OS evicts them as any file cache;
 * this build of SQLite caps it at 2 GiB (SQLITE_MAX_MMAP_SIZE), beyond which it reads as before.
 */
export const DEFAULT_MMAP_SIZE = 1024 * 1024 * 1024

const mmapSize = (opts: SqliteOptions): number => {
  const n = opts.mmapSize ?? DEFAULT_MMAP_SIZE
  if (!Number.isSafeInteger(n) || n < 0)
    throw new QualinkError('QLK_CONFIG_INVALID', `SqliteOptions.mmapSize: ${opts.mmapSize} is not allowed`, [
      { path: '/mmapSize', message: 'must be a whole number of bytes ≥ 0 (0: no memory map)' },
    ])
  return n
}

/**
 * The embedded store: one process owns the file (lock file), WAL with synchronous=FULL so a
 * commit is on disk before it returns (measured ~326 µs per commit on this machine kind,
 * reference/ts-stack-and-style.md), heavy reads on worker-thread connections.
 */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const
  private readonly db: Database.Database
  private readonly releaseLock: () => void
  private readonly pool: ReadPool | undefined
  private readonly stmt: ReturnType<SqliteStore['prepare']>
  private readonly optimizer: NodeJS.Timeout
  readonly engine: SqliteEngine
  readonly ingress: SqliteIngress
  readonly genealogy: GenealogySql
  /** standard-SQL access shared with the PostgreSQL store (see sql-executor.ts) */
  readonly sql: SqlExecutor

  static open(opts: SqliteOptions): SqliteStore {
    return new SqliteStore(opts)
  }

  private constructor(opts: SqliteOptions) {
    if (opts.file === ':memory:')
      throw new Error('the SQLite store needs a file: an in-memory database is not durable')
    const mmap = mmapSize(opts)
    mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true })
    this.releaseLock = acquireLockFile(`${opts.file}.lock`)
    try {
      this.db = new Database(opts.file)
      this.db.pragma('journal_mode = WAL')
      this.db.pragma('synchronous = FULL')
      this.db.pragma('foreign_keys = ON')
      this.db.pragma('busy_timeout = 5000')
      this.db.pragma(`mmap_size = ${mmap}`)
      this.migrate()
      // Planner statistics: without them SQLite does not pick the covering indexes the trace walk
      // reads (0023's lots_lot_plant for a lot's plant: through the primary key it reads each lot's
      // row instead). SQLite recommends PRAGMA optimize when a long-lived connection opens (with
      // the 0x10000 bit: every table checked, not only those the connection has used) and again
      // periodically (https://sqlite.org/pragma.html#pragma_optimize); the 0x10 bit caps the rows
      // each ANALYZE reads (analysis_limit), so opening a large store stays quick (measured here:
      // 95 ms for a never-analyzed 200,000-row table with the cap, 856 ms without).
      this.db.pragma('optimize=0x10012')
      this.stmt = this.prepare()
      this.engine = new SqliteEngine(this.db, (now, a) => this.writeAudit(now, a))
      this.ingress = new SqliteIngress(this.db, (now, a) => this.writeAudit(now, a))
      this.sql = this.executor()
      this.genealogy = new GenealogySql(this.sql)
    } catch (e) {
      this.releaseLock()
      throw e
    }
    const workers = opts.readWorkers ?? 1
    this.pool = workers > 0 ? new ReadPool(opts.file, workers, mmap) : undefined
    this.optimizer = setInterval(() => this.optimize(), OPTIMIZE_EVERY_MS)
    this.optimizer.unref()
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS qualink_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, breaking INTEGER NOT NULL, applied_at_ms INTEGER NOT NULL)`)
    const applied = this.db.prepare('SELECT version, breaking FROM qualink_migrations').all() as Row[]
    const todo = planMigrations(
      applied.map((r) => ({ version: Number(r.version), breaking: r.breaking === 1 })),
      loadMigrations('sqlite'),
    )
    for (const m of todo) {
      this.db
        .transaction(() => {
          this.db.exec(m.sql)
          this.db
            .prepare(`INSERT INTO qualink_migrations VALUES (?, ?, ?, ${NOW_MS})`)
            .run(m.version, m.name, m.breaking ? 1 : 0)
        })
        .immediate()
    }
  }

  private prepare() {
    const d = this.db
    return {
      now: d.prepare(`SELECT ${NOW_MS} AS now`),
      insertEvent:
        d.prepare(`INSERT INTO events (plant, source, id, type, subject, time, correlation_id, causation_id,
        source_sequence, data_hash, envelope, recorded_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, id) DO NOTHING RETURNING seq`),
      findEvent: d.prepare('SELECT seq, correlation_id FROM events WHERE source = ? AND id = ?'),
      settleTranslated:
        d.prepare(`UPDATE raw_deliveries SET status = 'translated', event_seq = ?, parked_on = NULL,
        last_error_code = NULL, last_error = NULL WHERE seq = ?`),
      insertAudit:
        d.prepare(`INSERT INTO audit_log (plant, at_ms, actor, action, subject, correlation_id, payload_hash)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`),
      insertAuditPayload: d.prepare('INSERT INTO audit_payloads (audit_seq, payload) VALUES (?, ?)'),
      insertRaw: d.prepare(`INSERT INTO raw_deliveries (plant, source, delivery_id, headers, body, body_hash,
        received_at_ms, next_attempt_at_ms) VALUES (?, ?, ?, ?, ?, ?, ${NOW_MS}, ${NOW_MS})
        ON CONFLICT (source, delivery_id) DO NOTHING RETURNING seq`),
      findRaw: d.prepare('SELECT seq FROM raw_deliveries WHERE source = ? AND delivery_id = ?'),
      chainHead: d.prepare(
        'SELECT pos, audit_seq, audit_txid, prev_hash, hash FROM audit_chain ORDER BY pos DESC LIMIT 1',
      ),
      unsealed: d.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_log
        WHERE seq > COALESCE((SELECT audit_seq FROM audit_chain ORDER BY pos DESC LIMIT 1), 0) ORDER BY seq LIMIT ?`),
      countUnsealed: d.prepare(`SELECT COUNT(*) AS n FROM audit_log
        WHERE seq > COALESCE((SELECT audit_seq FROM audit_chain ORDER BY pos DESC LIMIT 1), 0)`),
      maxAudit: d.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM audit_log'),
      leaseHeld: d.prepare(`SELECT 1 FROM leases WHERE name = ? AND token = ? AND expires_at_ms > ${NOW_MS}`),
      insertChain:
        d.prepare(`INSERT INTO audit_chain (pos, audit_seq, audit_txid, prev_hash, hash, sealed_at_ms)
        VALUES (?, ?, 0, ?, ?, ${NOW_MS})`),
      acquireLease:
        d.prepare(`INSERT INTO leases (name, owner, token, expires_at_ms) VALUES (?, ?, 1, ${NOW_MS} + ?)
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = leases.token + 1,
          expires_at_ms = excluded.expires_at_ms
        WHERE leases.expires_at_ms <= ${NOW_MS} OR leases.owner = excluded.owner
        RETURNING name, owner, token, expires_at_ms`),
      renewLease: d.prepare(`UPDATE leases SET expires_at_ms = ${NOW_MS} + ? WHERE name = ? AND token = ?
        AND expires_at_ms > ${NOW_MS} RETURNING name, owner, token, expires_at_ms`),
      releaseLease: d.prepare('UPDATE leases SET expires_at_ms = 0 WHERE name = ? AND token = ?'),
    }
  }

  async now(): Promise<number> {
    return (this.stmt.now.get() as { now: number }).now
  }

  async appendEvents(requests: readonly AppendRequest[]): Promise<AppendResult[][]> {
    const s = this.stmt
    const run = this.db.transaction((reqs: readonly AppendRequest[]) => {
      const now = (s.now.get() as { now: number }).now
      const matchWaits = this.engine.hasWaitingEventWaits()
      return reqs.map((req) => {
        const results = req.events.map((e): AppendResult => {
          const inserted = s.insertEvent.get(
            e.plant,
            e.source,
            e.id,
            e.type,
            e.subject,
            e.time,
            e.correlationId,
            e.causationId,
            e.sourceSequence,
            e.dataHash,
            e.envelopeJson,
            now,
          ) as { seq: number } | undefined
          if (!inserted) {
            const orig = s.findEvent.get(e.source, e.id) as { seq: number; correlation_id: string }
            return {
              id: e.id,
              source: e.source,
              seq: orig.seq,
              correlationId: orig.correlation_id,
              duplicate: true,
            }
          }
          this.engine.routeInTx(now, e, inserted.seq, matchWaits)
          const payload = ingestAuditPayload({ ...e, seq: inserted.seq })
          this.writeAudit(now, {
            plant: e.plant,
            actor: req.actor,
            action: 'event.ingested',
            subject: e.subject ?? `event:${e.id}`,
            correlationId: e.correlationId,
            payload,
          })
          return {
            id: e.id,
            source: e.source,
            seq: inserted.seq,
            correlationId: e.correlationId,
            duplicate: false,
          }
        })
        for (const a of req.audit ?? []) this.writeAudit(now, a)
        if (req.translatedFrom !== undefined)
          s.settleTranslated.run(results[0]?.seq ?? null, req.translatedFrom)
        return results
      })
    })
    return run.immediate(requests)
  }

  private writeAudit(now: number, a: AuditEntry): void {
    const row = this.stmt.insertAudit.get(
      a.plant,
      now,
      a.actor,
      a.action,
      a.subject,
      a.correlationId,
      a.payloadHash ?? hashCanonical(a.payload),
    ) as { seq: number }
    this.stmt.insertAuditPayload.run(row.seq, JSON.stringify(a.payload))
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    this.db
      .transaction(() => {
        const now = (this.stmt.now.get() as { now: number }).now
        for (const a of entries) this.writeAudit(now, a)
      })
      .immediate()
  }

  private async read(sql: string, params: readonly unknown[]): Promise<Row[]> {
    if (this.pool) return this.pool.query(sql, params)
    return this.db.prepare(sql).all(...params) as Row[]
  }

  async getEvent(scope: Scope, id: string): Promise<StoredEvent | undefined> {
    const sc = scopeClause(scope, 'plant', q, 0)
    const rows = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ? AND ${sc.sql} ORDER BY seq LIMIT 1`)
      .all(id, ...sc.params) as Row[]
    return rows[0] ? toEvent(rows[0]) : undefined
  }

  async getEventBySeq(scope: Scope, seq: number): Promise<StoredEvent | undefined> {
    const sc = scopeClause(scope, 'plant', q, 0)
    const rows = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ? AND ${sc.sql}`)
      .all(seq, ...sc.params) as Row[]
    return rows[0] ? toEvent(rows[0]) : undefined
  }

  async listEvents(scope: Scope, f: EventFilter): Promise<StoredEvent[]> {
    const sc = scopeClause(scope, 'plant', q, 0)
    const where = [sc.sql, 'seq > ?']
    const params: unknown[] = [...sc.params, f.afterSeq ?? 0]
    if (f.type) {
      where.push('type = ?')
      params.push(f.type)
    }
    if (f.subject) {
      where.push('subject = ?')
      params.push(f.subject)
    }
    params.push(f.limit)
    const rows = await this.read(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
      params,
    )
    return rows.map(toEvent)
  }

  async eventCounts(scope: Scope) {
    const sc = scopeClause(scope, 'plant', q, 0)
    const rows = await this.read(
      `SELECT plant, type, COUNT(*) AS count FROM events WHERE ${sc.sql} GROUP BY plant, type ORDER BY plant, type`,
      sc.params,
    )
    return rows.map((r) => ({ plant: String(r.plant), type: String(r.type), count: Number(r.count) }))
  }

  async tailEvents(scope: Scope, cursor: LogCursor, limit: number) {
    const events = await this.listEvents(scope, { afterSeq: cursor.seq, limit })
    const last = events.at(-1)
    return { events, cursor: last ? { txid: '0', seq: last.seq } : cursor }
  }

  async insertRawDelivery(d: RawDelivery): Promise<{ seq: number; duplicate: boolean }> {
    const hash = createHash('sha256').update(d.body).digest('hex')
    const row = this.stmt.insertRaw.get(
      d.plant,
      d.source,
      d.deliveryId,
      JSON.stringify(d.headers),
      d.body,
      hash,
    ) as { seq: number } | undefined
    if (row) return { seq: row.seq, duplicate: false }
    const orig = this.stmt.findRaw.get(d.source, d.deliveryId) as { seq: number }
    return { seq: orig.seq, duplicate: true }
  }

  async getRawDelivery(scope: Scope, seq: number): Promise<StoredRawDelivery | undefined> {
    const sc = scopeClause(scope, 'plant', q, 0)
    const rows = this.db
      .prepare(`SELECT * FROM raw_deliveries WHERE seq = ? AND ${sc.sql}`)
      .all(seq, ...sc.params) as Row[]
    return rows[0] ? toRawDelivery(rows[0]) : undefined
  }

  async listAudit(
    scope: Scope,
    f: { subject?: string; action?: string; limit: number },
  ): Promise<AuditRow[]> {
    const sc = scopeClause(scope, 'plant', q, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    if (f.subject !== undefined) {
      where.push('subject = ?')
      params.push(f.subject)
    }
    if (f.action !== undefined) {
      where.push('action = ?')
      params.push(f.action)
    }
    const rows = await this.read(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
      [...params, f.limit],
    )
    return rows.map(toAuditRow)
  }

  async readUnsealedAudit(limit: number): Promise<AuditRow[]> {
    return (this.stmt.unsealed.all(limit) as Row[]).map(toAuditRow)
  }

  async chainHead(): Promise<ChainLink | undefined> {
    const r = this.stmt.chainHead.get() as Row | undefined
    return r
      ? {
          pos: Number(r.pos),
          auditSeq: Number(r.audit_seq),
          auditTxid: String(r.audit_txid),
          prevHash: String(r.prev_hash),
          hash: String(r.hash),
        }
      : undefined
  }

  async appendChain(links: readonly ChainLink[], lease: Lease): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (!this.stmt.leaseHeld.get(lease.name, lease.token)) return false
        for (const l of links) this.stmt.insertChain.run(l.pos, l.auditSeq, l.prevHash, l.hash)
        return true
      })
      .immediate()
  }

  async readChain(fromPos: number, limit: number): Promise<ChainRecord[]> {
    const rows = await this.read(`${CHAIN_SELECT} WHERE c.pos >= ? ORDER BY c.pos LIMIT ?`, [fromPos, limit])
    return rows.map(toChainRecord)
  }

  async countUnsealedAudit(): Promise<number> {
    return Number((this.stmt.countUnsealed.get() as Row).n)
  }

  async maxAuditSeq(): Promise<number> {
    return Number((this.stmt.maxAudit.get() as Row).m)
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    const r = this.stmt.acquireLease.get(name, owner, ttlMs) as Row | undefined
    return r ? toLease(r) : undefined
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    const r = this.stmt.renewLease.get(ttlMs, lease.name, lease.token) as Row | undefined
    return r ? toLease(r) : undefined
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.stmt.releaseLease.run(lease.name, lease.token)
  }

  /**
   * Standard-SQL access for store parts shared by both dialects. better-sqlite3 is synchronous,
   * so a transaction here must not await anything but this executor's own calls.
   */
  private executor(): SqlExecutor {
    const x: SqlExecutor = {
      all: async (sql, params = []) => this.db.prepare(sql).all(...params) as Record<string, unknown>[],
      run: async (sql, params = []) => this.db.prepare(sql).run(...params).changes,
      jsonRows: sqliteJsonRows,
      tx: async (fn) => {
        this.db.exec('BEGIN IMMEDIATE')
        try {
          const out = await fn(x)
          this.db.exec('COMMIT')
          return out
        } catch (e) {
          this.db.exec('ROLLBACK')
          throw e
        }
      },
    }
    return x
  }

  /** For tests and tools that need raw SQL against the file (tamper simulation, fixtures). */
  rawDatabase(): Database.Database {
    return this.db
  }

  /** PRAGMA optimize: re-analyzes the tables whose statistics are missing or out of date (usually none). */
  private optimize(): void {
    try {
      this.db.pragma('optimize')
    } catch {
      // best effort: statistics only steer the planner (a busy or closed database skips a round)
    }
  }

  async close(): Promise<void> {
    clearInterval(this.optimizer)
    this.optimize()
    await this.pool?.close()
    this.db.close()
    this.releaseLock()
  }
}

/**
 * `json_each` over a JSON array parameter (SQLite's JSON functions, built in since 3.38:
 * https://sqlite.org/json1.html#jeach); `->>` returns an element as an SQL text or integer.
 */
function sqliteJsonRows(types: readonly ListType[]): string {
  const col = (t: ListType, v: string) => (t === 'bigint' ? `CAST(${v} AS INTEGER)` : v)
  if (types.length === 1) return `SELECT ${col(types[0]!, 'value')} AS column1 FROM json_each(?)`
  return `SELECT ${types.map((t, i) => `${col(t, `value ->> ${i}`)} AS column${i + 1}`).join(', ')} FROM json_each(?)`
}

function toLease(r: Row): Lease {
  return {
    name: String(r.name),
    owner: String(r.owner),
    token: Number(r.token),
    expiresAtMs: Number(r.expires_at_ms),
  }
}

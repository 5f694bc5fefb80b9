import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { QualinkError } from '../../contracts/errors.ts'
import { GenealogySql } from '../genealogy-sql.ts'
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
import { sqliteAuditLog } from './audit-log.ts'
import { NOW_MS } from './clock.ts'
import { SqliteEngine } from './engine.ts'
import { sqliteEventLog } from './event-log.ts'
import { SqliteIngress } from './ingress.ts'
import { sqliteLeases } from './leases.ts'
import { acquireLockFile } from './lock-file.ts'
import { migrate } from './migrate.ts'
import { ReadPool } from './read-pool.ts'

type Row = Record<string, unknown>
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
  private readonly nowStmt: Database.Statement
  private readonly audit: ReturnType<typeof sqliteAuditLog>
  private readonly events: ReturnType<typeof sqliteEventLog>
  private readonly leases: ReturnType<typeof sqliteLeases>
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
      migrate(this.db)
      // Planner statistics: without them SQLite does not pick the covering indexes the trace walk
      // reads (0023's lots_lot_plant for a lot's plant: through the primary key it reads each lot's
      // row instead). SQLite recommends PRAGMA optimize when a long-lived connection opens (with
      // the 0x10000 bit: every table checked, not only those the connection has used) and again
      // periodically (https://sqlite.org/pragma.html#pragma_optimize); the 0x10 bit caps the rows
      // each ANALYZE reads (analysis_limit), so opening a large store stays quick (measured here:
      // 95 ms for a never-analyzed 200,000-row table with the cap, 856 ms without).
      this.db.pragma('optimize=0x10012')
      const read = (sql: string, params: readonly unknown[]) => this.read(sql, params)
      this.nowStmt = this.db.prepare(`SELECT ${NOW_MS} AS now`)
      this.audit = sqliteAuditLog(this.db, read)
      this.leases = sqliteLeases(this.db)
      this.engine = new SqliteEngine(this.db, this.audit.write)
      this.events = sqliteEventLog(this.db, this.engine, this.audit.write, read)
      this.ingress = new SqliteIngress(this.db, this.audit.write)
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

  async now(): Promise<number> {
    return (this.nowStmt.get() as { now: number }).now
  }

  async appendEvents(requests: readonly AppendRequest[]): Promise<AppendResult[][]> {
    return this.events.append(requests)
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    this.audit.append(entries)
  }

  /** A heavy read: on a worker-thread connection when the store has them, else on the main one. */
  private async read(sql: string, params: readonly unknown[]): Promise<Row[]> {
    if (this.pool) return this.pool.query(sql, params)
    return this.db.prepare(sql).all(...params) as Row[]
  }

  async getEvent(scope: Scope, id: string): Promise<StoredEvent | undefined> {
    return this.events.getEvent(scope, id)
  }

  async getEventBySeq(scope: Scope, seq: number): Promise<StoredEvent | undefined> {
    return this.events.getEventBySeq(scope, seq)
  }

  async listEvents(scope: Scope, f: EventFilter): Promise<StoredEvent[]> {
    return this.events.listEvents(scope, f)
  }

  async eventCounts(scope: Scope) {
    return this.events.eventCounts(scope)
  }

  async tailEvents(scope: Scope, cursor: LogCursor, limit: number) {
    return this.events.tailEvents(scope, cursor, limit)
  }

  async insertRawDelivery(d: RawDelivery): Promise<{ seq: number; duplicate: boolean }> {
    return this.events.insertRawDelivery(d)
  }

  async getRawDelivery(scope: Scope, seq: number): Promise<StoredRawDelivery | undefined> {
    return this.events.getRawDelivery(scope, seq)
  }

  async listAudit(
    scope: Scope,
    f: { subject?: string; action?: string; limit: number },
  ): Promise<AuditRow[]> {
    return this.audit.list(scope, f)
  }

  async readUnsealedAudit(limit: number): Promise<AuditRow[]> {
    return this.audit.readUnsealed(limit)
  }

  async chainHead(): Promise<ChainLink | undefined> {
    return this.audit.chainHead()
  }

  async appendChain(links: readonly ChainLink[], lease: Lease): Promise<boolean> {
    return this.audit.appendChain(links, lease)
  }

  async readChain(fromPos: number, limit: number): Promise<ChainRecord[]> {
    return this.audit.readChain(fromPos, limit)
  }

  async countUnsealedAudit(): Promise<number> {
    return this.audit.countUnsealed()
  }

  async maxAuditSeq(): Promise<number> {
    return this.audit.maxSeq()
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    return this.leases.acquire(name, owner, ttlMs)
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    return this.leases.renew(lease, ttlMs)
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.leases.release(lease)
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

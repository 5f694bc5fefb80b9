import pg from 'pg'
import { GenealogySql } from '../genealogy-sql.ts'
import { type ListType, numbered, type SqlExecutor } from '../sql-executor.ts'
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
import { appendInOneTrip } from './append-script.ts'
import * as auditLog from './audit-log.ts'
import { NOW_MS } from './clock.ts'
import { PostgresEngine } from './engine.ts'
import * as eventLog from './event-log.ts'
import { PostgresIngress } from './ingress.ts'
import * as leases from './leases.ts'
import { migrate } from './migrate.ts'
import { closePool } from './pool-close.ts'
import { PreparingClient } from './preparing-client.ts'
import { PostgresRateLimits } from './rate-limits.ts'

/**
 * Parts a long read may be split into (SqlExecutor.parallelReads). Two: measured on the 2-core
 * machine of bench/README.md ("Issue 7"), a bulk lot's second trace level (3,310 lots probed on
 * the edge index) took 21–23 ms as one statement, 12–15 ms as two concurrent halves and 15–17 ms
 * as three or four.
 */
const PARALLEL_READS = 2

// seq, ms timestamps and counts fit in a double; parse int8 as number, not string.
pg.types.setTypeParser(20, (v) => Number(v))

export interface PostgresOptions {
  readonly connectionString: string
  readonly poolSize?: number
  /**
   * How long a statement may wait for a pooled connection (a free slot or a new connection)
   * before it fails instead of waiting forever; default 30 s.
   */
  readonly connectTimeoutMs?: number
  /** How long close() waits for checked-out connections before ending them; default 10 s. */
  readonly closeGraceMs?: number
}

/**
 * The Store on PostgreSQL: the pool, its transactions and the write path's choice live here; the
 * SQL lives one module per responsibility: event-log.ts (events, raw deliveries), audit-log.ts
 * (audit rows and the hash chain), leases.ts, migrate.ts, pool-close.ts, and the engine's tables
 * behind engine.ts.
 */
export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const
  private readonly pool: pg.Pool
  /** clients checked out of the pool now, with since when (Date.now()) */
  private readonly checkedOut = new Map<pg.PoolClient, number>()
  private readonly closeGraceMs: number
  readonly engine: PostgresEngine
  readonly ingress: PostgresIngress
  readonly genealogy: GenealogySql
  readonly rateLimits: PostgresRateLimits
  /** standard-SQL access shared with the SQLite store (see sql-executor.ts) */
  readonly sql: SqlExecutor

  static async open(opts: PostgresOptions): Promise<PostgresStore> {
    const s = new PostgresStore(opts)
    try {
      await s.migrate()
    } catch (e) {
      await s.pool.end()
      throw e
    }
    return s
  }

  private constructor(opts: PostgresOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 30_000,
      Client: PreparingClient,
    })
    this.closeGraceMs = opts.closeGraceMs ?? 10_000
    // An idle client that loses its server (restart, pg_terminate_backend) must not crash the process.
    this.pool.on('error', () => {})
    this.pool.on('acquire', (c) => this.checkedOut.set(c, Date.now()))
    this.pool.on('release', (_e, c) => this.checkedOut.delete(c))
    this.pool.on('remove', (c) => this.checkedOut.delete(c as pg.PoolClient))
    // BEGIN and the database clock in one round trip (a simple-protocol query of two statements).
    const txNow = <T>(fn: (c: pg.PoolClient, now: number) => Promise<T>) =>
      this.tx(async (c) => {
        const [, clock] = (await c.query(`BEGIN; SELECT ${NOW_MS} AS now`)) as unknown as pg.QueryResult[]
        return fn(c, Number(clock!.rows[0].now))
      }, false)
    this.engine = new PostgresEngine(this.pool, txNow, auditLog.writeAudit)
    this.rateLimits = new PostgresRateLimits(txNow)
    this.ingress = new PostgresIngress(this.pool, txNow, auditLog.writeAudit)
    const on = (q: pg.Pool | pg.PoolClient): SqlExecutor => ({
      all: async (sql, params = []) => (await q.query(numbered(sql), [...params])).rows,
      run: async (sql, params = []) => (await q.query(numbered(sql), [...params])).rowCount ?? 0,
      jsonRows: pgJsonRows,
      tx: (fn) => this.tx((c) => fn(on(c))),
      // The pool, not one client: two parts of a split read on two connections (SqlExecutor).
      ...(q === this.pool ? { parallelReads: PARALLEL_READS } : {}),
    })
    this.sql = on(this.pool)
    this.genealogy = new GenealogySql(
      this.sql,
      'SELECT 1 FROM events WHERE seq = ? AND (txid, seq) <= (?::text::xid8, ?::bigint)',
    )
  }

  private async migrate(): Promise<void> {
    const c = await this.checkout()
    try {
      await migrate(c)
    } finally {
      c.release()
    }
  }

  /**
   * A checked-out client whose connection dies (database restart, pg_terminate_backend) emits
   * 'error': every PreparingClient listens from birth (see there); the failing query rejects, and
   * the pool discards the client on release.
   */
  private checkout(): Promise<pg.PoolClient> {
    return this.pool.connect()
  }

  /** `begin: false`: fn opens the transaction itself (to send BEGIN with its first statement). */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, begin = true): Promise<T> {
    const c = await this.checkout()
    try {
      if (begin) await c.query('BEGIN')
      const out = await fn(c)
      await c.query('COMMIT')
      return out
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {})
      throw e
    } finally {
      c.release()
    }
  }

  async now(): Promise<number> {
    return Number((await this.pool.query(`SELECT ${NOW_MS} AS now`)).rows[0].now)
  }

  /**
   * One group transaction: BEGIN, the routing locks and the insert (one statement, clock read
   * inside it), the waits the events wake (only when an event has a subject), the audit rows,
   * COMMIT; each statement prepared once per connection (PreparingClient). Measured with a query-timing
   * probe on this machine: the former nine unprepared statements cost ~2.9 ms for a one-event
   * group, these ~1.8 ms; bench/README.md has the effect on ingest.
   */
  async appendEvents(requests: readonly AppendRequest[]): Promise<AppendResult[][]> {
    const all = requests.flatMap((r) => r.events)
    const own = requests.flatMap((r) => r.audit ?? [])
    if (all.length === 0) {
      if (own.length > 0) await this.appendAudit(own)
      return requests.map(() => [])
    }
    const plan = this.engine.planRouting(all)
    // A group with nothing to route to a workflow, no audit rows of its own and no raw delivery
    // to settle (translatedFrom: settled in the transactional path): one round trip.
    if (
      own.length === 0 &&
      requests.every((r) => r.translatedFrom === undefined) &&
      [...plan.targets.values()].every((t) => t.length === 0)
    )
      return appendInOneTrip((q) => this.pool.query(q), requests, plan)
    return this.tx((c) => eventLog.appendGroupInTx(c, this.engine, requests, all, own, plan))
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    await this.tx(async (c) => {
      const now = Number((await c.query(`SELECT ${NOW_MS} AS now`)).rows[0].now)
      await auditLog.writeAudit(c, now, entries)
    })
  }

  getEvent(scope: Scope, id: string): Promise<StoredEvent | undefined> {
    return eventLog.getEvent(this.pool, scope, id)
  }

  getEventBySeq(scope: Scope, seq: number): Promise<StoredEvent | undefined> {
    return eventLog.getEventBySeq(this.pool, scope, seq)
  }

  listEvents(scope: Scope, f: EventFilter): Promise<StoredEvent[]> {
    return eventLog.listEvents(this.pool, scope, f)
  }

  eventCounts(scope: Scope) {
    return eventLog.eventCounts(this.pool, scope)
  }

  tailEvents(scope: Scope, cursor: LogCursor, limit: number) {
    return eventLog.tailEvents(this.pool, scope, cursor, limit)
  }

  insertRawDelivery(d: RawDelivery): Promise<{ seq: number; duplicate: boolean }> {
    return eventLog.insertRawDelivery(this.pool, d)
  }

  getRawDelivery(scope: Scope, seq: number): Promise<StoredRawDelivery | undefined> {
    return eventLog.getRawDelivery(this.pool, scope, seq)
  }

  listAudit(scope: Scope, f: { subject?: string; action?: string; limit: number }): Promise<AuditRow[]> {
    return auditLog.listAudit(this.pool, scope, f)
  }

  readUnsealedAudit(limit: number): Promise<AuditRow[]> {
    return auditLog.readUnsealedAudit(this.pool, limit)
  }

  chainHead(): Promise<ChainLink | undefined> {
    return auditLog.chainHead(this.pool)
  }

  appendChain(links: readonly ChainLink[], lease: Lease): Promise<boolean> {
    return this.tx((c) => auditLog.appendChainInTx(c, links, lease))
  }

  readChain(fromPos: number, limit: number): Promise<ChainRecord[]> {
    return auditLog.readChain(this.pool, fromPos, limit)
  }

  countUnsealedAudit(): Promise<number> {
    return auditLog.countUnsealedAudit(this.pool)
  }

  maxAuditSeq(): Promise<number> {
    return auditLog.maxAuditSeq(this.pool)
  }

  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    return leases.acquireLease(this.pool, name, owner, ttlMs)
  }

  renewLease(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    return leases.renewLease(this.pool, lease, ttlMs)
  }

  releaseLease(lease: Lease): Promise<void> {
    return leases.releaseLease(this.pool, lease)
  }

  /** For tests and tools that need raw SQL (tamper simulation, fixtures). */
  rawPool(): pg.Pool {
    return this.pool
  }

  /** Ends the pool, ending connections still checked out after the grace (pool-close.ts). */
  close(): Promise<void> {
    return closePool(this.pool, this.checkedOut, this.closeGraceMs)
  }
}

/**
 * `jsonb_array_elements(_text)` over a JSON array parameter
 * (https://www.postgresql.org/docs/15/functions-json.html). Planned as a set-returning function of
 * 100 rows whatever the parameter, so a join to an index stays a nested loop of index probes in
 * the generic plan of a prepared statement as in a custom one.
 */
function pgJsonRows(types: readonly ListType[]): string {
  const col = (t: ListType, v: string) => (t === 'bigint' ? `CAST(${v} AS BIGINT)` : v)
  if (types.length === 1)
    return `SELECT ${col(types[0]!, 'v')} AS column1 FROM jsonb_array_elements_text(CAST(? AS JSONB)) AS v`
  return `SELECT ${types.map((t, i) => `${col(t, `v ->> ${i}`)} AS column${i + 1}`).join(', ')} FROM jsonb_array_elements(CAST(? AS JSONB)) AS v`
}

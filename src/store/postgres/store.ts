import { createHash } from 'node:crypto'
import pg from 'pg'
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
import { appendInOneTrip, ONE_TRIP_MAX_EVENTS } from './append-script.ts'
import { auditCtes, auditParams } from './audit-sql.ts'
import { lockAllSql, PostgresEngine } from './engine.ts'
import { PostgresIngress } from './ingress.ts'
import { PreparingClient } from './preparing-client.ts'
import { PostgresRateLimits } from './rate-limits.ts'

// seq, ms timestamps and counts fit in a double; parse int8 as number, not string.
pg.types.setTypeParser(20, (v) => Number(v))

type Row = Record<string, unknown>
const dollar = (i: number) => `$${i + 1}`
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint'
/** Below this transaction id every transaction has finished: rows under it are final. */
const WATERMARK = 'pg_snapshot_xmin(pg_current_snapshot())'
/** Serialises concurrent migrators (N processes starting at once). */
const MIGRATION_LOCK = 7_162_534

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
    this.engine = new PostgresEngine(this.pool, txNow, (c, now, entries) => this.writeAudit(c, now, entries))
    this.rateLimits = new PostgresRateLimits(txNow)
    this.ingress = new PostgresIngress(this.pool, txNow, (c, now, entries) =>
      this.writeAudit(c, now, entries),
    )
    const on = (q: pg.Pool | pg.PoolClient): SqlExecutor => ({
      all: async (sql, params = []) => (await q.query(numbered(sql), [...params])).rows,
      run: async (sql, params = []) => (await q.query(numbered(sql), [...params])).rowCount ?? 0,
      jsonRows: pgJsonRows,
      tx: (fn) => this.tx((c) => fn(on(c))),
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
      await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
      await c.query(`CREATE TABLE IF NOT EXISTS qualink_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, breaking BOOLEAN NOT NULL, applied_at_ms BIGINT NOT NULL)`)
      const applied = (await c.query('SELECT version, breaking FROM qualink_migrations')).rows
      const todo = planMigrations(
        applied.map((r) => ({ version: Number(r.version), breaking: Boolean(r.breaking) })),
        loadMigrations('postgres'),
      )
      for (const m of todo) {
        await c.query('BEGIN')
        try {
          await c.query(m.sql)
          await c.query(`INSERT INTO qualink_migrations VALUES ($1, $2, $3, ${NOW_MS})`, [
            m.version,
            m.name,
            m.breaking,
          ])
          await c.query('COMMIT')
        } catch (e) {
          await c.query('ROLLBACK')
          throw e
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
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
    const col = <K extends keyof (typeof all)[number]>(k: K) => all.map((e) => e[k])
    const plan = this.engine.planRouting(all)
    // A small group with nothing to route to a workflow, no audit rows of its own and no raw
    // delivery to settle (translatedFrom: settled in the transactional path): one round trip.
    if (
      all.length <= ONE_TRIP_MAX_EVENTS &&
      own.length === 0 &&
      requests.every((r) => r.translatedFrom === undefined) &&
      [...plan.targets.values()].every((t) => t.length === 0)
    )
      return appendInOneTrip((sql) => this.pool.query(sql), requests, plan)
    return this.tx(async (c) => {
      // One statement for the whole group: the routing locks first (the lk init plan runs before
      // the first row is inserted; a round trip less than a statement of their own), then the
      // rows; duplicates (also within the group) are skipped. The database clock is read once
      // (an init plan) and returned with the rows.
      const inserted = await c.query(
        `WITH lk AS MATERIALIZED (${lockAllSql('$12', '$13')})
         INSERT INTO events (plant, source, id, type, subject, time, correlation_id, causation_id, source_sequence,
           data_hash, envelope, recorded_at_ms)
         SELECT p, s, i, t, su, ti, co, ca, sq, h, e::jsonb, (SELECT ${NOW_MS})
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::bigint[], $10::text[], $11::text[]) AS u(p, s, i, t, su, ti, co, ca, sq, h, e)
          WHERE (SELECT count(*) FROM lk) >= 0
         ON CONFLICT (source, id) DO NOTHING RETURNING seq, source, id, recorded_at_ms`,
        [
          col('plant'),
          col('source'),
          col('id'),
          col('type'),
          col('subject'),
          col('time'),
          col('correlationId'),
          col('causationId'),
          col('sourceSequence'),
          col('dataHash'),
          col('envelopeJson'),
          plan.keys,
          plan.shared,
        ],
      )
      const fresh = new Map<string, number>()
      for (const r of inserted.rows) fresh.set(`${r.source}\u0000${r.id}`, Number(r.seq))
      // every row a duplicate: no clock came back, and the requests' own audit rows still need one
      const now =
        inserted.rows.length > 0
          ? Number(inserted.rows[0].recorded_at_ms)
          : own.length > 0
            ? Number((await c.query(`SELECT ${NOW_MS} AS now`)).rows[0].now)
            : 0
      const missing = all.filter((e) => !fresh.has(`${e.source}\u0000${e.id}`))
      const existing = new Map<string, { seq: number; correlationId: string }>()
      if (missing.length > 0) {
        const found = await c.query(
          `SELECT e.seq, e.source, e.id, e.correlation_id FROM events e
             JOIN unnest($1::text[], $2::text[]) AS u(s, i) ON e.source = u.s AND e.id = u.i`,
          [missing.map((e) => e.source), missing.map((e) => e.id)],
        )
        for (const r of found.rows)
          existing.set(`${r.source}\u0000${r.id}`, { seq: Number(r.seq), correlationId: r.correlation_id })
      }
      const audits: AuditEntry[] = []
      const results = requests.map((req) =>
        req.events.map((e): AppendResult => {
          const key = `${e.source}\u0000${e.id}`
          const seq = fresh.get(key)
          if (seq !== undefined) {
            fresh.delete(key) // a second copy in the same group is a duplicate of this one
            existing.set(key, { seq, correlationId: e.correlationId })
            audits.push({
              plant: e.plant,
              actor: req.actor,
              action: 'event.ingested',
              subject: e.subject ?? `event:${e.id}`,
              correlationId: e.correlationId,
              payload: ingestAuditPayload({ ...e, seq }),
            })
            return { id: e.id, source: e.source, seq, correlationId: e.correlationId, duplicate: false }
          }
          const orig = existing.get(key)
          if (!orig) throw new Error(`event ${e.source}/${e.id} neither inserted nor found`)
          return {
            id: e.id,
            source: e.source,
            seq: orig.seq,
            correlationId: orig.correlationId,
            duplicate: true,
          }
        }),
      )
      await settleTranslated(c, requests, results)
      audits.push(...own)
      if (audits.length === 0) return results
      const stored = requests.flatMap((req, ri) =>
        req.events.flatMap((e, i) => (results[ri]![i]!.duplicate ? [] : [{ e, seq: results[ri]![i]!.seq }])),
      )
      // the audit rows ride on the wait-matching statement when there is one
      const audit = { ctes: auditCtes, params: auditParams(now, audits) }
      if (!(await this.engine.routeBatchInTx(c, now, stored, plan, audit)))
        await this.writeAudit(c, now, audits)
      return results
    })
  }

  /** One statement: the audit rows and their payloads (auditCtes). */
  private async writeAudit(c: pg.PoolClient, now: number, entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return
    await c.query(`WITH ${auditCtes(0)} SELECT count(*) FROM audit_u`, auditParams(now, entries))
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    await this.tx(async (c) => {
      const now = Number((await c.query(`SELECT ${NOW_MS} AS now`)).rows[0].now)
      await this.writeAudit(c, now, entries)
    })
  }

  async getEvent(scope: Scope, id: string): Promise<StoredEvent | undefined> {
    const sc = scopeClause(scope, 'plant', dollar, 1)
    const r = await this.pool.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1 AND ${sc.sql} ORDER BY seq LIMIT 1`,
      [id, ...sc.params],
    )
    return r.rows[0] ? toEvent(r.rows[0]) : undefined
  }

  async getEventBySeq(scope: Scope, seq: number): Promise<StoredEvent | undefined> {
    const sc = scopeClause(scope, 'plant', dollar, 1)
    const r = await this.pool.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1 AND ${sc.sql}`, [
      seq,
      ...sc.params,
    ])
    return r.rows[0] ? toEvent(r.rows[0]) : undefined
  }

  async listEvents(scope: Scope, f: EventFilter): Promise<StoredEvent[]> {
    const params: unknown[] = [f.afterSeq ?? 0]
    const sc = scopeClause(scope, 'plant', dollar, 1)
    params.push(...sc.params)
    const where = ['seq > $1', sc.sql]
    if (f.type) {
      params.push(f.type)
      where.push(`type = $${params.length}`)
    }
    if (f.subject) {
      params.push(f.subject)
      where.push(`subject = $${params.length}`)
    }
    params.push(f.limit)
    const r = await this.pool.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
      params,
    )
    return r.rows.map(toEvent)
  }

  async eventCounts(scope: Scope) {
    const sc = scopeClause(scope, 'plant', dollar, 0)
    const r = await this.pool.query(
      `SELECT plant, type, COUNT(*)::bigint AS count FROM events WHERE ${sc.sql} GROUP BY plant, type ORDER BY plant, type`,
      sc.params,
    )
    return r.rows.map((x) => ({ plant: String(x.plant), type: String(x.type), count: Number(x.count) }))
  }

  async tailEvents(scope: Scope, cursor: LogCursor, limit: number) {
    const sc = scopeClause(scope, 'plant', dollar, 3)
    const r = await this.pool.query(
      `SELECT ${EVENT_COLUMNS}, txid::text AS txid_text FROM events
        WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < ${WATERMARK} AND ${sc.sql}
        ORDER BY txid, seq LIMIT $3`,
      [cursor.txid, cursor.seq, limit, ...sc.params],
    )
    const last = r.rows.at(-1)
    return {
      events: r.rows.map(toEvent),
      cursor: last ? { txid: String(last.txid_text), seq: Number(last.seq) } : cursor,
    }
  }

  async insertRawDelivery(d: RawDelivery): Promise<{ seq: number; duplicate: boolean }> {
    const hash = createHash('sha256').update(d.body).digest('hex')
    const r = await this.pool.query(
      `INSERT INTO raw_deliveries (plant, source, delivery_id, headers, body, body_hash, received_at_ms, next_attempt_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, ${NOW_MS}, ${NOW_MS}) ON CONFLICT (source, delivery_id) DO NOTHING RETURNING seq`,
      [d.plant, d.source, d.deliveryId, JSON.stringify(d.headers), d.body, hash],
    )
    if (r.rows[0]) return { seq: Number(r.rows[0].seq), duplicate: false }
    const orig = await this.pool.query(
      'SELECT seq FROM raw_deliveries WHERE source = $1 AND delivery_id = $2',
      [d.source, d.deliveryId],
    )
    return { seq: Number(orig.rows[0].seq), duplicate: true }
  }

  async getRawDelivery(scope: Scope, seq: number): Promise<StoredRawDelivery | undefined> {
    const sc = scopeClause(scope, 'plant', dollar, 1)
    const r = await this.pool.query(`SELECT * FROM raw_deliveries WHERE seq = $1 AND ${sc.sql}`, [
      seq,
      ...sc.params,
    ])
    return r.rows[0] ? toRawDelivery(r.rows[0]) : undefined
  }

  async listAudit(
    scope: Scope,
    f: { subject?: string; action?: string; limit: number },
  ): Promise<AuditRow[]> {
    const sc = scopeClause(scope, 'plant', dollar, 0)
    const where = [sc.sql]
    const params: unknown[] = [...sc.params]
    if (f.subject !== undefined) {
      params.push(f.subject)
      where.push(`subject = $${params.length}`)
    }
    if (f.action !== undefined) {
      params.push(f.action)
      where.push(`action = $${params.length}`)
    }
    params.push(f.limit)
    const r = await this.pool.query(
      `SELECT ${AUDIT_COLUMNS.replace('txid', 'txid::text AS txid')} FROM audit_log WHERE ${where.join(' AND ')}
        ORDER BY seq LIMIT $${params.length}`,
      params,
    )
    return r.rows.map(toAuditRow)
  }

  async readUnsealedAudit(limit: number): Promise<AuditRow[]> {
    const head = await this.chainHead()
    const r = await this.pool.query(
      // ORDER BY names the table's xid8 column: a bare `txid` would be the text alias of the
      // select list, sorted as strings ('1001' < '999'), and chain rows out of order.
      `SELECT ${AUDIT_COLUMNS.replace('txid', 'txid::text AS txid')} FROM audit_log
        WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < ${WATERMARK}
        ORDER BY audit_log.txid, audit_log.seq LIMIT $3`,
      [head?.auditTxid ?? '0', head?.auditSeq ?? 0, limit],
    )
    return r.rows.map(toAuditRow)
  }

  async chainHead(): Promise<ChainLink | undefined> {
    const r = await this.pool.query(
      'SELECT pos, audit_seq, audit_txid::text AS audit_txid, prev_hash, hash FROM audit_chain ORDER BY pos DESC LIMIT 1',
    )
    const h = r.rows[0]
    return h
      ? {
          pos: Number(h.pos),
          auditSeq: Number(h.audit_seq),
          auditTxid: String(h.audit_txid),
          prevHash: h.prev_hash,
          hash: h.hash,
        }
      : undefined
  }

  async appendChain(links: readonly ChainLink[], lease: Lease): Promise<boolean> {
    return this.tx(async (c) => {
      // Fenced: the lease row is locked and checked in the same transaction as the write.
      const held = await c.query(
        `SELECT 1 FROM leases WHERE name = $1 AND token = $2 AND expires_at_ms > ${NOW_MS} FOR UPDATE`,
        [lease.name, lease.token],
      )
      if (held.rowCount === 0) return false
      await c.query(
        `INSERT INTO audit_chain (pos, audit_seq, audit_txid, prev_hash, hash, sealed_at_ms)
         SELECT p, s, x::xid8, ph, h, ${NOW_MS}
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(p, s, x, ph, h)`,
        [
          links.map((l) => l.pos),
          links.map((l) => l.auditSeq),
          links.map((l) => l.auditTxid),
          links.map((l) => l.prevHash),
          links.map((l) => l.hash),
        ],
      )
      return true
    })
  }

  async readChain(fromPos: number, limit: number): Promise<ChainRecord[]> {
    const r = await this.pool.query(
      `${CHAIN_SELECT.replace('c.audit_txid', 'c.audit_txid::text AS audit_txid').replace('a.txid', 'a.txid::text AS txid')}
        WHERE c.pos >= $1 ORDER BY c.pos LIMIT $2`,
      [fromPos, limit],
    )
    return r.rows.map(toChainRecord)
  }

  async countUnsealedAudit(): Promise<number> {
    const head = await this.chainHead()
    const r = await this.pool.query(
      'SELECT COUNT(*)::bigint AS n FROM audit_log WHERE (txid, seq) > ($1::text::xid8, $2::bigint)',
      [head?.auditTxid ?? '0', head?.auditSeq ?? 0],
    )
    return Number(r.rows[0].n)
  }

  async maxAuditSeq(): Promise<number> {
    return Number((await this.pool.query('SELECT COALESCE(MAX(seq), 0) AS m FROM audit_log')).rows[0].m)
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    const r = await this.pool.query(
      `INSERT INTO leases (name, owner, token, expires_at_ms) VALUES ($1, $2, 1, ${NOW_MS} + $3)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = leases.token + 1,
         expires_at_ms = excluded.expires_at_ms
       WHERE leases.expires_at_ms <= ${NOW_MS} OR leases.owner = excluded.owner
       RETURNING name, owner, token, expires_at_ms`,
      [name, owner, ttlMs],
    )
    return r.rows[0] ? toLease(r.rows[0]) : undefined
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    const r = await this.pool.query(
      `UPDATE leases SET expires_at_ms = ${NOW_MS} + $1 WHERE name = $2 AND token = $3 AND expires_at_ms > ${NOW_MS}
       RETURNING name, owner, token, expires_at_ms`,
      [ttlMs, lease.name, lease.token],
    )
    return r.rows[0] ? toLease(r.rows[0]) : undefined
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.pool.query('UPDATE leases SET expires_at_ms = 0 WHERE name = $1 AND token = $2', [
      lease.name,
      lease.token,
    ])
  }

  /** For tests and tools that need raw SQL (tamper simulation, fixtures). */
  rawPool(): pg.Pool {
    return this.pool
  }

  /**
   * Ends the pool. pool.end() waits for every checked-out client; one that is never released
   * (a statement that does not return) would hold close() forever. After the grace, each such
   * client is named with its last statement (a process warning) and its connection ended, which
   * fails its statement; close() then waits one more grace and returns regardless.
   */
  async close(): Promise<void> {
    const ended = this.pool.end()
    if (await settlesWithin(ended, this.closeGraceMs)) return
    const now = Date.now()
    for (const [c, since] of this.checkedOut) {
      const last = (c as unknown as PreparingClient).lastStatement
      process.emitWarning(
        `PostgreSQL connection checked out ${now - since} ms was not released at close; ending it. ` +
          `Last statement (${last ? now - last.atMs : '?'} ms ago): ${last?.text.slice(0, 300) ?? 'none'}`,
        'QualinkShutdownWarning',
      )
      void (c as unknown as pg.Client).end().catch(() => {})
    }
    await settlesWithin(ended, this.closeGraceMs)
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

function toLease(r: Row): Lease {
  return {
    name: String(r.name),
    owner: String(r.owner),
    token: Number(r.token),
    expiresAtMs: Number(r.expires_at_ms),
  }
}

/** true when `p` settled (either way) within `ms` */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** The raw deliveries a group's requests were translated from (AppendRequest.translatedFrom), settled in one statement. */
async function settleTranslated(
  c: pg.PoolClient,
  requests: readonly AppendRequest[],
  results: readonly AppendResult[][],
): Promise<void> {
  const settled = requests.flatMap((r, i) =>
    r.translatedFrom === undefined ? [] : [{ seq: r.translatedFrom, eventSeq: results[i]![0]?.seq ?? null }],
  )
  if (settled.length === 0) return
  await c.query(
    `UPDATE raw_deliveries r SET status = 'translated', event_seq = u.event_seq, parked_on = NULL,
       last_error_code = NULL, last_error = NULL
      FROM unnest($1::bigint[], $2::bigint[]) AS u(seq, event_seq) WHERE r.seq = u.seq`,
    [settled.map((x) => x.seq), settled.map((x) => x.eventSeq)],
  )
}

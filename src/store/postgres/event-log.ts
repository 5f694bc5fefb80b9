import { createHash } from 'node:crypto'
import type pg from 'pg'
import { EVENT_COLUMNS, ingestAuditPayload, toEvent, toRawDelivery } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type {
  AppendEvent,
  AppendRequest,
  AppendResult,
  AuditEntry,
  EventFilter,
  LogCursor,
  RawDelivery,
  Scope,
  StoredEvent,
  StoredRawDelivery,
} from '../types.ts'
import { writeAudit } from './audit-log.ts'
import { auditCtes, auditParams } from './audit-sql.ts'
import { dollar, NOW_MS, WATERMARK } from './clock.ts'
import { lockAllSql, type PostgresEngine, type RoutingPlan } from './engine.ts'

/** The event log and the raw deliveries it is translated from, on PostgreSQL. */

/**
 * The transactional path of appendEvents (PostgresStore.appendEvents), inside its transaction:
 * insert, duplicates looked up, raw deliveries settled, waits matched and events routed, audit.
 */
export async function appendGroupInTx(
  c: pg.PoolClient,
  engine: PostgresEngine,
  requests: readonly AppendRequest[],
  all: readonly AppendEvent[],
  own: readonly AuditEntry[],
  plan: RoutingPlan,
): Promise<AppendResult[][]> {
  const col = <K extends keyof AppendEvent>(k: K) => all.map((e) => e[k])
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
  if (!(await engine.routeBatchInTx(c, now, stored, plan, audit))) await writeAudit(c, now, audits)
  return results
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

export async function getEvent(pool: pg.Pool, scope: Scope, id: string): Promise<StoredEvent | undefined> {
  const sc = scopeClause(scope, 'plant', dollar, 1)
  const r = await pool.query(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1 AND ${sc.sql} ORDER BY seq LIMIT 1`,
    [id, ...sc.params],
  )
  return r.rows[0] ? toEvent(r.rows[0]) : undefined
}

export async function getEventBySeq(
  pool: pg.Pool,
  scope: Scope,
  seq: number,
): Promise<StoredEvent | undefined> {
  const sc = scopeClause(scope, 'plant', dollar, 1)
  const r = await pool.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1 AND ${sc.sql}`, [
    seq,
    ...sc.params,
  ])
  return r.rows[0] ? toEvent(r.rows[0]) : undefined
}

export async function listEvents(pool: pg.Pool, scope: Scope, f: EventFilter): Promise<StoredEvent[]> {
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
  const r = await pool.query(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
    params,
  )
  return r.rows.map(toEvent)
}

export async function eventCounts(pool: pg.Pool, scope: Scope) {
  const sc = scopeClause(scope, 'plant', dollar, 0)
  const r = await pool.query(
    `SELECT plant, type, COUNT(*)::bigint AS count FROM events WHERE ${sc.sql} GROUP BY plant, type ORDER BY plant, type`,
    sc.params,
  )
  return r.rows.map((x) => ({ plant: String(x.plant), type: String(x.type), count: Number(x.count) }))
}

export async function tailEvents(pool: pg.Pool, scope: Scope, cursor: LogCursor, limit: number) {
  const sc = scopeClause(scope, 'plant', dollar, 3)
  const r = await pool.query(
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

export async function insertRawDelivery(
  pool: pg.Pool,
  d: RawDelivery,
): Promise<{ seq: number; duplicate: boolean }> {
  const hash = createHash('sha256').update(d.body).digest('hex')
  const r = await pool.query(
    `INSERT INTO raw_deliveries (plant, source, delivery_id, headers, body, body_hash, received_at_ms, next_attempt_at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, ${NOW_MS}, ${NOW_MS}) ON CONFLICT (source, delivery_id) DO NOTHING RETURNING seq`,
    [d.plant, d.source, d.deliveryId, JSON.stringify(d.headers), d.body, hash],
  )
  if (r.rows[0]) return { seq: Number(r.rows[0].seq), duplicate: false }
  const orig = await pool.query('SELECT seq FROM raw_deliveries WHERE source = $1 AND delivery_id = $2', [
    d.source,
    d.deliveryId,
  ])
  return { seq: Number(orig.rows[0].seq), duplicate: true }
}

export async function getRawDelivery(
  pool: pg.Pool,
  scope: Scope,
  seq: number,
): Promise<StoredRawDelivery | undefined> {
  const sc = scopeClause(scope, 'plant', dollar, 1)
  const r = await pool.query(`SELECT * FROM raw_deliveries WHERE seq = $1 AND ${sc.sql}`, [seq, ...sc.params])
  return r.rows[0] ? toRawDelivery(r.rows[0]) : undefined
}

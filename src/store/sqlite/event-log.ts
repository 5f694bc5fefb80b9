import { createHash } from 'node:crypto'
import type Database from 'better-sqlite3'
import { EVENT_COLUMNS, ingestAuditPayload, toEvent, toRawDelivery } from '../rows.ts'
import { scopeClause } from '../scope-sql.ts'
import type {
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
import type { Read } from './audit-log.ts'
import { NOW_MS, q } from './clock.ts'
import type { SqliteEngine } from './engine.ts'

type Row = Record<string, unknown>

/**
 * The event log and the raw deliveries it is translated from, on SQLite; statements prepared
 * once, when the store opens. Every write is one IMMEDIATE transaction on the connection that
 * owns the file, routing included (SqliteEngine.routeInTx).
 */
export function sqliteEventLog(
  db: Database.Database,
  engine: SqliteEngine,
  writeAudit: (now: number, a: AuditEntry) => void,
  read: Read,
) {
  const st = {
    now: db.prepare(`SELECT ${NOW_MS} AS now`),
    insertEvent:
      db.prepare(`INSERT INTO events (plant, source, id, type, subject, time, correlation_id, causation_id,
      source_sequence, data_hash, envelope, recorded_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (source, id) DO NOTHING RETURNING seq`),
    findEvent: db.prepare('SELECT seq, correlation_id FROM events WHERE source = ? AND id = ?'),
    settleTranslated:
      db.prepare(`UPDATE raw_deliveries SET status = 'translated', event_seq = ?, parked_on = NULL,
      last_error_code = NULL, last_error = NULL WHERE seq = ?`),
    insertRaw: db.prepare(`INSERT INTO raw_deliveries (plant, source, delivery_id, headers, body, body_hash,
      received_at_ms, next_attempt_at_ms) VALUES (?, ?, ?, ?, ?, ?, ${NOW_MS}, ${NOW_MS})
      ON CONFLICT (source, delivery_id) DO NOTHING RETURNING seq`),
    findRaw: db.prepare('SELECT seq FROM raw_deliveries WHERE source = ? AND delivery_id = ?'),
  }

  const appendTx = db.transaction((reqs: readonly AppendRequest[]) => {
    const now = (st.now.get() as { now: number }).now
    const matchWaits = engine.hasWaitingEventWaits()
    return reqs.map((req) => {
      const results = req.events.map((e): AppendResult => {
        const inserted = st.insertEvent.get(
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
          const orig = st.findEvent.get(e.source, e.id) as { seq: number; correlation_id: string }
          return {
            id: e.id,
            source: e.source,
            seq: orig.seq,
            correlationId: orig.correlation_id,
            duplicate: true,
          }
        }
        engine.routeInTx(now, e, inserted.seq, matchWaits)
        const payload = ingestAuditPayload({ ...e, seq: inserted.seq })
        writeAudit(now, {
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
      for (const a of req.audit ?? []) writeAudit(now, a)
      if (req.translatedFrom !== undefined)
        st.settleTranslated.run(results[0]?.seq ?? null, req.translatedFrom)
      return results
    })
  })

  const listEvents = async (scope: Scope, f: EventFilter): Promise<StoredEvent[]> => {
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
    const rows = await read(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
      params,
    )
    return rows.map(toEvent)
  }

  return {
    append(requests: readonly AppendRequest[]): AppendResult[][] {
      return appendTx.immediate(requests)
    },

    getEvent(scope: Scope, id: string): StoredEvent | undefined {
      const sc = scopeClause(scope, 'plant', q, 0)
      const rows = db
        .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ? AND ${sc.sql} ORDER BY seq LIMIT 1`)
        .all(id, ...sc.params) as Row[]
      return rows[0] ? toEvent(rows[0]) : undefined
    },

    getEventBySeq(scope: Scope, seq: number): StoredEvent | undefined {
      const sc = scopeClause(scope, 'plant', q, 0)
      const rows = db
        .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ? AND ${sc.sql}`)
        .all(seq, ...sc.params) as Row[]
      return rows[0] ? toEvent(rows[0]) : undefined
    },

    listEvents,

    async eventCounts(scope: Scope) {
      const sc = scopeClause(scope, 'plant', q, 0)
      const rows = await read(
        `SELECT plant, type, COUNT(*) AS count FROM events WHERE ${sc.sql} GROUP BY plant, type ORDER BY plant, type`,
        sc.params,
      )
      return rows.map((r) => ({ plant: String(r.plant), type: String(r.type), count: Number(r.count) }))
    },

    async tailEvents(scope: Scope, cursor: LogCursor, limit: number) {
      const events = await listEvents(scope, { afterSeq: cursor.seq, limit })
      const last = events.at(-1)
      return { events, cursor: last ? { txid: '0', seq: last.seq } : cursor }
    },

    insertRawDelivery(d: RawDelivery): { seq: number; duplicate: boolean } {
      const hash = createHash('sha256').update(d.body).digest('hex')
      const row = st.insertRaw.get(
        d.plant,
        d.source,
        d.deliveryId,
        JSON.stringify(d.headers),
        d.body,
        hash,
      ) as { seq: number } | undefined
      if (row) return { seq: row.seq, duplicate: false }
      const orig = st.findRaw.get(d.source, d.deliveryId) as { seq: number }
      return { seq: orig.seq, duplicate: true }
    },

    getRawDelivery(scope: Scope, seq: number): StoredRawDelivery | undefined {
      const sc = scopeClause(scope, 'plant', q, 0)
      const rows = db
        .prepare(`SELECT * FROM raw_deliveries WHERE seq = ? AND ${sc.sql}`)
        .all(seq, ...sc.params) as Row[]
      return rows[0] ? toRawDelivery(rows[0]) : undefined
    },
  }
}

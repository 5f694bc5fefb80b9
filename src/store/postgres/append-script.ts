import pg from 'pg'
import { typeFamily } from '../engine-rows.ts'
import type { AppendRequest, AppendResult } from '../types.ts'
import { lockAllSql, type RoutingPlan, WAIT_MATCH_CTES } from './engine.ts'

const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint'

/**
 * The ingest audit row's payload hash computed in SQL: SHA-256 (hex) of the canonical JSON of
 * ingestAuditPayload (rows.ts), keys sorted: {"dataHash","id","seq","source","type"}. The seq is
 * drawn by the insert, so the hash cannot be taken in JS before the statement. `to_json(text)`
 * escapes a string as JSON.stringify does (`"`, `\`, \b \f \n \r \t, other controls as lowercase
 * \u00XX, everything else verbatim: PostgreSQL's escape_json,
 * https://www.postgresql.org/docs/15/functions-json.html); append-script.test.ts pins the digest
 * against hashCanonical for strings that need escaping.
 */
const PAYLOAD_HASH = `encode(sha256(convert_to(
  '{"dataHash":' || to_json(data_hash)::text || ',"id":' || to_json(id)::text || ',"seq":' || seq::text ||
  ',"source":' || to_json(source)::text || ',"type":' || to_json(type)::text || '}', 'UTF8')), 'hex')`

/**
 * Largest group written in one round trip. Above it the transactional path (array parameters,
 * prepared statements) is cheaper: its four round trips are shared by many events, while
 * escaping a large group into literals (pg.escapeLiteral walks every character) and parsing them
 * grows with the group. Measured A/B on batches of 100 (bench/README.md, below "Kernel I:
 * ingest"): the one-trip form for every group cost ~15–20 % of (b)'s throughput.
 */
export const ONE_TRIP_MAX_EVENTS = 32

const lit = (v: string): string => pg.escapeLiteral(v)

function int(v: number | null): string | null {
  if (v === null) return null
  if (!Number.isSafeInteger(v)) throw new Error(`source sequence ${v} is not a safe integer`)
  return String(v)
}

/**
 * A PostgreSQL array literal as an SQL string constant: each element double-quoted with `\` and
 * `"` backslash-escaped, NULL unquoted (https://www.postgresql.org/docs/15/arrays.html#ARRAYS-IO),
 * the whole escaped as a literal.
 */
function arrayLiteral(values: readonly (string | null)[]): string {
  let out = '{'
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (i > 0) out += ','
    out += v === null ? 'NULL' : `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`
  }
  return pg.escapeLiteral(`${out}}`)
}

/**
 * The group's whole write in ONE round trip: a multi-statement simple query, which PostgreSQL
 * runs as one implicit transaction (committed after the last statement, rolled back whole on
 * any error, a deferred constraint's included; https://www.postgresql.org/docs/15/protocol-flow.html,
 * "Multiple Statements in a Simple Query"), each statement with a fresh READ COMMITTED snapshot.
 * The former path sent BEGIN, the insert, the wait match (carrying the audit rows) and COMMIT as
 * four round trips; a socket write and a protocol exchange each is what a per-event transaction
 * spent its time on (CPU profile of the ingest benchmark, bench/README.md "Kernel I: ingest").
 *
 *   1. routing locks (taken before the first row, as before) + insert, ON CONFLICT DO NOTHING,
 *      + the `event.ingested` audit rows and payloads drawn from the inserted rows (RETURNING),
 *      their payload hash computed in SQL (PAYLOAD_HASH);
 *   2. (events with a subject) the wait match, as PostgresEngine.matchWaits, over this
 *      transaction's new rows: its snapshot is taken after statement 1 holds the wait locks, so a
 *      wait registered concurrently is either seen here or sees the event (the same argument
 *      as the multi-round-trip path);
 *   3. the original seq of each duplicate: ON CONFLICT waited for a concurrent inserter's
 *      commit, so this statement's snapshot sees its row.
 *
 * Values travel as escaped literals (pg.escapeLiteral: quotes doubled, backslashes in an E''
 * string), since a simple query carries no parameters. Only for groups with nothing to route
 * to a workflow and no business audit rows of their own; those take the transactional path.
 */
export async function appendInOneTrip(
  query: (sql: string) => Promise<pg.QueryResult | pg.QueryResult[]>,
  requests: readonly AppendRequest[],
  plan: RoutingPlan,
): Promise<AppendResult[][]> {
  const all = requests.flatMap((r) => r.events.map((e) => ({ e, actor: r.actor })))
  const col = (f: (x: (typeof all)[number]) => string | null) => arrayLiteral(all.map(f))
  const ev = col(({ e }) => e.source)
  const id = col(({ e }) => e.id)
  // One array literal per column, a single constant each: with a VALUES row per event, batches
  // of 100 were measured slower than the multi-round-trip path (bench/README.md, the A/B below
  // "Kernel I: ingest"); the wait match and the duplicate lookup read only the keys.
  const u = `u(p, s, i, t, su, ti, co, ca, sq, h, e, a, o) AS (SELECT * FROM unnest(
       ${col(({ e }) => e.plant)}::text[], ${ev}::text[], ${id}::text[], ${col(({ e }) => e.type)}::text[],
       ${col(({ e }) => e.subject)}::text[], ${col(({ e }) => e.time)}::text[], ${col(({ e }) => e.correlationId)}::text[],
       ${col(({ e }) => e.causationId)}::text[], ${col(({ e }) => int(e.sourceSequence))}::bigint[],
       ${col(({ e }) => e.dataHash)}::text[], ${col(({ e }) => e.envelopeJson)}::text[], ${col(({ actor }) => actor)}::text[])
       WITH ORDINALITY)`
  const keysOnly = `k(s, i, f) AS (SELECT * FROM unnest(${ev}::text[], ${id}::text[], ${col(({ e }) => typeFamily(e.type))}::text[]))`
  const keys = `ARRAY[${plan.keys.map(lit).join(',')}]::text[]`
  const shared = `ARRAY[${plan.shared.map((s) => (s ? 'true' : 'false')).join(',')}]::boolean[]`
  const statements = [
    `WITH ${u},
     lk AS MATERIALIZED (${lockAllSql(keys, shared)}),
     ins AS (
       INSERT INTO events (plant, source, id, type, subject, time, correlation_id, causation_id, source_sequence,
         data_hash, envelope, recorded_at_ms)
       SELECT p, s, i, t, su, ti, co, ca, sq, h, e::jsonb, (SELECT ${NOW_MS}) FROM u
        WHERE (SELECT count(*) FROM lk) >= 0 ORDER BY o
       ON CONFLICT (source, id) DO NOTHING
       RETURNING seq, plant, source, id, type, subject, correlation_id, data_hash, recorded_at_ms),
     firsts AS (SELECT DISTINCT ON (s, i) o, s, i, a FROM u ORDER BY s, i, o),
     audit_u AS MATERIALIZED (
       SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) AS audit_seq, ins.*, firsts.a
         FROM ins JOIN firsts ON firsts.s = ins.source AND firsts.i = ins.id ORDER BY firsts.o),
     audit_rows AS (
       INSERT INTO audit_log (seq, plant, at_ms, actor, action, subject, correlation_id, payload_hash)
       SELECT audit_seq, plant, recorded_at_ms, a, 'event.ingested', COALESCE(subject, 'event:' || id),
              correlation_id, ${PAYLOAD_HASH}
         FROM audit_u),
     audit_pl AS (
       INSERT INTO audit_payloads (audit_seq, payload)
       SELECT audit_seq, jsonb_build_object('seq', seq, 'type', type, 'source', source, 'id', id, 'dataHash', data_hash)
         FROM audit_u)
     SELECT seq, source, id FROM ins`,
  ]
  if (all.some(({ e }) => e.subject !== null))
    statements.push(`WITH ${keysOnly},
     ev AS (
       SELECT ev.seq, k.f AS family, ev.subject, ev.plant, ev.recorded_at_ms FROM events ev
         JOIN k ON ev.source = k.s AND ev.id = k.i
        WHERE ev.txid = pg_current_xact_id_if_assigned() AND ev.subject IS NOT NULL),
     ${WAIT_MATCH_CTES},
     woken AS (
       UPDATE run_waits w SET status = 'matched', event_seq = m.seq FROM m
        WHERE w.run_id = m.run_id AND w.position = m.position AND w.status = 'waiting'
       RETURNING w.run_id)
     UPDATE workflow_runs SET due_at_ms = (SELECT max(recorded_at_ms) FROM ev), updated_at_ms = (SELECT max(recorded_at_ms) FROM ev)
      WHERE id IN (SELECT run_id FROM woken) AND status = 'waiting'`)
  statements.push(`WITH ${keysOnly}
     SELECT e.seq, e.source, e.id, e.correlation_id FROM events e JOIN k ON e.source = k.s AND e.id = k.i
      WHERE e.txid IS DISTINCT FROM pg_current_xact_id_if_assigned()`)
  const out = await query(statements.join(';\n'))
  const results = Array.isArray(out) ? out : [out]
  const fresh = new Map<string, number>()
  for (const r of results[0]!.rows) fresh.set(`${r.source}\u0000${r.id}`, Number(r.seq))
  const existing = new Map<string, { seq: number; correlationId: string }>()
  for (const r of results.at(-1)!.rows)
    existing.set(`${r.source}\u0000${r.id}`, { seq: Number(r.seq), correlationId: String(r.correlation_id) })
  return requests.map((req) =>
    req.events.map((e): AppendResult => {
      const key = `${e.source}\u0000${e.id}`
      const seq = fresh.get(key)
      if (seq !== undefined) {
        fresh.delete(key) // a second copy in the same group is a duplicate of this one
        existing.set(key, { seq, correlationId: e.correlationId })
        return { id: e.id, source: e.source, seq, correlationId: e.correlationId, duplicate: false }
      }
      const orig = existing.get(key)
      if (!orig) throw new Error(`event ${e.source}/${e.id} neither inserted nor found`)
      return { id: e.id, source: e.source, seq: orig.seq, correlationId: orig.correlationId, duplicate: true }
    }),
  )
}

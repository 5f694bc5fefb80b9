-- qualink:breaking=false
-- The ingest write of a group with nothing to route to a workflow (store/postgres/
-- append-script.ts) as one function: one round trip (`SELECT … FROM qlk_append_events(...)`, a
-- prepared statement with array parameters) whose three statements PL/pgSQL plans once per
-- connection. The same three statements were sent before as one multi-statement simple query,
-- values escaped into literals, and so parsed and planned on every call: about 0.5 ms of server CPU
-- per transaction on a near-empty database (EXPLAIN (ANALYZE, SUMMARY), 2026-11-29), the larger part
-- of a one-event transaction's server time.
--
-- A VOLATILE function takes a fresh snapshot for each statement it runs ("VOLATILE functions obtain
-- a fresh snapshot at the start of each query they execute", https://www.postgresql.org/docs/15/
-- xfunc-volatility.html), as the statements of the multi-statement query did, and the whole call is
-- one implicit transaction: committed after it, rolled back whole on any error.
--   1. the routing locks (taken before the first row) + the insert, ON CONFLICT DO NOTHING, + the
--      `event.ingested` audit rows and payloads drawn from the inserted rows, their payload hash
--      computed here: SHA-256 (hex) of the canonical JSON of ingestAuditPayload (store/rows.ts),
--      keys sorted; `to_json(text)` escapes a string as JSON.stringify does (PostgreSQL's
--      escape_json); test/kernel/append-one-trip.test.ts pins the digest against hashCanonical;
--   2. (events with a subject) the wait match over this transaction's new rows: its snapshot is
--      taken after statement 1 holds the wait locks, so a wait registered concurrently is either
--      seen here or sees the event;
--   3. the original seq of each duplicate: ON CONFLICT waited for a concurrent inserter's commit,
--      so this statement's snapshot sees its row.
-- The lock statement and the wait-match CTEs are the code's (lockAllSql, WAIT_MATCH_CTES in
-- store/postgres/); a test checks this body still contains both.
CREATE OR REPLACE FUNCTION qlk_append_events(
  p_plant text[], p_source text[], p_id text[], p_type text[], p_subject text[], p_time text[],
  p_correlation text[], p_causation text[], p_sequence bigint[], p_hash text[], p_envelope text[],
  p_actor text[], p_family text[], p_lock_keys text[], p_lock_shared boolean[])
RETURNS TABLE (r_fresh boolean, r_seq bigint, r_source text, r_id text, r_correlation text)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH u(p, s, i, t, su, ti, co, ca, sq, h, e, a, o) AS (
         SELECT * FROM unnest(p_plant, p_source, p_id, p_type, p_subject, p_time, p_correlation,
           p_causation, p_sequence, p_hash, p_envelope, p_actor) WITH ORDINALITY),
       lk AS MATERIALIZED (
         SELECT CASE WHEN s THEN pg_advisory_xact_lock_shared(hashtextextended(k, 7162))
                   ELSE pg_advisory_xact_lock(hashtextextended(k, 7162)) END
             FROM unnest(p_lock_keys::text[], p_lock_shared::boolean[]) AS u(k, s) ORDER BY k),
       ins AS (
         INSERT INTO events (plant, source, id, type, subject, time, correlation_id, causation_id,
           source_sequence, data_hash, envelope, recorded_at_ms)
         SELECT p, s, i, t, su, ti, co, ca, sq, h, e::jsonb,
                (SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint) FROM u
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
                correlation_id,
                encode(sha256(convert_to(
                  '{"dataHash":' || to_json(data_hash)::text || ',"id":' || to_json(id)::text ||
                  ',"seq":' || seq::text || ',"source":' || to_json(source)::text ||
                  ',"type":' || to_json(type)::text || '}', 'UTF8')), 'hex')
           FROM audit_u),
       audit_pl AS (
         INSERT INTO audit_payloads (audit_seq, payload)
         SELECT audit_seq, jsonb_build_object('seq', seq, 'type', type, 'source', source, 'id', id, 'dataHash', data_hash)
           FROM audit_u)
  SELECT true, ins.seq, ins.source, ins.id, ins.correlation_id FROM ins;

  IF EXISTS (SELECT 1 FROM unnest(p_subject) AS x(su) WHERE su IS NOT NULL) THEN
    WITH k(s, i, f) AS (SELECT * FROM unnest(p_source, p_id, p_family)),
         ev AS (
           SELECT ev.seq, k.f AS family, ev.subject, ev.plant, ev.recorded_at_ms FROM events ev
             JOIN k ON ev.source = k.s AND ev.id = k.i
            WHERE ev.txid = pg_current_xact_id_if_assigned() AND ev.subject IS NOT NULL),
         locked AS (
           SELECT w.run_id, w.position, w.event_family, w.subject, w.plant, w.after_seq FROM run_waits w
            WHERE w.status = 'waiting' AND w.kind = 'event'
              AND (w.event_family, w.subject, w.plant) IN (SELECT family, subject, plant FROM ev)
            ORDER BY w.run_id, w.position FOR UPDATE),
         m AS (
           SELECT DISTINCT ON (l.run_id, l.position) l.run_id, l.position, ev.seq
             FROM locked l JOIN ev ON l.event_family = ev.family AND l.subject = ev.subject AND l.plant = ev.plant
            WHERE l.after_seq < ev.seq
            ORDER BY l.run_id, l.position, ev.seq),
         woken AS (
           UPDATE run_waits w SET status = 'matched', event_seq = m.seq FROM m
            WHERE w.run_id = m.run_id AND w.position = m.position AND w.status = 'waiting'
           RETURNING w.run_id)
    UPDATE workflow_runs SET due_at_ms = (SELECT max(recorded_at_ms) FROM ev),
           updated_at_ms = (SELECT max(recorded_at_ms) FROM ev)
     WHERE id IN (SELECT run_id FROM woken) AND status = 'waiting';
  END IF;

  RETURN QUERY
  WITH k(s, i) AS (SELECT * FROM unnest(p_source, p_id))
  SELECT false, e.seq, e.source, e.id, e.correlation_id FROM events e JOIN k ON e.source = k.s AND e.id = k.i
   WHERE e.txid IS DISTINCT FROM pg_current_xact_id_if_assigned();
END
$fn$;

-- qualink:breaking=false
-- The event log, raw deliveries, the audit trail with its chain, and leases.
-- txid (xid8) records the inserting transaction: tailing readers stay below
-- pg_snapshot_xmin(pg_current_snapshot()) so a late-committing row is never passed over.

CREATE TABLE events (
  seq BIGSERIAL PRIMARY KEY,
  txid XID8 NOT NULL DEFAULT pg_current_xact_id(),
  plant TEXT NOT NULL,
  source TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  subject TEXT,
  time TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  causation_id TEXT,
  source_sequence BIGINT,
  data_hash TEXT NOT NULL,
  envelope JSONB NOT NULL,
  recorded_at_ms BIGINT NOT NULL,
  UNIQUE (source, id)
);
CREATE INDEX events_plant_type ON events (plant, type, seq);
CREATE INDEX events_plant_subject ON events (plant, subject, seq);
CREATE INDEX events_id ON events (id);
CREATE INDEX events_tail ON events (txid, seq);

CREATE TABLE raw_deliveries (
  seq BIGSERIAL PRIMARY KEY,
  plant TEXT NOT NULL,
  source TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  headers JSONB NOT NULL,
  body BYTEA NOT NULL,
  body_hash TEXT NOT NULL,
  received_at_ms BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'translated', 'parked', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms BIGINT NOT NULL,
  last_error_code TEXT,
  last_error TEXT,
  event_seq BIGINT,
  UNIQUE (source, delivery_id)
);
CREATE INDEX raw_deliveries_due ON raw_deliveries (status, next_attempt_at_ms);

CREATE TABLE audit_log (
  seq BIGSERIAL PRIMARY KEY,
  txid XID8 NOT NULL DEFAULT pg_current_xact_id(),
  plant TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  correlation_id TEXT,
  payload_hash TEXT NOT NULL
);
CREATE INDEX audit_log_plant_subject ON audit_log (plant, subject, seq);
CREATE INDEX audit_log_tail ON audit_log (txid, seq);

-- Payloads live apart from the chain: retention can purge them (the hash stays in audit_log).
CREATE TABLE audit_payloads (
  audit_seq BIGINT PRIMARY KEY,
  payload JSONB NOT NULL
);

CREATE TABLE audit_chain (
  pos BIGINT PRIMARY KEY,
  audit_seq BIGINT NOT NULL UNIQUE,
  audit_txid XID8 NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  sealed_at_ms BIGINT NOT NULL
);

CREATE FUNCTION qualink_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'QLK_AUDIT_IMMUTABLE: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION qualink_refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION qualink_refuse_audit_change();
CREATE TRIGGER audit_chain_immutable BEFORE UPDATE OR DELETE ON audit_chain
  FOR EACH ROW EXECUTE FUNCTION qualink_refuse_audit_change();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION qualink_refuse_audit_change();

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL
);

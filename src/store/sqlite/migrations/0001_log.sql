-- qualink:breaking=false
-- The event log, raw deliveries, the audit trail with its chain, and leases.

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  txid INTEGER NOT NULL DEFAULT 0,
  plant TEXT NOT NULL,
  source TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  subject TEXT,
  time TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  causation_id TEXT,
  source_sequence INTEGER,
  data_hash TEXT NOT NULL,
  envelope TEXT NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  UNIQUE (source, id)
);
CREATE INDEX events_plant_type ON events (plant, type, seq);
CREATE INDEX events_plant_subject ON events (plant, subject, seq);
CREATE INDEX events_id ON events (id);

CREATE TABLE raw_deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  plant TEXT NOT NULL,
  source TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  body_hash TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'translated', 'parked', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms INTEGER NOT NULL,
  last_error_code TEXT,
  last_error TEXT,
  event_seq INTEGER,
  UNIQUE (source, delivery_id)
);
CREATE INDEX raw_deliveries_due ON raw_deliveries (status, next_attempt_at_ms);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  txid INTEGER NOT NULL DEFAULT 0,
  plant TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  correlation_id TEXT,
  payload_hash TEXT NOT NULL
);
CREATE INDEX audit_log_plant_subject ON audit_log (plant, subject, seq);

-- Payloads live apart from the chain: retention can purge them (the hash stays in audit_log).
CREATE TABLE audit_payloads (
  audit_seq INTEGER PRIMARY KEY,
  payload TEXT NOT NULL
);

CREATE TABLE audit_chain (
  pos INTEGER PRIMARY KEY,
  audit_seq INTEGER NOT NULL UNIQUE,
  audit_txid INTEGER NOT NULL DEFAULT 0,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  sealed_at_ms INTEGER NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: audit_log rows cannot be updated'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: audit_log rows cannot be deleted'); END;
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: audit_chain rows cannot be updated'); END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: audit_chain rows cannot be deleted'); END;

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);

-- qualink:breaking=false
-- Durable execution: runs (one active per workflow and key), their inbox, step journal, waits,
-- and dead letters. A run row is both the task and the key lock: claiming it takes the lease.

CREATE TABLE workflow_runs (
  id TEXT PRIMARY KEY,
  plant TEXT NOT NULL,
  workflow TEXT NOT NULL,
  version INTEGER NOT NULL,
  run_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'waiting', 'completed', 'failed', 'dead', 'cancelled')),
  trigger_event_seq BIGINT,
  trigger_event_id TEXT,
  config TEXT,
  due_at_ms BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_token BIGINT NOT NULL DEFAULT 0,
  lease_expires_at_ms BIGINT NOT NULL DEFAULT 0,
  cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
  cancel_reason TEXT,
  result TEXT,
  last_error_code TEXT,
  last_error TEXT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  completed_at_ms BIGINT
);
-- 'failed' keeps the key blocked (poison policy block); 'dead' frees it (policy skip).
CREATE UNIQUE INDEX workflow_runs_active_key ON workflow_runs (workflow, run_key)
  WHERE status IN ('pending', 'waiting', 'failed');
CREATE INDEX workflow_runs_due ON workflow_runs (due_at_ms) WHERE status IN ('pending', 'waiting');
CREATE INDEX workflow_runs_plant ON workflow_runs (plant, created_at_ms);

CREATE TABLE run_inbox (
  seq BIGSERIAL PRIMARY KEY,
  plant TEXT NOT NULL,
  workflow TEXT NOT NULL,
  run_key TEXT NOT NULL,
  version INTEGER NOT NULL,
  event_seq BIGINT NOT NULL,
  run_id TEXT,
  consumed_at_ms BIGINT
);
CREATE INDEX run_inbox_open ON run_inbox (workflow, run_key, seq) WHERE run_id IS NULL;

CREATE TABLE run_journal (
  run_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  occurrence INTEGER NOT NULL,
  idempotency_key TEXT,
  result TEXT,
  code_version INTEGER NOT NULL,
  completed_at_ms BIGINT NOT NULL,
  PRIMARY KEY (run_id, position),
  UNIQUE (run_id, kind, name, occurrence)
);

CREATE TABLE run_waits (
  run_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  plant TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('event', 'inbox', 'sleep')),
  event_family TEXT,
  subject TEXT,
  after_seq BIGINT NOT NULL DEFAULT 0,
  timeout_at_ms BIGINT,
  status TEXT NOT NULL CHECK (status IN ('waiting', 'matched', 'timed_out')),
  event_seq BIGINT,
  PRIMARY KEY (run_id, position)
);
CREATE INDEX run_waits_match ON run_waits (event_family, subject) WHERE status = 'waiting';

CREATE TABLE dead_letters (
  id BIGSERIAL PRIMARY KEY,
  plant TEXT NOT NULL,
  run_id TEXT NOT NULL,
  workflow TEXT NOT NULL,
  run_key TEXT NOT NULL,
  error_code TEXT NOT NULL,
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'replayed', 'discarded')),
  reason TEXT,
  created_at_ms BIGINT NOT NULL,
  resolved_at_ms BIGINT,
  resolved_by TEXT
);
CREATE INDEX dead_letters_open ON dead_letters (plant, status, created_at_ms);

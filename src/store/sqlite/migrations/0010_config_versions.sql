-- qualink:breaking=false
-- Change control (docs/operations.md "Change control"). config_versions holds each distinct
-- configuration once, by the SHA-256 of its canonical JSON (so key order does not make a new
-- version); config_changes is the append-only history of what happened to versions: loaded (at
-- start), promoted to an environment, sent to one plant first (canary), rolled back. Who and when
-- are also in the audit chain, written in the same transaction.
CREATE TABLE config_versions (
  hash TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  files TEXT NOT NULL,
  first_actor TEXT NOT NULL,
  first_at_ms INTEGER NOT NULL
);
CREATE TABLE config_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash TEXT NOT NULL REFERENCES config_versions (hash),
  action TEXT NOT NULL CHECK (action IN ('loaded', 'promoted', 'canary', 'rolled-back')),
  environment TEXT NOT NULL,
  plant TEXT,
  actor TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX config_changes_env ON config_changes (environment, id);

CREATE TRIGGER config_versions_no_update BEFORE UPDATE ON config_versions
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: configuration versions cannot be updated'); END;
CREATE TRIGGER config_versions_no_delete BEFORE DELETE ON config_versions
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: configuration versions cannot be deleted'); END;
CREATE TRIGGER config_changes_no_update BEFORE UPDATE ON config_changes
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: configuration changes cannot be updated'); END;
CREATE TRIGGER config_changes_no_delete BEFORE DELETE ON config_changes
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: configuration changes cannot be deleted'); END;

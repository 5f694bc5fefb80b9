-- qualink:breaking=false
-- Electronic signatures (21 CFR Part 11 §11.50, §11.70): who signed (printed name), when (the
-- database clock), what it means, and the SHA-256 of the exact record version signed.
-- Append-only: a signature is never edited or removed; a changed record simply no longer matches.
CREATE TABLE signatures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  plant TEXT NOT NULL,
  signer_id TEXT NOT NULL,
  printed_name TEXT NOT NULL,
  meaning TEXT NOT NULL CHECK (meaning IN ('approved', 'released', 'reviewed')),
  record_kind TEXT NOT NULL CHECK (record_kind IN ('dead-letter', 'run', 'bulk-replay')),
  record_id TEXT NOT NULL,
  record_hash TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('password', 'token')),
  actor TEXT NOT NULL,
  signed_at_ms INTEGER NOT NULL,
  -- one person signs one version once per meaning: the second signer must be someone else
  UNIQUE (record_kind, record_id, record_hash, signer_id, meaning)
);
CREATE INDEX signatures_record ON signatures (record_kind, record_id, id);

CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: signatures cannot be updated'); END;
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: signatures cannot be deleted'); END;

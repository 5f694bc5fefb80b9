-- qualink:breaking=false
-- Electronic signatures (21 CFR Part 11 §11.50, §11.70): who signed (printed name), when (the
-- database clock), what it means, and the SHA-256 of the exact record version signed.
-- Append-only: a signature is never edited or removed; a changed record simply no longer matches.
CREATE TABLE signatures (
  id BIGSERIAL PRIMARY KEY,
  plant TEXT NOT NULL,
  signer_id TEXT NOT NULL,
  printed_name TEXT NOT NULL,
  meaning TEXT NOT NULL CHECK (meaning IN ('approved', 'released', 'reviewed')),
  record_kind TEXT NOT NULL CHECK (record_kind IN ('dead-letter', 'run', 'bulk-replay')),
  record_id TEXT NOT NULL,
  record_hash TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('password', 'token')),
  actor TEXT NOT NULL,
  signed_at_ms BIGINT NOT NULL,
  -- one person signs one version once per meaning: the second signer must be someone else
  UNIQUE (record_kind, record_id, record_hash, signer_id, meaning)
);
CREATE INDEX signatures_record ON signatures (record_kind, record_id, id);

-- qualink_refuse_audit_change() is defined in 0001_log.sql.
CREATE TRIGGER signatures_immutable BEFORE UPDATE OR DELETE ON signatures
  FOR EACH ROW EXECUTE FUNCTION qualink_refuse_audit_change();
CREATE TRIGGER signatures_no_truncate BEFORE TRUNCATE ON signatures
  FOR EACH STATEMENT EXECUTE FUNCTION qualink_refuse_audit_change();

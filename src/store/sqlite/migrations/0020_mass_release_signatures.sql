-- qualink:breaking=false
-- Mass release (issue 10): a selection of lots is a record that can be signed ('mass-release').
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with its rows, ids,
-- index and append-only triggers (https://www.sqlite.org/lang_altertable.html, "Making Other
-- Kinds Of Table Schema Changes"). Code that does not know the new kind still reads every row.
CREATE TABLE signatures_0020 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  plant TEXT NOT NULL,
  signer_id TEXT NOT NULL,
  printed_name TEXT NOT NULL,
  meaning TEXT NOT NULL CHECK (meaning IN ('approved', 'released', 'reviewed')),
  record_kind TEXT NOT NULL CHECK (record_kind IN ('dead-letter', 'run', 'bulk-replay', 'mass-release')),
  record_id TEXT NOT NULL,
  record_hash TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('password', 'token')),
  actor TEXT NOT NULL,
  signed_at_ms INTEGER NOT NULL,
  UNIQUE (record_kind, record_id, record_hash, signer_id, meaning)
);
INSERT INTO signatures_0020 SELECT id, plant, signer_id, printed_name, meaning, record_kind, record_id,
  record_hash, method, actor, signed_at_ms FROM signatures;
DROP TABLE signatures;
ALTER TABLE signatures_0020 RENAME TO signatures;
CREATE INDEX signatures_record ON signatures (record_kind, record_id, id);

CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: signatures cannot be updated'); END;
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
BEGIN SELECT RAISE(ABORT, 'QLK_AUDIT_IMMUTABLE: signatures cannot be deleted'); END;

-- qualink:breaking=false
-- Genealogy edges may be plant-to-plant transfers (SAP 301/303: the batch moves to another
-- plant, where it is another lot). SQLite cannot alter a CHECK constraint: the table is rebuilt.
CREATE TABLE genealogy_edges_v10 (
  event_seq INTEGER NOT NULL,
  plant TEXT NOT NULL,
  from_lot TEXT NOT NULL,
  to_lot TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('consumed', 'split', 'transfer')),
  operation TEXT,
  production_order TEXT,
  quantity TEXT,
  at TEXT NOT NULL,
  PRIMARY KEY (event_seq, from_lot, to_lot)
);
INSERT INTO genealogy_edges_v10 (event_seq, plant, from_lot, to_lot, kind, operation, production_order, quantity, at)
  SELECT event_seq, plant, from_lot, to_lot, kind, operation, production_order, quantity, at FROM genealogy_edges;
DROP TABLE genealogy_edges;
ALTER TABLE genealogy_edges_v10 RENAME TO genealogy_edges;
CREATE INDEX genealogy_from ON genealogy_edges (from_lot);
CREATE INDEX genealogy_to ON genealogy_edges (to_lot);

-- qualink:breaking=false
-- Genealogy projection: lots (with their stock vector), consumed→produced edges per operation,
-- lot splits, and shipments to customers; built from the event log by a cursor-driven projector.

CREATE TABLE lots (
  lot TEXT PRIMARY KEY,
  plant TEXT NOT NULL,
  material TEXT,
  supplier TEXT,
  stock TEXT NOT NULL DEFAULT '{}',
  first_seen_seq INTEGER NOT NULL,
  last_event_seq INTEGER NOT NULL
);
CREATE INDEX lots_plant ON lots (plant, lot);

CREATE TABLE genealogy_edges (
  event_seq INTEGER NOT NULL,
  plant TEXT NOT NULL,
  from_lot TEXT NOT NULL,
  to_lot TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('consumed', 'split')),
  operation TEXT,
  production_order TEXT,
  quantity TEXT,
  at TEXT NOT NULL,
  PRIMARY KEY (event_seq, from_lot, to_lot)
);
CREATE INDEX genealogy_from ON genealogy_edges (from_lot);
CREATE INDEX genealogy_to ON genealogy_edges (to_lot);

CREATE TABLE shipments (
  event_seq INTEGER NOT NULL,
  plant TEXT NOT NULL,
  delivery TEXT NOT NULL,
  item TEXT NOT NULL,
  customer TEXT NOT NULL,
  lot TEXT NOT NULL,
  material TEXT NOT NULL,
  quantity TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (event_seq, delivery, item)
);
CREATE INDEX shipments_lot ON shipments (lot);

CREATE TABLE projection_cursors (
  name TEXT PRIMARY KEY,
  txid TEXT NOT NULL,
  seq INTEGER NOT NULL
);

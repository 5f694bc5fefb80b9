-- qualink:breaking=false
-- Supplier scorecard projection (src/projections/supplier-scorecard.ts), built from the event log
-- by a cursor-driven projector: per received lot what was received and decided, per supplier ×
-- material the totals kept up to date as lots change, and suppliers' corrective actions.

CREATE TABLE scorecard_lots (
  plant TEXT NOT NULL,
  lot TEXT NOT NULL,
  supplier TEXT NOT NULL,
  material TEXT NOT NULL,
  received TEXT,
  rejected TEXT,
  valuation TEXT,
  decision_code TEXT,
  decided_at TEXT,
  decided_by TEXT,
  PRIMARY KEY (plant, lot)
);
CREATE INDEX scorecard_lots_group ON scorecard_lots (plant, supplier, material);

CREATE TABLE supplier_scorecard (
  plant TEXT NOT NULL,
  supplier TEXT NOT NULL,
  material TEXT NOT NULL,
  lots_received BIGINT NOT NULL,
  lots_accepted BIGINT NOT NULL,
  lots_rejected BIGINT NOT NULL,
  inspected TEXT,
  rejected TEXT,
  ppm BIGINT,
  last_decision TEXT,
  updated_seq BIGINT NOT NULL,
  PRIMARY KEY (plant, supplier, material)
);
CREATE INDEX supplier_scorecard_supplier ON supplier_scorecard (supplier, plant);

CREATE TABLE supplier_capas (
  plant TEXT NOT NULL,
  capa TEXT NOT NULL,
  supplier TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  title TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  closed_at TEXT,
  PRIMARY KEY (plant, capa)
);
CREATE INDEX supplier_capas_supplier ON supplier_capas (supplier, plant, status);

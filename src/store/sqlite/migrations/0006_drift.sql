-- qualink:breaking=false
-- Reconciliation: differences between what the QMS decided and what the ERP holds, per lot.
CREATE TABLE drift (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  plant TEXT NOT NULL,
  lot TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'healed', 'resolved')),
  since_ms INTEGER NOT NULL,
  checked_at_ms INTEGER NOT NULL,
  qms_view TEXT NOT NULL,
  erp_view TEXT NOT NULL,
  detail TEXT NOT NULL,
  closed_at_ms INTEGER
);
CREATE UNIQUE INDEX drift_open ON drift (lot, kind) WHERE status = 'open';
CREATE INDEX drift_plant ON drift (plant, status, since_ms);

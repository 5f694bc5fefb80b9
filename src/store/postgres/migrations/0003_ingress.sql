-- qualink:breaking=false
-- Identity mapping, and the key a parked raw delivery waits for: adding that mapping resumes it.

CREATE TABLE xref (
  plant TEXT NOT NULL,
  system TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  external_code TEXT NOT NULL,
  enterprise_id TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (plant, system, entity_type, external_code)
);
CREATE INDEX xref_reverse ON xref (plant, system, entity_type, enterprise_id);

ALTER TABLE raw_deliveries ADD COLUMN parked_on TEXT;
CREATE INDEX raw_deliveries_parked ON raw_deliveries (parked_on) WHERE status = 'parked';

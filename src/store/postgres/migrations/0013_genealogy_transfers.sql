-- qualink:breaking=false
-- Genealogy edges may be plant-to-plant transfers (SAP 301/303: the batch moves to another
-- plant, where it is another lot).
ALTER TABLE genealogy_edges DROP CONSTRAINT genealogy_edges_kind_check;
ALTER TABLE genealogy_edges ADD CONSTRAINT genealogy_edges_kind_check
  CHECK (kind IN ('consumed', 'split', 'transfer'));

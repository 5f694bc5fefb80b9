-- qualink:breaking=false
-- Each edge carries the plant of both of its lots (`from_plant`, `to_plant`), so a trace walk
-- reads the plant of the lots it reaches from the edge index instead of one `lots` lookup per
-- link (src/projections/trace-level.ts). A lot's plant never changes once its row exists
-- (src/store/genealogy-sql.ts upserts never touch it), so the copy cannot go stale; an edge
-- written before its lot's row has NULL there and the walk then looks the plant up in `lots`.
-- Existing edges are filled in from `lots`: joined to both lots' rows, then the edges of which
-- only one lot has a row.
-- 0016's forward-walk index is rebuilt with the reached lot's plant (below); dropped before the
-- fill so the fill does not maintain it.
DROP INDEX IF EXISTS genealogy_from_to;
ALTER TABLE genealogy_edges ADD COLUMN from_plant TEXT;
ALTER TABLE genealogy_edges ADD COLUMN to_plant TEXT;
UPDATE genealogy_edges e SET from_plant = f.plant, to_plant = t.plant
  FROM lots f, lots t WHERE f.lot = e.from_lot AND t.lot = e.to_lot;
UPDATE genealogy_edges e SET from_plant = f.plant
  FROM lots f WHERE f.lot = e.from_lot AND e.from_plant IS NULL;
UPDATE genealogy_edges e SET to_plant = t.plant
  FROM lots t WHERE t.lot = e.to_lot AND e.to_plant IS NULL;
-- A bulk lot's consumers in id order with their plants come from this index alone (measured:
-- bench/README.md, "Issue 7").
CREATE INDEX genealogy_from_to ON genealogy_edges (from_lot, to_lot, event_seq, to_plant);
-- Fresh planner statistics for the rebuilt index: on SQLite, the capped sampling of PRAGMA optimize
-- at start-up reads only the first rows of an index (a bulk lot's thousands of links) and the
-- walk's read of links back to listed lots then probed every pair of lots instead of every lot.
ANALYZE genealogy_edges;

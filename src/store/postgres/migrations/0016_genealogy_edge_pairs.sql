-- qualink:breaking=false
-- A trace walks forward by reading (event_seq, from_lot, to_lot) of the edges leaving a level
-- (src/projections/trace-page.ts). With this index the read is answered from the index alone;
-- it replaces the single-column genealogy_from, which is its prefix. Measured on the generated
-- 1,000,000-lot genealogy (bench/README.md, "Issue 7"): the walk's read of a bulk lot's 9,699
-- direct consumers p50 246 → 105 ms on SQLite.
CREATE INDEX genealogy_from_to ON genealogy_edges (from_lot, to_lot, event_seq);
DROP INDEX IF EXISTS genealogy_from;

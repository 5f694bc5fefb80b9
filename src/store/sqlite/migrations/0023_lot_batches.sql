-- qualink:breaking=false
-- A batch moved to another plant is another lot there, keyed `batch@plant`
-- (src/projections/genealogy-projector.ts). `batch` holds the bare batch of such a lot (NULL for
-- every other lot), so `GET /v1/lots/B1` in the receiving plant finds `B1@P200` by one index
-- lookup (src/store/genealogy-sql.ts `findLots`). Existing transferred lots are filled in from
-- their key: a lot of plant P whose id ends in `@P`.
ALTER TABLE lots ADD COLUMN batch TEXT;
UPDATE lots SET batch = substr(lot, 1, length(lot) - length(plant) - 1)
  WHERE length(lot) > length(plant) + 1 AND substr(lot, length(lot) - length(plant)) = '@' || plant;
CREATE INDEX lots_batch ON lots (batch, plant) WHERE batch IS NOT NULL;

-- A reconciliation pass reads the completed runs of a workflow in keyset pages ordered by key
-- (the lot), creation and id (src/store/run-pages.ts): one index range per page, no sort.
CREATE INDEX workflow_runs_completed_key ON workflow_runs (workflow, run_key, created_at_ms, id)
  WHERE status = 'completed';

-- A trace reads the plant of each lot it reaches, thousands for a bulk lot's page, joined to the
-- edges it walks (src/projections/trace-level.ts). With (lot, plant) the index answers alone; through
-- the primary key each lot's row was read. Measured on the generated 1,000,000-lot genealogy
-- (bench/genealogy.ts), a bulk lot's 4,300 consumers in id order with their plants: PostgreSQL
-- 34.5 ms through the primary key and the rows, 13.7 ms from this index.
CREATE INDEX lots_lot_plant ON lots (lot, plant);

-- qualink:breaking=false
-- Runs by their key (a lot, an order): the lots list counts each listed lot's pending runs in its
-- one statement and the lot status reads a lot's runs (src/ui/pages/lots.ts,
-- src/projections/lot-status.ts); without it each lot scanned the runs table. Updates of a run's
-- status do not touch it (neither column changes).
CREATE INDEX workflow_runs_key ON workflow_runs (run_key, plant);

-- qualink:breaking=false
-- Long operations (a bulk replay, a reconciliation pass requested from the dashboard) and how far
-- they got (src/store/operations.ts). Stored, not held in memory, so whichever API process a poll
-- reaches answers it, and after a restart the last state is still shown: a run whose process died
-- stops being touched and reads as interrupted once its updated_at_ms is older than the
-- staleness limit. plants is a JSON array of the plants the starter could see, NULL for all
-- plants; result is the outcome's summary as JSON. Times are epoch ms from the database's clock.
CREATE TABLE operations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  plants TEXT,
  actor TEXT NOT NULL,
  owner TEXT,
  total INTEGER,
  done INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  message TEXT,
  result TEXT,
  started_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER
);
-- The reconciliation lease holder looks for requested passes every second.
CREATE INDEX operations_kind_status ON operations (kind, status);

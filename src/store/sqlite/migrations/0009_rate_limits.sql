-- qualink:breaking=false
-- Same number as PostgreSQL's: an embedded store has one process, so the egress client keeps its
-- limits in memory and this table stays empty; it exists so the schemas match.
CREATE TABLE rate_limits (
  target TEXT PRIMARY KEY,
  tokens REAL NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  paused_until_ms INTEGER NOT NULL DEFAULT 0,
  circuit_open_until_ms INTEGER NOT NULL DEFAULT 0
);

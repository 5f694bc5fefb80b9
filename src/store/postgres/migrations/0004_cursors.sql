-- qualink:breaking=false
-- Durable cursors of polled feeds: advanced only after the items before them are stored.
CREATE TABLE ingress_cursors (
  name TEXT PRIMARY KEY,
  cursor TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);

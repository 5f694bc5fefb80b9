-- qualink:breaking=false
-- Rate limits and open circuits toward each egress target, shared by every process on this
-- database (a token bucket per target, refilled on the database clock).
CREATE TABLE rate_limits (
  target TEXT PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  paused_until_ms BIGINT NOT NULL DEFAULT 0,
  circuit_open_until_ms BIGINT NOT NULL DEFAULT 0
);

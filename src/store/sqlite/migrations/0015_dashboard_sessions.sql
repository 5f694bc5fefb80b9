-- qualink:breaking=false
-- Dashboard sessions (src/security/session-store.ts), shared by every API process on this database
-- and kept across restarts. Only the SHA-256 of the session id is stored: a copy of the table does
-- not let anyone log in. Roles and plants are not copied here: each request reads them from the
-- users file, so a changed or removed user takes effect at once.
CREATE TABLE dashboard_sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  last_seen_at_ms INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_seen ON dashboard_sessions (last_seen_at_ms);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);

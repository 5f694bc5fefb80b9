-- qualink:breaking=false
-- Failed dashboard logins per key (`user:<id>`, `ip:<address>`), shared by every API process on
-- this database (src/security/login-attempts.ts): the lockout after N failures holds whichever
-- process the next guess reaches. Times are epoch ms.
CREATE TABLE login_attempts (
  attempt_key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  in_flight INTEGER NOT NULL,
  in_flight_at_ms BIGINT NOT NULL,
  lockouts INTEGER NOT NULL,
  locked_until_ms BIGINT NOT NULL,
  last_failure_at_ms BIGINT NOT NULL
);

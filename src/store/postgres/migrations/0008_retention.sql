-- qualink:breaking=false
-- Payload retention (src/security/retention.ts): when an event's payload was purged (its id,
-- hash and audit entries stay), and the indexes the purge and its guards look up by.
ALTER TABLE events ADD COLUMN payload_purged_at_ms BIGINT;
CREATE INDEX events_retention ON events (type, recorded_at_ms) WHERE payload_purged_at_ms IS NULL;
CREATE INDEX workflow_runs_trigger ON workflow_runs (trigger_event_seq);
CREATE INDEX run_waits_event ON run_waits (event_seq);
CREATE INDEX run_inbox_event ON run_inbox (event_seq);
CREATE INDEX raw_deliveries_event ON raw_deliveries (event_seq);

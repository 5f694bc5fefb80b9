-- qualink:breaking=false
-- Observability reads (src/observability/kpis-queries.ts): the outcome KPIs read events of a few
-- types in a time window at every scrape; without this index each scrape scanned the event log
-- (measured on SQLite, docs/metrics.md).
-- Dead letters name the connector (instance name) and target (scheme://host:port) whose call
-- failed, when an egress call or a connector's port method failed the run; NULL otherwise.
CREATE INDEX events_type_recorded ON events (type, recorded_at_ms);
ALTER TABLE dead_letters ADD COLUMN connector TEXT;
ALTER TABLE dead_letters ADD COLUMN target TEXT;

CREATE TABLE IF NOT EXISTS contrail.schema_migrations (
    version UInt32,
    name String,
    dialect String,
    applied_at DateTime
) ENGINE = MergeTree() ORDER BY version;

CREATE TABLE IF NOT EXISTS contrail.raw_events (
    event_id String,
    feed String,
    format String,
    format_version String,
    key String,
    producer_ts DateTime,
    producer_ts_ms Int64,
    producer_ts_source String,
    ingest_ts DateTime,
    adapter String,
    origin String,
    raw String,
    outcome String,
    reason_code String,
    reason String,
    topic String,
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (feed, event_id);

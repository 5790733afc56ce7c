CREATE TABLE IF NOT EXISTS contrail.schema_migrations (
    version UInt32,
    name String,
    dialect String,
    applied_at DateTime
) ENGINE = MergeTree() ORDER BY version;

CREATE TABLE IF NOT EXISTS contrail.raw_events (
    event_id String,
    feed LowCardinality(String),
    format LowCardinality(String),
    format_version LowCardinality(String),
    key String,
    producer_ts DateTime64(3, 'UTC'),
    producer_ts_ms Int64,
    producer_ts_source LowCardinality(String),
    ingest_ts DateTime64(3, 'UTC'),
    adapter LowCardinality(String),
    origin String,
    raw String CODEC(ZSTD(3)),
    outcome LowCardinality(String),
    reason_code LowCardinality(String),
    reason String,
    topic LowCardinality(String),
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (feed, event_id);

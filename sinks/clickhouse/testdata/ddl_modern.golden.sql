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

CREATE TABLE IF NOT EXISTS contrail.flights (
    gufi String,
    ifplid String,
    callsign String,
    icao24 String,
    adep LowCardinality(String),
    ades LowCardinality(String),
    eobt Nullable(DateTime64(3, 'UTC')),
    aircraft_type LowCardinality(String),
    route String,
    cruise_level LowCardinality(String),
    star LowCardinality(String),
    lifecycle LowCardinality(String),
    position_ts Nullable(DateTime64(3, 'UTC')),
    lat Nullable(Float64),
    lon Nullable(Float64),
    altitude_ft Nullable(Int32),
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    on_ground Nullable(UInt8),
    squawk LowCardinality(String),
    emergency UInt8,
    aspects Array(LowCardinality(String)),
    aspect_ts_ms Array(Int64),
    event_count Int64,
    producer_ts DateTime64(3, 'UTC'),
    producer_ts_ms Int64,
    updated_ts DateTime64(3, 'UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY gufi;

CREATE TABLE IF NOT EXISTS contrail.positions (
    gufi String,
    ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    ts_ms Int64,
    icao24 String,
    lat Float64 CODEC(Gorilla),
    lon Float64 CODEC(Gorilla),
    altitude_ft Nullable(Int32),
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    on_ground Nullable(UInt8),
    event_id String,
    feed LowCardinality(String),
    producer_ts DateTime64(3, 'UTC'),
    emitted_ts DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (gufi, ts, ts_ms, icao24);

CREATE TABLE IF NOT EXISTS contrail.flight_events (
    event_id String,
    gufi String,
    type LowCardinality(String),
    producer_ts DateTime64(3, 'UTC'),
    producer_ts_ms Int64,
    emitted_ts DateTime64(3, 'UTC'),
    feed LowCardinality(String),
    cause Array(String),
    event_ts Nullable(DateTime64(3, 'UTC')),
    ifplid String,
    callsign String,
    adep LowCardinality(String),
    ades LowCardinality(String),
    eobt Nullable(DateTime64(3, 'UTC')),
    previous_eobt Nullable(DateTime64(3, 'UTC')),
    aircraft_type LowCardinality(String),
    route String,
    cruise_level LowCardinality(String),
    star LowCardinality(String),
    changed Array(String),
    squawk LowCardinality(String),
    alert_id String,
    alert_kind LowCardinality(String),
    other_gufi String,
    rule LowCardinality(String),
    detail String,
    rejected_event_id String,
    icao24 String,
    lat Nullable(Float64),
    lon Nullable(Float64),
    altitude_ft Nullable(Int32),
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    on_ground Nullable(UInt8),
    payload String CODEC(ZSTD(3)),
    topic LowCardinality(String),
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (gufi, event_id);

CREATE TABLE IF NOT EXISTS contrail.revoked_positions (
    gufi String,
    position_event_id String,
    violation_event_id String,
    rule LowCardinality(String),
    detail String,
    producer_ts DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree()
ORDER BY (gufi, position_event_id);

CREATE TABLE IF NOT EXISTS contrail.event_outcomes (
    event_id String,
    feed LowCardinality(String),
    step LowCardinality(String),
    outcome LowCardinality(String),
    reason String,
    producer_ts DateTime64(3, 'UTC'),
    producer_ts_ms Int64,
    lateness_ms Int64,
    gufi String,
    processed_ts DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (feed, event_id, step)
TTL toDateTime(processed_ts) + INTERVAL 400 DAY;

CREATE TABLE IF NOT EXISTS contrail.rejected (
    id String,
    feed LowCardinality(String),
    reason_code LowCardinality(String),
    reason String,
    ingest_ts DateTime64(3, 'UTC'),
    adapter LowCardinality(String),
    origin String,
    raw String CODEC(ZSTD(3)),
    topic LowCardinality(String),
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ingest_ts)
ORDER BY (feed, id);

CREATE TABLE IF NOT EXISTS contrail.movements_hourly (
    aerodrome LowCardinality(String),
    hour DateTime,
    direction LowCardinality(String),
    movements AggregateFunction(uniqExact, String)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (aerodrome, hour, direction);

CREATE TABLE IF NOT EXISTS contrail.outcomes_hourly (
    feed LowCardinality(String),
    hour DateTime,
    step LowCardinality(String),
    outcome LowCardinality(String),
    events UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (feed, hour, step, outcome);

CREATE TABLE IF NOT EXISTS contrail.airborne_minutely (
    minute DateTime,
    flights AggregateFunction(uniq, String)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS contrail.revoked_positions_mv TO contrail.revoked_positions AS
SELECT
    gufi,
    rejected_event_id AS position_event_id,
    event_id AS violation_event_id,
    rule,
    detail,
    producer_ts
FROM contrail.flight_events
WHERE type = 'INVARIANT_VIOLATED' AND rule = 'position-plausible' AND rejected_event_id != '';

CREATE VIEW IF NOT EXISTS contrail.positions_valid AS
SELECT *
FROM contrail.positions FINAL
WHERE (gufi, event_id) NOT IN (SELECT gufi, position_event_id FROM contrail.revoked_positions);

CREATE MATERIALIZED VIEW IF NOT EXISTS contrail.movements_hourly_mv TO contrail.movements_hourly AS
SELECT
    if(type = 'FLIGHT_DEPARTED', adep, ades) AS aerodrome,
    toStartOfHour(toDateTime(ifNull(event_ts, producer_ts)), 'UTC') AS hour,
    if(type = 'FLIGHT_DEPARTED', 'departure', 'arrival') AS direction,
    uniqExactState(event_id) AS movements
FROM contrail.flight_events
WHERE type IN ('FLIGHT_DEPARTED', 'FLIGHT_ARRIVED')
GROUP BY aerodrome, hour, direction;

CREATE MATERIALIZED VIEW IF NOT EXISTS contrail.outcomes_hourly_mv TO contrail.outcomes_hourly AS
SELECT
    feed,
    toStartOfHour(toDateTime(processed_ts), 'UTC') AS hour,
    step,
    outcome,
    count() AS events
FROM contrail.event_outcomes
GROUP BY feed, hour, step, outcome;

CREATE MATERIALIZED VIEW IF NOT EXISTS contrail.rejects_hourly_mv TO contrail.outcomes_hourly AS
SELECT
    feed,
    toStartOfHour(toDateTime(ingest_ts), 'UTC') AS hour,
    'ingest' AS step,
    'rejected' AS outcome,
    count() AS events
FROM contrail.rejected
GROUP BY feed, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS contrail.airborne_minutely_mv TO contrail.airborne_minutely AS
SELECT
    toStartOfMinute(toDateTime(ts)) AS minute,
    uniqState(gufi) AS flights
FROM contrail.positions
WHERE ifNull(on_ground, 0) = 0
GROUP BY minute;

CREATE TABLE IF NOT EXISTS contrail.aircraft (
    icao24 String,
    callsign String,
    position_ts Nullable(DateTime64(3, 'UTC')),
    lat Nullable(Float64),
    lon Nullable(Float64),
    altitude_ft Nullable(Int32),
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    squawk LowCardinality(String),
    on_ground Nullable(UInt8),
    aspects Array(LowCardinality(String)),
    aspect_ts_ms Array(Int64),
    first_seen DateTime64(3, 'UTC'),
    last_seen DateTime64(3, 'UTC'),
    messages Int64,
    updated_ts DateTime64(3, 'UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY icao24;

CREATE TABLE IF NOT EXISTS contrail.aircraft_positions (
    icao24 String,
    ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    ts_ms Int64,
    event_id String,
    lat Float64 CODEC(Gorilla),
    lon Float64 CODEC(Gorilla),
    altitude_ft Nullable(Int32),
    on_ground Nullable(UInt8),
    revoked UInt8,
    topic LowCardinality(String),
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree(offset)
PARTITION BY toYYYYMM(ts)
ORDER BY (icao24, ts, ts_ms, event_id);

CREATE TABLE IF NOT EXISTS contrail.aircraft_velocities (
    icao24 String,
    ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    ts_ms Int64,
    event_id String,
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    topic LowCardinality(String),
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (icao24, ts, ts_ms, event_id);

CREATE TABLE IF NOT EXISTS contrail.aspect_outcomes (
    event_id String,
    feed LowCardinality(String),
    step LowCardinality(String),
    aspect LowCardinality(String),
    outcome LowCardinality(String),
    reason String,
    producer_ts DateTime64(3, 'UTC'),
    producer_ts_ms Int64,
    lateness_ms Int64,
    processed_ts DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (feed, event_id, step, aspect);

DROP TABLE IF EXISTS contrail.movements_hourly_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS contrail.movements_hourly_mv TO contrail.movements_hourly AS
SELECT
    if(type = 'FLIGHT_DEPARTED', adep, ades) AS aerodrome,
    toStartOfHour(toDateTime(ifNull(event_ts, producer_ts)), 'UTC') AS hour,
    if(type = 'FLIGHT_DEPARTED', 'departure', 'arrival') AS direction,
    uniqExactState(event_id) AS movements
FROM contrail.flight_events
WHERE type IN ('FLIGHT_DEPARTED', 'FLIGHT_ARRIVED') AND if(type = 'FLIGHT_DEPARTED', adep, ades) != ''
GROUP BY aerodrome, hour, direction;

ALTER TABLE contrail.event_outcomes ADD COLUMN IF NOT EXISTS inserted_ts DateTime DEFAULT now();

ALTER TABLE contrail.event_outcomes MODIFY TTL inserted_ts + INTERVAL 400 DAY;

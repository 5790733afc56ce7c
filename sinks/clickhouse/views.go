package clickhouse

import "regexp"

// Migration 2 ("views") creates the analyst-facing tables of ARCHITECTURE.md §5
// and the materialized views that aggregate them. All of it runs on
// ClickHouse 18.16; the Modern dialect only changes column types, codecs and
// the event_outcomes TTL.
//
// Idempotence. Every base table is a ReplacingMergeTree whose sort key is a
// deterministic identity of its rows (event ids are derived from content, the
// flight state carries a producer-time version), so a retried INSERT or a
// replayed topic leaves the same rows after merges. Before a merge, duplicates
// are visible: query with FINAL (or count distinct ids) when exactness
// matters. Materialized views see every INSERTed block, duplicates included;
// which ones stay exact on replay is said per view below.
//
// Revoked positions. A position the processor later judges implausible is not
// deleted or rewritten: the processor emits an INVARIANT_VIOLATED event with
// rule RulePositionPlausible whose rejected_event_id names the position's
// event id. revoked_positions_mv copies every such violation into
// revoked_positions, and the positions_valid view excludes them:
//
//	SELECT ... FROM positions FINAL
//	WHERE (gufi, event_id) NOT IN (SELECT gufi, position_event_id FROM revoked_positions)
//
// This needs no lookup at write time, works whichever arrives first and
// whatever batch they land in, and a replay inserts nothing new.
var viewStatements = []string{
	flightsTable,
	positionsTable,
	flightEventsTable,
	revokedPositionsTable,
	eventOutcomesTable,
	rejectedTable,
	movementsHourlyTable,
	outcomesHourlyTable,
	airborneMinutelyTable,
	revokedPositionsView,
	positionsValidView,
	movementsHourlyView,
	outcomesHourlyView,
	rejectsHourlyView,
	airborneMinutelyView,
}

// RulePositionPlausible is the InvariantViolated rule by which the processor
// revokes a position it recorded earlier (rejected_event_id names the
// position's event id). revoked_positions_mv selects on it.
const RulePositionPlausible = "position-plausible"

// flightsTable is the current state per GUFI, one row per snapshot read from
// the flights.state topic; after merges (or with FINAL) one row per GUFI.
//
// version orders snapshots by producer time, not by arrival: the newest
// per-aspect producer timestamp in milliseconds shifted left 20 bits, plus
// event_count (saturated at 2^20-1) as the tie-breaker. A late plan change
// leaves the newest aspect unchanged but raises event_count, so it still wins;
// a snapshot replayed or arriving out of order never replaces a newer one.
// Two snapshots with equal versions are the same state (the processor's
// per-aspect ordering is deterministic); between them the later insert wins.
// There is no PARTITION BY: ReplacingMergeTree only replaces within a
// partition, and no column of a flight is fixed for its whole life.
const flightsTable = `CREATE TABLE IF NOT EXISTS {db}.flights (
    gufi String,
    ifplid String,
    callsign String,
    icao24 String,
    adep {lc},
    ades {lc},
    eobt Nullable({ts}),
    aircraft_type {lc},
    route String,
    cruise_level {lc},
    star {lc},
    lifecycle {lc},
    position_ts Nullable({ts}),
    lat Nullable(Float64),
    lon Nullable(Float64),
    altitude_ft Nullable(Int32),
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    on_ground Nullable(UInt8),
    squawk {lc},
    emergency UInt8,
    aspects Array({lc}),
    aspect_ts_ms Array(Int64),
    event_count Int64,
    producer_ts {ts},
    producer_ts_ms Int64,
    updated_ts {ts},
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY gufi`

// positionsTable is the track history: one row per POSITION_REPORTED event,
// late ones included (staleness concerns the current state, not history).
// The sort key deduplicates a replayed position; ts_ms is in it because the
// Legacy ts has whole seconds and an aircraft reports several positions a
// second. Revoked positions stay here; positions_valid excludes them.
const positionsTable = `CREATE TABLE IF NOT EXISTS {db}.positions (
    gufi String,
    ts {tsseq},
    ts_ms Int64,
    icao24 String,
    lat {coord},
    lon {coord},
    altitude_ft Nullable(Int32),
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    on_ground Nullable(UInt8),
    event_id String,
    feed {lc},
    producer_ts {ts},
    emitted_ts {ts}
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (gufi, ts, ts_ms, icao24)`

// flightEventsTable is the audit trail: every domain event, with the payload
// flattened into columns for SQL and kept whole as JSON in payload. Event ids
// are deterministic, so (gufi, event_id) deduplicates replays.
//
// Which payload fills which column: plan events (FLIGHT_PLANNED,
// FLIGHT_PLAN_CHANGED) the plan columns and changed; FLIGHT_DELAYED eobt and
// previous_eobt; FLIGHT_DEPARTED adep and event_ts (departure time);
// FLIGHT_ARRIVED ades and event_ts (arrival time); POSITION_REPORTED the
// position columns and event_ts (position time); EMERGENCY_DECLARED squawk and
// detail; ALERT_RAISED alert_id, alert_kind, other_gufi and detail (message);
// INVARIANT_VIOLATED rule, detail and rejected_event_id; FLIGHT_CANCELLED
// detail (reason). Columns a payload does not fill hold the empty string or NULL.
const flightEventsTable = `CREATE TABLE IF NOT EXISTS {db}.flight_events (
    event_id String,
    gufi String,
    type {lc},
    producer_ts {ts},
    producer_ts_ms Int64,
    emitted_ts {ts},
    feed {lc},
    cause Array(String),
    event_ts Nullable({ts}),
    ifplid String,
    callsign String,
    adep {lc},
    ades {lc},
    eobt Nullable({ts}),
    previous_eobt Nullable({ts}),
    aircraft_type {lc},
    route String,
    cruise_level {lc},
    star {lc},
    changed Array(String),
    squawk {lc},
    alert_id String,
    alert_kind {lc},
    other_gufi String,
    rule {lc},
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
    payload {blob},
    topic {lc},
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (gufi, event_id)`

// revokedPositionsTable lists positions revoked after they were recorded
// (see RulePositionPlausible); filled only by revoked_positions_mv. Duplicate
// rows from replays do not matter to the NOT IN that reads it.
const revokedPositionsTable = `CREATE TABLE IF NOT EXISTS {db}.revoked_positions (
    gufi String,
    position_event_id String,
    violation_event_id String,
    rule {lc},
    detail String,
    producer_ts {ts}
) ENGINE = ReplacingMergeTree()
ORDER BY (gufi, position_event_id)`

// eventOutcomesTable holds what each processor step did with each input
// event (applied, stale, duplicate, invalid, invariant_violated, buffered,
// discarded). Modern servers drop rows 400 days after they were inserted
// (migration 3 moved the TTL from processed_ts to inserted_ts, so a replay or
// rebuild of old data keeps every row); outcomes_hourly keeps the counts.
// Legacy servers have no TTL and keep all.
const eventOutcomesTable = `CREATE TABLE IF NOT EXISTS {db}.event_outcomes (
    event_id String,
    feed {lc},
    step {lc},
    outcome {lc},
    reason String,
    producer_ts {ts},
    producer_ts_ms Int64,
    lateness_ms Int64,
    gufi String,
    processed_ts {ts}
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (feed, event_id, step)
{ttl toDateTime(processed_ts) + INTERVAL 400 DAY}`

// rejectedTable keeps the records of the rejected topic with their reasons
// (raw_events also gets them, as outcome rejected, for data-quality SQL over
// everything ingested).
const rejectedTable = `CREATE TABLE IF NOT EXISTS {db}.rejected (
    id String,
    feed {lc},
    reason_code {lc},
    reason String,
    ingest_ts {ts},
    adapter {lc},
    origin String,
    raw {blob},
    topic {lc},
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ingest_ts)
ORDER BY (feed, id)`

// movementsHourlyTable counts departures and arrivals per aerodrome and UTC
// hour (of the departure or arrival time). It stores the set of event ids, so
// it stays exact on replay:
//
//	SELECT aerodrome, hour, direction, uniqExactMerge(movements) AS movements
//	FROM movements_hourly GROUP BY aerodrome, hour, direction ORDER BY hour
const movementsHourlyTable = `CREATE TABLE IF NOT EXISTS {db}.movements_hourly (
    aerodrome {lc},
    hour DateTime,
    direction {lc},
    movements AggregateFunction(uniqExact, String)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (aerodrome, hour, direction)`

// outcomesHourlyTable counts processing outcomes per feed, step and UTC hour
// of processing, plus rejects (step 'ingest', outcome 'rejected', hour of
// ingest). It sums counts, so it OVER-COUNTS when event_outcomes or rejected
// rows are inserted twice (a replay, a retried insert). Where exactness
// matters, count the deduplicated source instead:
//
//	SELECT feed, step, outcome, toStartOfHour(processed_ts) AS hour, count() AS events
//	FROM event_outcomes FINAL GROUP BY feed, step, outcome, hour
//
//	SELECT feed, toStartOfHour(ingest_ts) AS hour, count() AS rejects
//	FROM rejected FINAL GROUP BY feed, hour
const outcomesHourlyTable = `CREATE TABLE IF NOT EXISTS {db}.outcomes_hourly (
    feed {lc},
    hour DateTime,
    step {lc},
    outcome {lc},
    events UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (feed, hour, step, outcome)`

// airborneMinutelyTable holds the flights airborne per UTC minute: distinct
// GUFIs with a position not on the ground in that minute. uniq states do not
// change when a replay adds the same GUFI again, so it stays correct on
// replay (uniq is exact to within hash collisions at these cardinalities). It
// does include revoked positions; for the exact figure without them:
//
//	SELECT toStartOfMinute(ts) AS minute, uniqExact(gufi) AS flights
//	FROM positions_valid WHERE ifNull(on_ground, 0) = 0 GROUP BY minute
//
//	SELECT minute, uniqMerge(flights) AS flights
//	FROM airborne_minutely GROUP BY minute ORDER BY minute
const airborneMinutelyTable = `CREATE TABLE IF NOT EXISTS {db}.airborne_minutely (
    minute DateTime,
    flights AggregateFunction(uniq, String)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY minute`

const revokedPositionsView = `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.revoked_positions_mv TO {db}.revoked_positions AS
SELECT
    gufi,
    rejected_event_id AS position_event_id,
    event_id AS violation_event_id,
    rule,
    detail,
    producer_ts
FROM {db}.flight_events
WHERE type = 'INVARIANT_VIOLATED' AND rule = '` + RulePositionPlausible + `' AND rejected_event_id != ''`

// positionsValidView is the track history without revoked positions,
// deduplicated. It reads positions with FINAL on every query; for large
// ranges put the same predicate on positions with a gufi or ts filter.
const positionsValidView = `CREATE VIEW IF NOT EXISTS {db}.positions_valid AS
SELECT *
FROM {db}.positions FINAL
WHERE (gufi, event_id) NOT IN (SELECT gufi, position_event_id FROM {db}.revoked_positions)`

const movementsHourlyView = `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.movements_hourly_mv TO {db}.movements_hourly AS
SELECT
    if(type = 'FLIGHT_DEPARTED', adep, ades) AS aerodrome,
    toStartOfHour(toDateTime(ifNull(event_ts, producer_ts)), 'UTC') AS hour,
    if(type = 'FLIGHT_DEPARTED', 'departure', 'arrival') AS direction,
    uniqExactState(event_id) AS movements
FROM {db}.flight_events
WHERE type IN ('FLIGHT_DEPARTED', 'FLIGHT_ARRIVED')
GROUP BY aerodrome, hour, direction`

const outcomesHourlyView = `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.outcomes_hourly_mv TO {db}.outcomes_hourly AS
SELECT
    feed,
    toStartOfHour(toDateTime(processed_ts), 'UTC') AS hour,
    step,
    outcome,
    count() AS events
FROM {db}.event_outcomes
GROUP BY feed, hour, step, outcome`

const rejectsHourlyView = `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.rejects_hourly_mv TO {db}.outcomes_hourly AS
SELECT
    feed,
    toStartOfHour(toDateTime(ingest_ts), 'UTC') AS hour,
    'ingest' AS step,
    'rejected' AS outcome,
    count() AS events
FROM {db}.rejected
GROUP BY feed, hour`

const airborneMinutelyView = `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.airborne_minutely_mv TO {db}.airborne_minutely AS
SELECT
    toStartOfMinute(toDateTime(ts)) AS minute,
    uniqState(gufi) AS flights
FROM {db}.positions
WHERE ifNull(on_ground, 0) = 0
GROUP BY minute`

// createdRE finds the object a DDL template creates.
var createdRE = regexp.MustCompile(`^CREATE (?:TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS \{db\}\.([A-Za-z_][A-Za-z0-9_]*)`)

// ViewTables names every table and view the migrations create, except the
// schema_migrations bookkeeping, in creation order: a table always comes
// before the views that read or write it, so creating in this order and
// dropping in reverse order is safe. Materialized views end in _mv. It is read
// from the DDL itself, so it cannot drift from what Migrate creates.
func ViewTables() []string {
	objs := schemaObjects() // a view replaced by a later migration is listed once
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.name
	}
	return out
}

package clickhouse

import "strings"

// Migration 3 ("aircraft") creates the per-aspect verdicts and the views of every aircraft heard,
// identified or not (ARCHITECTURE.md §5), from the track step's own topics:
// contrail.aircraft.state (one snapshot per aircraft a batch changed) and
// contrail.aircraft.positions (its position history). Both run on
// ClickHouse 18.16.
var aircraftStatements = []string{aircraftTable, aircraftPositionsTable, aircraftVelocitiesTable, aspectOutcomesTable,
	dropMovementsHourlyView, movementsHourlyViewV3, eventOutcomesInsertedTS, eventOutcomesTTL}

// The event_outcomes TTL of migration 2 (Modern servers only) was on
// processed_ts, the time the step judged the event: a rebuild of the views
// from offset 0, or tests with fixtures, insert rows processed long ago, which
// the TTL deleted at the first merge. The TTL is now on inserted_ts, the time
// the row reached ClickHouse, which no replay of old data can make old: a
// replay or rebuild keeps every row, and a row goes 400 days after it was
// written. Legacy servers have no TTL and keep everything.
const (
	eventOutcomesInsertedTS = modernOnly + `ALTER TABLE {db}.event_outcomes ADD COLUMN IF NOT EXISTS inserted_ts DateTime DEFAULT now()`
	eventOutcomesTTL        = modernOnly + `ALTER TABLE {db}.event_outcomes MODIFY TTL inserted_ts + INTERVAL 400 DAY`
)

// The movements view counts a movement at its aerodrome only: the flight
// step emits a departure (or arrival) again, under the same event id, once
// the aerodrome becomes known (a plan correlating after the track), and the
// movement is then counted there, once, whatever the processing order. A
// materialized view holds no data, so it is replaced by dropping it.
const dropMovementsHourlyView = `DROP TABLE IF EXISTS {db}.movements_hourly_mv`

var movementsHourlyViewV3 = strings.Replace(movementsHourlyView,
	"WHERE type IN ('FLIGHT_DEPARTED', 'FLIGHT_ARRIVED')",
	"WHERE type IN ('FLIGHT_DEPARTED', 'FLIGHT_ARRIVED') AND if(type = 'FLIGHT_DEPARTED', adep, ades) != ''", 1)

// aircraftVelocitiesTable is the velocity history of every aircraft heard:
// one row per valid velocity report (SBS MSG,4), late ones included. SBS
// position reports carry no velocity, so positions and aircraft_positions
// leave it out rather than borrow one from another message (which one
// would depend on arrival order); join by aircraft and time instead, e.g.
// per minute:
//
//	SELECT icao24, minute, alt, gs FROM
//	  (SELECT icao24, toStartOfMinute(ts) AS minute, avg(altitude_ft) AS alt
//	   FROM aircraft_positions FINAL WHERE revoked = 0 GROUP BY icao24, minute) AS p
//	ALL INNER JOIN
//	  (SELECT icao24, toStartOfMinute(ts) AS minute, avg(ground_speed_kt) AS gs
//	   FROM aircraft_velocities FINAL GROUP BY icao24, minute) AS v
//	USING icao24, minute
const aircraftVelocitiesTable = `CREATE TABLE IF NOT EXISTS {db}.aircraft_velocities (
    icao24 String,
    ts {tsseq},
    ts_ms Int64,
    event_id String,
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    topic {lc},
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (icao24, ts, ts_ms, event_id)`

// aspectOutcomesTable holds the verdict on each aspect of a message that
// carries several, when they were not all applied (a message whose altitude
// was stale and whose position arrived too late says both); event_outcomes
// has the event's overall verdict, the best of them. An event with no rows
// here had one verdict for everything it carried. Re-delivered events
// (duplicates) add nothing: the first verdict stands.
const aspectOutcomesTable = `CREATE TABLE IF NOT EXISTS {db}.aspect_outcomes (
    event_id String,
    feed {lc},
    step {lc},
    aspect {lc},
    outcome {lc},
    reason String,
    producer_ts {ts},
    producer_ts_ms Int64,
    lateness_ms Int64,
    processed_ts {ts}
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (feed, event_id, step, aspect)`

// aircraftTable is the current picture per aircraft (24-bit ICAO address):
// each aspect the newest valid value by producer time, as the track step
// holds it, plus first and last seen and the messages read. version is the
// message count, which grows with every snapshot of an aircraft, so FINAL
// (or a merge) keeps the latest; a replay or retry inserts snapshots of equal
// version and equal content.
const aircraftTable = `CREATE TABLE IF NOT EXISTS {db}.aircraft (
    icao24 String,
    callsign String,
    position_ts Nullable({ts}),
    lat Nullable(Float64),
    lon Nullable(Float64),
    altitude_ft Nullable(Int32),
    ground_speed_kt Nullable(Float64),
    track_deg Nullable(Float64),
    vertical_rate_fpm Nullable(Int32),
    squawk {lc},
    on_ground Nullable(UInt8),
    aspects Array({lc}),
    aspect_ts_ms Array(Int64),
    first_seen {ts},
    last_seen {ts},
    messages Int64,
    updated_ts {ts},
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY icao24`

// aircraftPositionsTable is the position history of every aircraft heard,
// identified or not: one row per valid position (late ones included), keyed
// by (icao24, ts, ts_ms, event_id). A position the track step later judges
// implausible gets a second row with the same key and revoked = 1; one
// judged valid again gets yet another. The version is the Kafka offset of
// the record: an aircraft's history is on one partition in the order the
// step judged it, so FINAL keeps the latest verdict. The valid history is
//
//	SELECT * FROM aircraft_positions FINAL WHERE revoked = 0
//
// and does not depend on arrival order; which positions were once recorded
// and then revoked does.
const aircraftPositionsTable = `CREATE TABLE IF NOT EXISTS {db}.aircraft_positions (
    icao24 String,
    ts {tsseq},
    ts_ms Int64,
    event_id String,
    lat {coord},
    lon {coord},
    altitude_ft Nullable(Int32),
    on_ground Nullable(UInt8),
    revoked UInt8,
    topic {lc},
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree(offset)
PARTITION BY toYYYYMM(ts)
ORDER BY (icao24, ts, ts_ms, event_id)`

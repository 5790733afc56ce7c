-- # The state of a flight as of a given time
--
-- What was known about the flights flown as EZY412 at 08:30 UTC (producer
-- time), rebuilt from the audit trail: the latest plan, EOBT and lifecycle
-- from the events up to that time, and the latest valid position up to it. Change
-- the callsign and the two timestamps to ask about another flight or time.
--
-- `argMaxIf(x, producer_ts_ms, cond)` takes x from the newest event that meets
-- cond, by producer time, whatever order the events arrived in; `FINAL` makes
-- every event count once. The lifecycle is the furthest step reached by then.
-- For the current state, `flights FINAL` has it ready.
SELECT
    gufi,
    callsign,
    adep,
    ades,
    eobt,
    cruise_level,
    lifecycle,
    position_ts,
    lat,
    lon,
    altitude_ft
FROM
(
    SELECT
        gufi,
        argMaxIf(callsign, producer_ts_ms, type IN ('FLIGHT_PLANNED', 'FLIGHT_PLAN_CHANGED')) AS callsign,
        argMaxIf(adep, producer_ts_ms, type IN ('FLIGHT_PLANNED', 'FLIGHT_PLAN_CHANGED')) AS adep,
        argMaxIf(ades, producer_ts_ms, type IN ('FLIGHT_PLANNED', 'FLIGHT_PLAN_CHANGED')) AS ades,
        argMaxIf(eobt, producer_ts_ms, type IN ('FLIGHT_PLANNED', 'FLIGHT_PLAN_CHANGED', 'FLIGHT_DELAYED')) AS eobt,
        argMaxIf(cruise_level, producer_ts_ms, type IN ('FLIGHT_PLANNED', 'FLIGHT_PLAN_CHANGED')) AS cruise_level,
        multiIf(
            countIf(type = 'FLIGHT_CANCELLED') > 0, 'CANCELLED',
            countIf(type = 'FLIGHT_ARRIVED') > 0, 'LANDED',
            countIf(type = 'FLIGHT_DEPARTED') > 0, 'AIRBORNE',
            'PLANNED') AS lifecycle
    FROM flight_events FINAL
    WHERE gufi IN (SELECT gufi FROM flights FINAL WHERE callsign = 'EZY412')
      AND producer_ts_ms <= toInt64(toDateTime('2026-01-01 08:30:00', 'UTC')) * 1000
    GROUP BY gufi
) AS a
ANY LEFT JOIN
(
    SELECT
        gufi,
        max(ts) AS position_ts,
        argMax(lat, ts_ms) AS lat,
        argMax(lon, ts_ms) AS lon,
        argMax(altitude_ft, ts_ms) AS altitude_ft
    FROM positions_valid
    WHERE gufi IN (SELECT gufi FROM flights FINAL WHERE callsign = 'EZY412')
      AND ts_ms <= toInt64(toDateTime('2026-01-01 08:30:00', 'UTC')) * 1000
    GROUP BY gufi
) AS b USING gufi
ORDER BY gufi

-- # Time from first plan to first position
--
-- Per planned flight: when its first plan was filed (producer time of the
-- first FLIGHT_PLANNED event), when surveillance first saw it airborne, and the
-- minutes in between. A flight never seen (cancelled, or not yet departed) has
-- NULLs.
--
-- ClickHouse 18.16 fills a LEFT JOIN's missing side with defaults rather than
-- NULL, hence the `first_position > 0` test. `flight_events FINAL` and
-- `positions_valid` are deduplicated, so the result is exact. The minutes are
-- rounded half up in integer arithmetic: `round` on a float rounds a tie
-- differently on 18.16 and on current releases.
SELECT
    gufi,
    callsign,
    first_plan,
    if(first_position > toDateTime(0), first_position, NULL) AS first_seen,
    if(first_position > toDateTime(0), intDiv((toInt64(first_position) - toInt64(first_plan)) * 10 + 30, 60) / 10, NULL) AS minutes
FROM
(
    SELECT gufi, argMin(callsign, producer_ts_ms) AS callsign, min(producer_ts) AS first_plan
    FROM flight_events FINAL
    WHERE type = 'FLIGHT_PLANNED'
    GROUP BY gufi
) AS a
ANY LEFT JOIN
(
    SELECT gufi, min(ts) AS first_position
    FROM positions_valid
    GROUP BY gufi
) AS b USING gufi
ORDER BY gufi

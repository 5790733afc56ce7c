-- # Flights airborne now
--
-- One row per flight whose newest valid position is less than five minutes
-- older than "now" and not on the ground, with that position and the
-- flight's plan. "Now" is the newest position time in the table, so the query
-- also works on a replayed or simulated day; in production replace
-- `(SELECT max(ts) FROM positions)` with `now()`.
--
-- `argMax(x, ts_ms)` takes each column from the newest position (ts_ms breaks
-- ties within a second); `flights FINAL` gives one row per GUFI even before
-- ClickHouse has merged the state snapshots, with the current ground speed
-- (the newest velocity report: SBS position reports carry none). A flight whose last position is
-- older than the window has landed or left coverage; a flight that never
-- reported a position is not airborne as far as surveillance knows.
SELECT
    gufi,
    callsign,
    adep,
    ades,
    last_ts,
    lat,
    lon,
    altitude_ft,
    ground_speed_kt
FROM
(
    SELECT
        gufi,
        max(ts) AS last_ts,
        argMax(lat, ts_ms) AS lat,
        argMax(lon, ts_ms) AS lon,
        argMax(altitude_ft, ts_ms) AS altitude_ft
    FROM positions_valid
    WHERE ts > (SELECT max(ts) FROM positions) - 300
    GROUP BY gufi
    HAVING argMax(ifNull(on_ground, 0), ts_ms) = 0
) AS a
ANY LEFT JOIN
(
    SELECT gufi, callsign, adep, ades, ground_speed_kt
    FROM flights FINAL
) AS b USING gufi
ORDER BY gufi

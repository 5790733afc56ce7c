-- # Flights without a plan
--
-- Flights the pipeline knows only from surveillance: no FLIGHT_PLANNED event
-- was ever correlated with them. Each is a GUFI the flight step opened for an
-- aircraft it could not match to a plan (a VFR or military flight, a plan
-- that never reached us, or a correlation miss), with when it was seen.
--
-- `flights FINAL` gives each flight's newest state; the event count and the
-- time span come from its deduplicated positions.
SELECT
    gufi,
    callsign,
    icao24,
    lifecycle,
    first_seen,
    last_seen,
    positions
FROM
(
    SELECT gufi, callsign, icao24, lifecycle
    FROM flights FINAL
    WHERE gufi NOT IN (SELECT gufi FROM flight_events WHERE type = 'FLIGHT_PLANNED')
) AS a
ANY LEFT JOIN
(
    SELECT gufi, min(ts) AS first_seen, max(ts) AS last_seen, count() AS positions
    FROM positions_valid
    GROUP BY gufi
) AS b USING gufi
ORDER BY gufi

-- # Average ground speed by flight level band
--
-- Airborne minutes of every aircraft grouped in bands of 50 flight levels
-- (5000 ft, by barometric altitude), with the average and the 95th
-- percentile ground speed in knots and how many aircraft-minutes and
-- aircraft each band holds.
--
-- Positions and velocity reports are separate messages (SBS MSG,3 and
-- MSG,4), so each is kept in its own history: `aircraft_positions` (valid
-- positions, `revoked = 0`) and `aircraft_velocities`, both of every aircraft
-- heard, identified or not. They are joined per aircraft and minute, which
-- needs no ASOF JOIN and runs on ClickHouse 18.16. The averages are rounded
-- because floating-point sums depend on the order ClickHouse adds them in.
SELECT
    intDiv(toInt32(alt), 5000) * 50 AS fl_from,
    fl_from + 49 AS fl_to,
    count() AS minutes,
    uniqExact(icao24) AS aircraft,
    round(avg(gs), 1) AS avg_gs_kt,
    round(quantileExact(0.95)(gs), 1) AS p95_gs_kt
FROM
(
    SELECT icao24, toStartOfMinute(ts) AS minute, avg(altitude_ft) AS alt
    FROM aircraft_positions FINAL
    WHERE revoked = 0 AND ifNull(on_ground, 0) = 0 AND altitude_ft IS NOT NULL
    GROUP BY icao24, minute
) AS p
ALL INNER JOIN
(
    SELECT icao24, toStartOfMinute(ts) AS minute, avg(ground_speed_kt) AS gs
    FROM aircraft_velocities FINAL
    WHERE ground_speed_kt IS NOT NULL
    GROUP BY icao24, minute
) AS v USING icao24, minute
GROUP BY fl_from
ORDER BY fl_from

-- # Average ground speed by flight level band
--
-- Airborne positions grouped in bands of 50 flight levels (5000 ft, by
-- barometric altitude), with the average and the 95th percentile ground
-- speed in knots and how many positions and flights each band holds.
--
-- Positions without an altitude or a speed (a position report before the
-- first velocity message) are left out. `positions_valid` is deduplicated, so
-- each position counts once; the averages are rounded because floating-point
-- sums depend on the order ClickHouse adds them in.
SELECT
    intDiv(altitude_ft, 5000) * 50 AS fl_from,
    fl_from + 49 AS fl_to,
    count() AS positions,
    uniqExact(gufi) AS flights,
    round(avg(ground_speed_kt), 1) AS avg_gs_kt,
    round(quantileExact(0.95)(ground_speed_kt), 1) AS p95_gs_kt
FROM positions_valid
WHERE ifNull(on_ground, 0) = 0 AND altitude_ft IS NOT NULL AND ground_speed_kt IS NOT NULL
GROUP BY fl_from
ORDER BY fl_from

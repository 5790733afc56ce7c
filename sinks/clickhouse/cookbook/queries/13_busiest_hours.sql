-- # Busiest hours
--
-- The three UTC hours with the most distinct flights airborne (at least one
-- airborne valid position in the hour), with the positions received.
--
-- `uniqExact` over `positions_valid` is exact and unaffected by duplicates.
-- The `airborne_minutely` view answers the per-minute question cheaply (see
-- "Peak minutes"), but an hour's distinct flights cannot be added up from
-- its minutes.
SELECT
    toStartOfHour(ts) AS hour,
    uniqExact(gufi) AS flights_airborne,
    count() AS positions
FROM positions_valid
WHERE ifNull(on_ground, 0) = 0
GROUP BY hour
ORDER BY flights_airborne DESC, hour
LIMIT 3

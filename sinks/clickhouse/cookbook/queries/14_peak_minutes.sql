-- # Peak minutes
--
-- The five UTC minutes with the most flights airborne, from the
-- `airborne_minutely` materialized view. It keeps `uniq` states, which do not
-- change when the same flight is added again, so it stays correct after a
-- replay; `uniq` is approximate only beyond tens of thousands of flights per
-- minute. It counts revoked positions too; for the exact figure without them:
--
--     SELECT toStartOfMinute(ts) AS minute, uniqExact(gufi) AS flights
--     FROM positions_valid WHERE ifNull(on_ground, 0) = 0
--     GROUP BY minute ORDER BY flights DESC, minute LIMIT 5
SELECT
    minute,
    uniqMerge(flights) AS flights
FROM airborne_minutely
GROUP BY minute
ORDER BY flights DESC, minute
LIMIT 5

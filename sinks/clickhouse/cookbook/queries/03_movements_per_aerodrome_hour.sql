-- # Movements per aerodrome and hour
--
-- Departures and arrivals per aerodrome and UTC hour of the departure or
-- arrival time, from the `movements_hourly` materialized view. The view stores
-- the set of event ids per cell (`uniqExactState`), so `uniqExactMerge` stays
-- exact when events are inserted twice (a retried insert, a replay): it does
-- not over-count.
--
-- A departure is detected from surveillance (the first airborne position); an
-- arrival comes from an ARR message, so flights whose arrival was never
-- messaged have no arrival row. An empty aerodrome is a flight the pipeline
-- has not correlated with a plan (see "Flights without a plan").
SELECT
    aerodrome,
    hour,
    direction,
    uniqExactMerge(movements) AS movements
FROM movements_hourly
GROUP BY aerodrome, hour, direction
ORDER BY aerodrome, hour, direction

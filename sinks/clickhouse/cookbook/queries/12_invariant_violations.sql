-- # Invariant violations per rule
--
-- How often each invariant of the flight step (docs/invariants.md) was
-- violated, on how many flights, and when first and last. A violation means
-- the step refused an event that would have broken a rule (a position
-- implausibly far from the previous one, an arrival before a departure, ...)
-- and recorded why; rule `position-plausible` also revokes the position, which
-- `positions_valid` then leaves out.
--
-- `flight_events FINAL` counts each violation once.
SELECT
    rule,
    count() AS violations,
    uniqExact(gufi) AS flights,
    min(producer_ts) AS first,
    max(producer_ts) AS last
FROM flight_events FINAL
WHERE type = 'INVARIANT_VIOLATED'
GROUP BY rule
ORDER BY rule

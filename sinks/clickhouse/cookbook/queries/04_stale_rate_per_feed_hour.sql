-- # Stale rate per feed and hour
--
-- Per feed and UTC hour of producer time: the accepted records, how many a
-- processor step judged stale (an older update than what it had already
-- applied for that aspect of the aircraft or flight), and the stale rate.
-- `event_outcomes` stores only the verdicts that are not "applied", so
-- "applied" is every accepted record without an outcome row.
--
-- Exactness: `raw_events FINAL` counts each record once, and `IN` on the
-- outcome's event id cannot count a verdict twice, so the result does not
-- change when rows are inserted again. Do not use `outcomes_hourly` for this:
-- it sums counts and over-counts after a replay, and it is bucketed by
-- processing time. Rejected records are not here (they have no producer
-- time): see "Rejects per feed".
SELECT
    feed,
    toStartOfHour(producer_ts) AS hour,
    count() AS accepted,
    countIf(event_id IN (SELECT event_id FROM event_outcomes WHERE outcome = 'stale')) AS stale,
    round(stale / accepted, 4) AS stale_rate
FROM raw_events FINAL
WHERE outcome = 'accepted'
GROUP BY feed, hour
ORDER BY feed, hour

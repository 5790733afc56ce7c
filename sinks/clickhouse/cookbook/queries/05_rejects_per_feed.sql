-- # Rejects per feed
--
-- Per feed and reject reason: how many records were rejected, and their share
-- of everything the feed delivered. A rejected record failed its feed's syntax
-- check; its bytes and the reason are kept in `rejected` (and in `raw_events`
-- with outcome `rejected`).
--
-- A rejected record has no producer time (its `producer_ts` is the time it was
-- received), so rejects per hour can only be per hour of ingest: add
-- `toStartOfHour(ingest_ts) AS hour` to both `GROUP BY`s. `FINAL` keeps the
-- counts exact when rows were inserted twice; `outcomes_hourly` (step
-- `ingest`, outcome `rejected`) would over-count after a replay. `ALL INNER
-- JOIN`: since 20.x `ANY INNER JOIN` keeps one row per key of the left side
-- too, which would keep one reason per feed; the right side has one row per
-- feed, so `ALL` gives the same rows on every release.
SELECT
    feed,
    reason_code,
    rejects,
    records,
    round(rejects / records, 4) AS reject_rate
FROM
(
    SELECT feed, reason_code, count() AS rejects
    FROM raw_events FINAL
    WHERE outcome = 'rejected'
    GROUP BY feed, reason_code
) AS a
ALL INNER JOIN
(
    SELECT feed, count() AS records
    FROM raw_events FINAL
    GROUP BY feed
) AS b USING feed
ORDER BY feed, reason_code

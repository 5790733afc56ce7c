-- # Freshness per feed
--
-- How far behind each stage is, per feed, as far as the tables can tell:
--
-- * producer → ingest: `ingest_ts - producer_ts` of accepted records whose
--   producer time came from the payload (median, 95th percentile, maximum, in
--   seconds). Large values mean a slow or buffered source, or a replay.
-- * ingest → processed: the newest `emitted_ts` of the domain events derived
--   from the feed, against the newest ingest time.
-- * visible: `seconds_since_ingest` is how old the newest row of the feed is
--   now; no column records when a row became visible, so this is the upper
--   bound an analyst sees.
--
-- `newest_producer_ts` is the data horizon: the newest event time the tables
-- hold for the feed. Everything except it and `records` depends on when the
-- pipeline ran (the test masks those columns). For the same figure per
-- pipeline stage from Kafka's point of view, run `contrail status`.
-- volatile: ingest_lag_p50_s, ingest_lag_p95_s, ingest_lag_max_s, newest_ingest_ts, newest_emitted_ts, process_lag_s, seconds_since_ingest
SELECT
    feed,
    records,
    newest_producer_ts,
    ingest_lag_p50_s,
    ingest_lag_p95_s,
    ingest_lag_max_s,
    newest_ingest_ts,
    newest_emitted_ts,
    toInt64(newest_emitted_ts) - toInt64(newest_ingest_ts) AS process_lag_s,
    toInt64(now()) - toInt64(newest_ingest_ts) AS seconds_since_ingest
FROM
(
    SELECT
        feed,
        count() AS records,
        maxIf(producer_ts, outcome = 'accepted') AS newest_producer_ts,
        quantileExactIf(0.5)(toInt64(ingest_ts) - toInt64(producer_ts), producer_ts_source = 'PAYLOAD') AS ingest_lag_p50_s,
        quantileExactIf(0.95)(toInt64(ingest_ts) - toInt64(producer_ts), producer_ts_source = 'PAYLOAD') AS ingest_lag_p95_s,
        maxIf(toInt64(ingest_ts) - toInt64(producer_ts), producer_ts_source = 'PAYLOAD') AS ingest_lag_max_s,
        max(ingest_ts) AS newest_ingest_ts
    FROM raw_events FINAL
    GROUP BY feed
) AS a
ANY LEFT JOIN
(
    SELECT feed, max(emitted_ts) AS newest_emitted_ts
    FROM flight_events
    GROUP BY feed
) AS b USING feed
ORDER BY feed

-- # Emergency squawks
--
-- Every emergency declared (squawk 7500, 7600 or 7700 seen on surveillance),
-- with the flight's callsign and route from its current state. An emergency
-- episode is declared once, when it starts; the flight's `emergency` column
-- in `flights` says whether it is still going on.
--
-- `flight_events FINAL` lists each event once however often it was inserted.
SELECT
    gufi,
    callsign,
    adep,
    ades,
    producer_ts AS declared,
    squawk,
    detail,
    emergency AS still_in_emergency
FROM
(
    SELECT gufi, producer_ts, producer_ts_ms, squawk, detail
    FROM flight_events FINAL
    WHERE type = 'EMERGENCY_DECLARED'
) AS a
ANY LEFT JOIN
(
    SELECT gufi, callsign, adep, ades, emergency
    FROM flights FINAL
) AS b USING gufi
ORDER BY declared, gufi

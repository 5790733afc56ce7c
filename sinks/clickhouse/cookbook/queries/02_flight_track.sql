-- # A flight's track
--
-- The track of every flight flown under one callsign (each leg is its own
-- GUFI), one point per minute: the first valid position of each minute. For
-- the full-resolution track drop the `GROUP BY` and select the columns of
-- `positions_valid` directly, `ORDER BY gufi, ts_ms`; to follow one leg, filter
-- on its `gufi` instead of the callsign.
--
-- A position row holds what its own report carried: SBS position messages
-- have no speed or track, which `aircraft_velocities` has (see the speed by
-- flight level query for a join by minute).
--
-- `positions_valid` is deduplicated (it reads `positions FINAL`) and leaves
-- out positions the processor revoked as implausible. Late positions are
-- included: history keeps them even when they were too old to update the
-- flight's current state.
SELECT
    gufi,
    toStartOfMinute(ts) AS minute,
    argMin(lat, ts_ms) AS lat,
    argMin(lon, ts_ms) AS lon,
    argMin(altitude_ft, ts_ms) AS altitude_ft,
    count() AS positions
FROM positions_valid
WHERE gufi IN (SELECT gufi FROM flights FINAL WHERE callsign = 'LOT73QH')
GROUP BY gufi, minute
ORDER BY gufi, minute

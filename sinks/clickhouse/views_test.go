package clickhouse_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// TestIntegrationWriterViews produces domain events (a duplicate and a
// revoked position among them), flight states (the newer one first),
// outcomes, rejects, envelopes and one undecodable record to a real broker,
// runs the writer over all of them with one consumer group and checks every
// table and view on the real ClickHouse. A second writer in a fresh group
// then replays the same log: no FINAL query, and no replay-safe view,
// changes.
func TestIntegrationWriterViews(t *testing.T) {
	seeds := infratest.Kafka(t)
	conn := openFresh(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	if _, err := clickhouse.Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	db := conn.Database

	n := topics.Names{Prefix: infratest.Name(t, "it")}
	raw := n.Raw("sbs")
	all := []string{raw, n.Rejected(), n.FlightEvents(), n.FlightState(), n.Outcomes(), n.AircraftState(), n.AircraftPositions()}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopics(ctx, 2, 1, nil, all...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), all...) })

	reg := schemas.MustRegistry()
	var recs []*kgo.Record
	add := func(topic, key string, v []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(key), Value: v})
	}
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	ev := func(id, gufi string, ts time.Time) schemas.DomainEvent {
		return schemas.DomainEvent{EventID: id, GUFI: gufi, ProducerTS: ts, EmittedTS: ts.Add(time.Second), Feed: "sbs", Cause: []string{"raw-" + id}}
	}
	alt, spd := int32(12000), 420.5
	pos := func(ts time.Time, icao string, lat float64) *schemas.PositionReported {
		onGround := false
		return &schemas.PositionReported{Position: schemas.Position{TS: ts, ICAO24: icao, Lat: lat, Lon: 2.5, AltitudeFt: &alt, GroundSpeedKt: &spd, OnGround: &onGround}}
	}
	events := []schemas.DomainEvent{}
	e := ev("e1", "G1", at(-time.Hour))
	e.FlightPlanned = &schemas.FlightPlanned{Plan: schemas.FlightPlan{Callsign: "BAW1", ADEP: "EGLL", ADES: "LFPG", EOBT: at(0), AircraftType: "A320"}}
	events = append(events, e)
	e = ev("e2", "G1", at(5*time.Minute))
	e.FlightDeparted = &schemas.FlightDeparted{ADEP: "EGLL", DepartureTS: at(5 * time.Minute)}
	events = append(events, e)
	// Two positions in the same second: distinct rows even on 18.16's DateTime.
	e = ev("e3", "G1", at(10*time.Minute+100*time.Millisecond))
	e.PositionReported = pos(e.ProducerTS, "4CA123", 51.1)
	events = append(events, e)
	e = ev("e4", "G1", at(10*time.Minute+600*time.Millisecond))
	e.PositionReported = pos(e.ProducerTS, "4CA123", 51.2)
	events = append(events, e)
	e = ev("e5", "G1", at(11*time.Minute))
	e.PositionReported = pos(e.ProducerTS, "4CA123", 89.9)
	events = append(events, e)
	e = ev("e6", "G1", at(11*time.Minute+time.Second))
	e.InvariantViolated = &schemas.InvariantViolated{Rule: clickhouse.RulePositionPlausible, Detail: "implied speed above Mach 3", RejectedEventID: "e5"}
	events = append(events, e)
	e = ev("e7", "G1", at(65*time.Minute))
	e.FlightArrived = &schemas.FlightArrived{ADES: "LFPG", ArrivalTS: at(65 * time.Minute)}
	events = append(events, e)
	e = ev("e8", "G2", at(10*time.Minute+30*time.Second))
	e.PositionReported = pos(e.ProducerTS, "3C0001", 48.0)
	events = append(events, e)
	e = ev("e9", "G2", at(12*time.Minute))
	e.EmergencyDeclared = &schemas.EmergencyDeclared{Squawk: "7700"}
	events = append(events, e)
	e = ev("e10", "G2", at(13*time.Minute))
	e.AlertRaised = &schemas.AlertRaised{AlertID: "a1", Kind: "STCA", OtherGUFI: "G1", Message: "loss of separation"}
	events = append(events, e)
	events = append(events, events[2]) // a duplicate of e3
	for i := range events {
		v, err := reg.EncodeEvent(nil, &events[i])
		add(n.FlightEvents(), events[i].GUFI, v, err)
	}
	add(n.FlightEvents(), "G9", []byte("not avro"), nil)

	// The newer snapshot of G1 first: its version, not arrival, must win.
	newer := schemas.FlightState{GUFI: "G1", Callsign: "BAW1", ADEP: "EGLL", ADES: "LFPG", Lifecycle: schemas.LifecycleAirborne,
		LastPosition: &events[3].PositionReported.Position, AspectTS: map[string]time.Time{"plan": at(-time.Hour), "position": at(10 * time.Minute)},
		EventCount: 4, UpdatedTS: at(20 * time.Minute)}
	older := schemas.FlightState{GUFI: "G1", Callsign: "BAW1", ADEP: "EGLL", ADES: "LFPG", Lifecycle: schemas.LifecyclePlanned,
		AspectTS: map[string]time.Time{"plan": at(-time.Hour)}, EventCount: 1, UpdatedTS: at(-time.Hour)}
	g2 := schemas.FlightState{GUFI: "G2", ICAO24: "3C0001", Squawk: "7700", Emergency: true, Lifecycle: schemas.LifecycleAirborne,
		AspectTS: map[string]time.Time{"status": at(12 * time.Minute)}, EventCount: 3, UpdatedTS: at(14 * time.Minute)}
	for _, s := range []*schemas.FlightState{&newer, &older, &g2} {
		v, err := reg.EncodeFlightState(nil, s)
		add(n.FlightState(), s.GUFI, v, err)
	}
	recs = append(recs, &kgo.Record{Topic: n.FlightState(), Key: []byte("G0")}) // a tombstone

	for _, o := range []schemas.Outcome{
		// Applied, with one aspect stale: only the aspects are written.
		{EventID: "r1", Feed: "sbs", Step: "track", Outcome: schemas.OutcomeApplied, ProducerTS: at(0), ProcessedTS: at(time.Minute),
			Aspects: []schemas.AspectOutcome{{Aspect: "altitude", Outcome: schemas.OutcomeStale, Lateness: 2 * time.Second}, {Aspect: "position", Outcome: schemas.OutcomeApplied}}},
		{EventID: "r2", Feed: "sbs", Step: "track", Outcome: schemas.OutcomeStale, Reason: "older than latest", ProducerTS: at(0), Lateness: 1500 * time.Millisecond, ProcessedTS: at(time.Minute)},
		{EventID: "r2", Feed: "sbs", Step: "flight", Outcome: schemas.OutcomeDuplicate, ProducerTS: at(0), GUFI: "G1", ProcessedTS: at(2 * time.Minute)},
	} {
		v, err := reg.EncodeOutcome(nil, &o)
		add(n.Outcomes(), o.EventID, v, err)
	}
	for _, x := range []schemas.Rejected{
		{ID: "x1", Feed: "sbs", ReasonCode: "sbs.fields", Reason: "too few fields", IngestTS: at(time.Minute), Origin: "tcp:a", Raw: []byte("MSG,3")},
		{ID: "x2", Feed: "sbs", ReasonCode: "sbs.time", Reason: "bad date", IngestTS: at(2 * time.Minute), Origin: "tcp:a", Raw: []byte("MSG,3,,,")},
	} {
		v, err := reg.EncodeRejected(nil, &x)
		add(n.Rejected(), x.ID, v, err)
	}
	// Two snapshots of one aircraft, the newer (more messages) first, and an
	// unidentified one; its history: a position, the same position revoked
	// (later offset: revoked wins), another position, a velocity report.
	lat, lon, gs := 51.3, 2.6, 431.0
	for _, a := range []schemas.AircraftState{
		{ICAO24: "4CA123", Callsign: "BAW1", PositionTS: at(10 * time.Minute), Lat: &lat, Lon: &lon, AltitudeFt: &alt, GroundSpeedKt: &gs,
			Squawk: "1000", AspectTS: map[string]time.Time{"altitude": at(10 * time.Minute)}, FirstSeen: at(0), LastSeen: at(10 * time.Minute), Messages: 9, UpdatedTS: at(11 * time.Minute)},
		{ICAO24: "4CA123", FirstSeen: at(0), LastSeen: at(0), Messages: 1, UpdatedTS: at(time.Minute)},
		{ICAO24: "3C0002", AltitudeFt: &alt, FirstSeen: at(0), LastSeen: at(time.Minute), Messages: 2, UpdatedTS: at(2 * time.Minute)},
	} {
		v, err := reg.Encode(nil, &a)
		add(n.AircraftState(), a.ICAO24, v, err)
	}
	for _, te := range []schemas.TrackEvent{
		{EventID: "p1", ICAO24: "3C0002", TS: at(time.Minute), Position: &schemas.Position{TS: at(time.Minute), ICAO24: "3C0002", Lat: 50, Lon: 3, AltitudeFt: &alt}},
		{EventID: "p1", ICAO24: "3C0002", TS: at(time.Minute), Revoked: true},
		{EventID: "p2", ICAO24: "3C0002", TS: at(2 * time.Minute), Position: &schemas.Position{TS: at(2 * time.Minute), ICAO24: "3C0002", Lat: 50.1, Lon: 3}},
		{EventID: "v1", ICAO24: "3C0002", TS: at(90 * time.Second), GroundSpeedKt: &gs},
	} {
		v, err := reg.Encode(nil, &te)
		add(n.AircraftPositions(), te.ICAO24, v, err)
	}
	for i, r := range []string{"MSG,3,a", "MSG,3,b"} {
		v, err := reg.EncodeEnvelope(nil, &schemas.Envelope{ID: schemas.EventID("sbs", "t", []byte(r)), Feed: "sbs", Key: "4CA123",
			ProducerTS: at(time.Duration(i) * time.Second), ProducerTSSource: schemas.FromPayload, IngestTS: at(time.Minute), Raw: []byte(r)})
		add(raw, "4CA123", v, err)
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	runWriter(t, ctx, conn, seeds, adm, n, all, infratest.Name(t, "g"), reg)

	final := map[string]string{
		"flight_events":   "SELECT event_id, gufi, type, producer_ts_ms, emitted_ts, cause, event_ts, callsign, adep, ades, eobt, aircraft_type, squawk, alert_kind, other_gufi, rule, detail, rejected_event_id, icao24, lat, lon, altitude_ft, on_ground, payload != '' FROM " + db + ".flight_events FINAL ORDER BY gufi, event_id",
		"positions":       "SELECT gufi, ts_ms, icao24, lat, lon, altitude_ft, ground_speed_kt, on_ground, event_id FROM " + db + ".positions FINAL ORDER BY gufi, ts_ms",
		"positions_valid": "SELECT gufi, ts_ms, event_id FROM " + db + ".positions_valid ORDER BY gufi, ts_ms",
		"flights":         "SELECT gufi, callsign, adep, ades, lifecycle, position_ts, lat, squawk, emergency, aspects, aspect_ts_ms, event_count, producer_ts_ms, version FROM " + db + ".flights FINAL ORDER BY gufi",
		"event_outcomes":  "SELECT feed, event_id, step, outcome, reason, lateness_ms, gufi, processed_ts FROM " + db + ".event_outcomes FINAL ORDER BY feed, event_id, step",
		"aspect_outcomes": "SELECT feed, event_id, step, aspect, outcome, lateness_ms FROM " + db + ".aspect_outcomes FINAL ORDER BY feed, event_id, step, aspect",
		"aircraft":        "SELECT icao24, callsign, lat, altitude_ft, ground_speed_kt, squawk, aspects, first_seen, last_seen, messages FROM " + db + ".aircraft FINAL ORDER BY icao24",
		"aircraft_pos":    "SELECT icao24, ts_ms, event_id, lat, revoked FROM " + db + ".aircraft_positions FINAL ORDER BY icao24, ts_ms",
		"aircraft_vel":    "SELECT icao24, ts_ms, event_id, ground_speed_kt FROM " + db + ".aircraft_velocities FINAL ORDER BY icao24, ts_ms",
		"rejected":        "SELECT feed, id, reason_code, reason, ingest_ts, origin, raw FROM " + db + ".rejected FINAL ORDER BY feed, id",
		"raw_events":      "SELECT feed, event_id, outcome, reason_code, topic FROM " + db + ".raw_events FINAL ORDER BY outcome, event_id",
		"movements":       "SELECT aerodrome, hour, direction, uniqExactMerge(movements) FROM " + db + ".movements_hourly GROUP BY aerodrome, hour, direction ORDER BY aerodrome, hour",
		"airborne":        "SELECT minute, uniqMerge(flights) FROM " + db + ".airborne_minutely GROUP BY minute ORDER BY minute",
		"outcomes exact":  "SELECT feed, step, outcome, toStartOfHour(processed_ts) AS hour, count() FROM " + db + ".event_outcomes FINAL GROUP BY feed, step, outcome, hour ORDER BY step, outcome",
	}
	before := map[string][]string{}
	for name, q := range final {
		before[name] = dump(t, conn, q)
	}

	check := func(name string, want ...string) {
		t.Helper()
		got := before[name]
		if len(got) != len(want) {
			t.Errorf("%s has %d rows, want %d:\n%s", name, len(got), len(want), strings.Join(got, "\n"))
			return
		}
		for i := range want {
			for _, part := range strings.Split(want[i], "|") {
				if !strings.Contains(got[i], part) {
					t.Errorf("%s row %d = %s\nlacks %q", name, i, got[i], part)
				}
			}
		}
	}
	check("flight_events",
		"e1 G1 FLIGHT_PLANNED|BAW1 EGLL LFPG 2025-03-01 10:00:00 +0000 UTC A320",
		"e2 G1 FLIGHT_DEPARTED|2025-03-01 10:05:00 +0000 UTC  EGLL ",
		"e3 G1 POSITION_REPORTED 1740823800100|4CA123 51.1 2.5 12000 0 1",
		"e4 G1 POSITION_REPORTED 1740823800600", "e5 G1 POSITION_REPORTED",
		"e6 G1 INVARIANT_VIOLATED|position-plausible implied speed above Mach 3 e5",
		"e7 G1 FLIGHT_ARRIVED|2025-03-01 11:05:00 +0000 UTC   LFPG ",
		"e10 G2 ALERT_RAISED|STCA G1  loss of separation", "e8 G2 POSITION_REPORTED", "e9 G2 EMERGENCY_DECLARED|7700")
	check("positions", "G1 1740823800100 4CA123 51.1 2.5 12000 420.5 0 e3", "G1 1740823800600 4CA123 51.2", "G1 1740823860000 4CA123 89.9", "G2 1740823830000 3C0001 48")
	check("positions_valid", "e3", "e4", "e8")
	check("flights", "G1 BAW1 EGLL LFPG AIRBORNE|51.2|[plan position]|4 1740823800000", "G2|7700 1|[status]|3")
	check("event_outcomes", "sbs r2 flight duplicate", "sbs r2 track stale older than latest 1500")
	check("aspect_outcomes", "sbs r1 track altitude stale 2000", "sbs r1 track position applied 0")
	check("aircraft", "3C0002  ", "4CA123 BAW1 51.3 12000 431 1000 [altitude]|9")
	check("aircraft_pos", "3C0002 1740823260000 p1 0 1", "3C0002 1740823320000 p2 50.1 0")
	check("aircraft_vel", "3C0002 1740823290000 v1 431")
	check("rejected", "sbs x1 sbs.fields too few fields", "sbs x2 sbs.time bad date")
	check("raw_events", "sbs", "sbs", " rejected sink.undecodable "+n.FlightEvents(), "sbs x1 rejected sbs.fields", "sbs x2 rejected sbs.time")
	check("movements", "EGLL 2025-03-01 10:00:00 +0000 UTC departure 1", "LFPG 2025-03-01 11:00:00 +0000 UTC arrival 1")
	check("airborne", "10:10:00 +0000 UTC 2", "10:11:00 +0000 UTC 1")
	var revoked uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".revoked_positions WHERE gufi = 'G1' AND position_event_id = 'e5' AND violation_event_id = 'e6'").Scan(&revoked); err != nil || revoked != 1 {
		t.Errorf("revoked_positions has %d rows for e5 (%v), want 1", revoked, err)
	}
	var summed uint64
	if err := conn.QueryRow(ctx, "SELECT sum(events) FROM "+db+".outcomes_hourly").Scan(&summed); err != nil || summed != 4 {
		t.Errorf("outcomes_hourly sums to %d (%v), want 4 (2 outcomes, 2 rejects)", summed, err)
	}

	// Replay everything in a fresh group: FINAL results and the replay-safe
	// views do not change.
	runWriter(t, ctx, conn, seeds, adm, n, all, infratest.Name(t, "g"), reg)
	var rows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".flight_events").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	t.Logf("flight_events holds %d rows before merges after the replay (10 distinct events)", rows)
	for name, q := range final {
		if got := dump(t, conn, q); !reflect.DeepEqual(got, before[name]) {
			t.Errorf("%s changed on replay:\n--- before\n%s\n--- after\n%s", name, strings.Join(before[name], "\n"), strings.Join(got, "\n"))
		}
	}
}

// runWriter runs a writer in group over the test topics until the group has
// committed every partition's end offset, then stops it.
func runWriter(t *testing.T, ctx context.Context, conn *clickhouse.Conn, seeds []string, adm *kadm.Client, n topics.Names, all []string, group string, reg *schemas.Registry) {
	t.Helper()
	cons, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(all...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll())
	if err != nil {
		t.Fatal(err)
	}
	defer cons.CloseAllowingRebalance()
	w := clickhouse.NewWriter(conn, cons, reg, n.Rejected(), clickhouse.WriterOptions{
		FlushInterval: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond,
		Topics: clickhouse.Topics{Events: n.FlightEvents(), State: n.FlightState(), Outcomes: n.Outcomes(),
			Aircraft: n.AircraftState(), AircraftPositions: n.AircraftPositions()},
	}, slog.New(slog.DiscardHandler), nil)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	ends, err := adm.ListEndOffsets(ctx, all...)
	if err != nil {
		t.Fatal(err)
	}
	for {
		committed, err := adm.FetchOffsets(ctx, group)
		if err == nil && caughtUp(ends, committed) {
			break
		}
		select {
		case err := <-done:
			stop()
			t.Fatalf("writer stopped before catching up: %v", err)
		case <-ctx.Done():
			stop()
			t.Fatalf("writer did not catch up: %v (last offset fetch error %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func caughtUp(ends kadm.ListedOffsets, committed kadm.OffsetResponses) bool {
	ok := true
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset == 0 {
			return
		}
		c, found := committed.Lookup(o.Topic, o.Partition)
		if !found || c.Err != nil || c.At < o.Offset {
			ok = false
		}
	})
	return ok
}

// dump runs q and renders each row as its values separated by spaces.
func dump(t *testing.T, conn *clickhouse.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out []string
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		parts := make([]string, len(dest))
		for i, d := range dest {
			v := reflect.ValueOf(d).Elem()
			for v.Kind() == reflect.Pointer && !v.IsNil() {
				v = v.Elem()
			}
			if v.Kind() == reflect.Pointer {
				parts[i] = "NULL"
				continue
			}
			if tm, ok := v.Interface().(time.Time); ok {
				v = reflect.ValueOf(tm.UTC())
			}
			parts[i] = fmt.Sprint(v.Interface())
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

package cli_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/schemas"
)

func TestStateFoldIsOrderIndependent(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	plan := schemas.FlightPlan{Callsign: "BAW1", ADEP: "EGLL", ADES: "LFPG", EOBT: at(30), AircraftType: "A320"}
	changed := plan
	changed.ADES = "LFPO"
	alt := int32(12000)
	evs := []*schemas.DomainEvent{
		{EventID: "e1", GUFI: "G", Type: schemas.EventFlightPlanned, ProducerTS: at(0), FlightPlanned: &schemas.FlightPlanned{Plan: plan}},
		{EventID: "e2", GUFI: "G", Type: schemas.EventFlightDelayed, ProducerTS: at(10), FlightDelayed: &schemas.FlightDelayed{NewEOBT: at(45), PreviousEOBT: at(30)}},
		{EventID: "e3", GUFI: "G", Type: schemas.EventFlightDeparted, ProducerTS: at(46), FlightDeparted: &schemas.FlightDeparted{ADEP: "EGLL", DepartureTS: at(46)}},
		{EventID: "e4", GUFI: "G", Type: schemas.EventPositionReported, ProducerTS: at(50), PositionReported: &schemas.PositionReported{Position: schemas.Position{TS: at(50), ICAO24: "400001", Lat: 51, Lon: 0, AltitudeFt: &alt}}},
		{EventID: "e5", GUFI: "G", Type: schemas.EventPositionReported, ProducerTS: at(48), PositionReported: &schemas.PositionReported{Position: schemas.Position{TS: at(48), ICAO24: "400001", Lat: 50, Lon: 0}}},
		{EventID: "e6", GUFI: "G", Type: schemas.EventFlightPlanChanged, ProducerTS: at(55), FlightPlanChanged: &schemas.FlightPlanChanged{Plan: changed, Changed: []string{"ades"}}},
		{EventID: "e7", GUFI: "G", Type: schemas.EventEmergencyDeclared, ProducerTS: at(60), EmergencyDeclared: &schemas.EmergencyDeclared{Squawk: "7700"}},
		{EventID: "e8", GUFI: "G", Type: schemas.EventFlightArrived, ProducerTS: at(90), FlightArrived: &schemas.FlightArrived{ADES: "LFPO", ArrivalTS: at(90)}},
	}
	tests := []struct {
		name      string
		at        time.Time
		lifecycle schemas.Lifecycle
		ades      string
		eobt      time.Time
		lat       float64
		count     int
		emergency bool
	}{
		{"before anything", at(-1), schemas.LifecycleUnknown, "", time.Time{}, 0, 0, false},
		{"planned", at(5), schemas.LifecyclePlanned, "LFPG", at(30), 0, 1, false},
		{"delayed", at(20), schemas.LifecyclePlanned, "LFPG", at(45), 0, 2, false},
		{"airborne, late position ignored", at(52), schemas.LifecycleAirborne, "LFPG", at(45), 51, 5, false},
		{"changed and emergency", at(70), schemas.LifecycleAirborne, "LFPO", at(30), 51, 7, true},
		{"landed", time.Time{}, schemas.LifecycleLanded, "LFPO", at(30), 51, 8, true},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := cli.FoldFlight(evs, tt.at)
			if want.Lifecycle != tt.lifecycle || want.ADES != tt.ades || want.EventCount != tt.count || want.Emergency != tt.emergency {
				t.Errorf("got lifecycle %s ades %q count %d emergency %v, want %s %q %d %v",
					want.Lifecycle, want.ADES, want.EventCount, want.Emergency, tt.lifecycle, tt.ades, tt.count, tt.emergency)
			}
			if (want.EOBT == nil) != tt.eobt.IsZero() || (want.EOBT != nil && !want.EOBT.Equal(tt.eobt)) {
				t.Errorf("eobt %v, want %v", want.EOBT, tt.eobt)
			}
			if tt.lat != 0 && (want.LastPosition == nil || want.LastPosition.Lat != tt.lat) {
				t.Errorf("last position %+v, want lat %v", want.LastPosition, tt.lat)
			}
			wb, _ := json.Marshal(want)
			for i := 0; i < 20; i++ {
				p := append([]*schemas.DomainEvent(nil), evs...)
				rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
				p = append(p, p[rng.IntN(len(p))]) // a duplicate
				gb, _ := json.Marshal(cli.FoldFlight(p, tt.at))
				if string(gb) != string(wb) {
					t.Fatalf("permutation %d folds to\n%s\nwant\n%s", i, gb, wb)
				}
			}
		})
	}
}

// TestIntegrationState rebuilds a flight of a small pipeline run from the
// event log and compares it with what the sink wrote to ClickHouse.
func TestIntegrationState(t *testing.T) {
	tt := smallRun(t)
	ctx := context.Background()
	conn := openCH(t, tt.ch, tt.name)
	var (
		gufi, callsign, lifecycle, adep, ades string
		events                                uint64
		first, last                           int64
	)
	q := "SELECT gufi, callsign, lifecycle, adep, ades FROM " + tt.name + ".flights FINAL WHERE callsign != '' ORDER BY gufi LIMIT 1"
	if err := conn.QueryRow(ctx, q).Scan(&gufi, &callsign, &lifecycle, &adep, &ades); err != nil {
		t.Fatal(err)
	}
	q = "SELECT uniqExact(event_id), min(producer_ts_ms), max(producer_ts_ms) FROM " + tt.name + ".flight_events WHERE gufi = '" + gufi + "'"
	if err := conn.QueryRow(ctx, q).Scan(&events, &first, &last); err != nil {
		t.Fatal(err)
	}
	base := []string{"state", "--brokers", strings.Join(tt.brokers, ","), "--topic-prefix", tt.name}
	run := func(args ...string) cli.FlightView {
		t.Helper()
		code, out, errs := contrail(t, append(append([]string(nil), base...), args...)...)
		if code != 0 {
			t.Fatalf("state %v exited %d\n%s\n%s", args, code, out, errs)
		}
		var v cli.FlightView
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("state --json output: %v\n%s", err, out)
		}
		return v
	}
	v := run("--gufi", gufi, "--json")
	if string(v.Lifecycle) != lifecycle || v.Callsign != callsign || v.ADEP != adep || v.ADES != ades {
		t.Errorf("state from the log: %s %s %s-%s; flights table: %s %s %s-%s", v.Lifecycle, v.Callsign, v.ADEP, v.ADES, lifecycle, callsign, adep, ades)
	}
	if uint64(v.EventCount) != events || v.LaterEvents != 0 {
		t.Errorf("%d events folded (%d later), flight_events has %d", v.EventCount, v.LaterEvents, events)
	}
	mid := time.UnixMilli((first + last) / 2).UTC()
	v = run("--gufi", gufi, "--json", "--at", mid.Format(time.RFC3339Nano))
	if v.EventCount == 0 || v.LaterEvents == 0 || uint64(v.EventCount+v.LaterEvents) != events {
		t.Errorf("at %s: %d folded, %d later, want both > 0 summing to %d", mid, v.EventCount, v.LaterEvents, events)
	}
	v = run("--gufi", gufi, "--json", "--at", time.UnixMilli(first-1000).UTC().Format(time.RFC3339Nano))
	if v.EventCount != 0 || v.Lifecycle != schemas.LifecycleUnknown {
		t.Errorf("before the first event: %d folded, lifecycle %s", v.EventCount, v.Lifecycle)
	}
	code, out, errs := contrail(t, append(append([]string(nil), base...), "--gufi", gufi)...)
	if code != 0 || !strings.Contains(out, "derived from the domain-event log") || !strings.Contains(out, lifecycle) {
		t.Errorf("text output (exit %d):\n%s\n%s", code, out, errs)
	}
	code, out, errs = contrail(t, append(append([]string(nil), base...), "--callsign", callsign)...)
	if code != 0 || !strings.Contains(out, gufi) {
		t.Errorf("--callsign %s does not list %s (exit %d):\n%s\n%s", callsign, gufi, code, out, errs)
	}
	if code, _, _ := contrail(t, append(append([]string(nil), base...), "--gufi", "nope")...); code != cli.ExitFail {
		t.Errorf("unknown GUFI: exit %d, want %d", code, cli.ExitFail)
	}
}

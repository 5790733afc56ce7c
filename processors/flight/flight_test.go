package flight_test

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/schemas"
)

var t0 = time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC)

const cs = "DLH5KF"

func at(min float64) time.Time { return t0.Add(time.Duration(min * float64(time.Minute))) }

func newStep(t testing.TB, cfg flight.Config) *flight.Step {
	t.Helper()
	if cfg.Stars == nil {
		f, err := os.Open("testdata/stars.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if cfg.Stars, err = flight.LoadStars(f); err != nil {
			t.Fatal(err)
		}
	}
	s, err := flight.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ifpl files DLH5KF EDDM -> EDDH, EOBT 07:00 (60 minutes after t0).
func ifpl(id string, min float64) flight.Input {
	return flight.Input{EventID: id, Feed: "adexp", TS: at(min), Plan: &flight.PlanMsg{Title: flight.TitleIFPL,
		ARCID: cs, IFPLID: "AA12345678", ADEP: "EDDM", ADES: "EDDH", EOBT: at(60), AircraftType: "A320",
		Route: "N0450F350 DCT HLZ1A", CruiseLevel: "F350", STAR: "HLZ1A"}}
}

func planMsg(id string, min float64, title flight.Title, edit func(*flight.PlanMsg)) flight.Input {
	m := &flight.PlanMsg{Title: title, ARCID: cs, ADEP: "EDDM", ADES: "EDDH", EOBT: at(60)}
	if edit != nil {
		edit(m)
	}
	return flight.Input{EventID: id, Feed: "adexp", TS: at(min), Plan: m}
}

func pos(id string, min float64, lat, lon float64) flight.Input {
	alt := int32(30000)
	return flight.Input{EventID: id, Feed: "sbs", TS: at(min), Track: &flight.TrackMsg{ICAO24: "3C6589", Callsign: cs,
		Position: &schemas.Position{TS: at(min), ICAO24: "3C6589", Lat: lat, Lon: lon, AltitudeFt: &alt}}}
}

// low is a position at 500 ft: the first airborne position of a departure.
func low(id string, min float64, lat, lon float64) flight.Input {
	in := pos(id, min, lat, lon)
	alt := int32(500)
	in.Track.Position.AltitudeFt = &alt
	return in
}

func squawk(id string, min float64, code string) flight.Input {
	return flight.Input{EventID: id, Feed: "sbs", TS: at(min), Track: &flight.TrackMsg{ICAO24: "3C6589", Callsign: cs, Squawk: code}}
}

type step struct {
	in     flight.Input
	events []schemas.DomainEvent
	res    flight.Result
}

// run applies ins in order and returns the final state and what each did.
func run(t *testing.T, s *flight.Step, st flight.State, ins ...flight.Input) (flight.State, []step) {
	t.Helper()
	var steps []step
	for _, in := range ins {
		var out []schemas.DomainEvent
		var res flight.Result
		var err error
		st, out, res, err = s.Apply(st, in, nil)
		if err != nil {
			t.Fatalf("apply %s: %v", in.EventID, err)
		}
		for _, e := range out {
			if err := e.Validate(); err != nil {
				t.Fatalf("apply %s: event %v", in.EventID, err)
			}
			// A movement's cause is its evidence (the DEP or ARR message, the
			// position), not the input that completed it.
			movement := e.FlightDeparted != nil || e.FlightArrived != nil || e.EnteredCoverage != nil
			if len(e.Cause) != 1 || (e.Cause[0] != in.EventID && !movement) || e.Cause[0] == "" || e.GUFI == "" || e.EventID == "" || !e.EmittedTS.IsZero() {
				t.Fatalf("apply %s: bad event header %+v", in.EventID, e)
			}
		}
		steps = append(steps, step{in, out, res})
	}
	return st, steps
}

func types(evs []schemas.DomainEvent) []schemas.EventType {
	var r []schemas.EventType
	for _, e := range evs {
		r = append(r, e.Type)
	}
	return r
}

func only(t *testing.T, st flight.State) schemas.FlightState {
	t.Helper()
	fs := st.Snapshots()
	if len(fs) != 1 {
		t.Fatalf("%d flights, want 1: %+v", len(fs), fs)
	}
	return fs[0]
}

// TestEvents checks the event and outcome of each kind of input.
func TestEvents(t *testing.T) {
	s := newStep(t, flight.Config{})
	var (
		P  = schemas.EventFlightPlanned
		C  = schemas.EventFlightPlanChanged
		D  = schemas.EventFlightDelayed
		X  = schemas.EventFlightCancelled
		DP = schemas.EventFlightDeparted
		PR = schemas.EventPositionReported
		AR = schemas.EventFlightArrived
		EC = schemas.EventEnteredCoverage
		AL = schemas.EventAlertRaised
		EM = schemas.EventEmergencyDeclared
	)
	tests := []struct {
		name      string
		ins       []flight.Input
		want      []schemas.EventType // events of the last input
		outcome   flight.Outcome
		lifecycle schemas.Lifecycle
	}{
		{"filed", []flight.Input{ifpl("p", 0)}, []schemas.EventType{P}, flight.OutcomeApplied, schemas.LifecyclePlanned},
		{"changed", []flight.Input{ifpl("p", 0), planMsg("c", 10, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel = "F370" })},
			[]schemas.EventType{C}, flight.OutcomeApplied, schemas.LifecyclePlanned},
		{"same plan twice through two channels changes nothing", []flight.Input{ifpl("p", 0), ifpl("q", 0)},
			nil, flight.OutcomeApplied, schemas.LifecyclePlanned},
		{"delayed", []flight.Input{ifpl("p", 0), planMsg("d", 50, flight.TitleDLA, func(m *flight.PlanMsg) { m.EOBT = at(90) })},
			[]schemas.EventType{D}, flight.OutcomeApplied, schemas.LifecyclePlanned},
		{"cancelled", []flight.Input{ifpl("p", 0), planMsg("x", 50, flight.TitleCNL, nil)},
			[]schemas.EventType{X}, flight.OutcomeApplied, schemas.LifecycleCancelled},
		{"departed by DEP", []flight.Input{ifpl("p", 0), planMsg("dep", 70, flight.TitleDEP, func(m *flight.PlanMsg) { m.EOBT, m.ATD = time.Time{}, at(68) })},
			[]schemas.EventType{DP}, flight.OutcomeApplied, schemas.LifecycleAirborne},
		{"airborne at once, departure decided after DecisionDelay of track", []flight.Input{ifpl("p", 0), low("a", 75, 48.3, 11.8)},
			[]schemas.EventType{PR}, flight.OutcomeApplied, schemas.LifecycleAirborne},
		{"departed by a climb from low altitude", []flight.Input{ifpl("p", 0), low("a", 75, 48.3, 11.8), pos("b", 91, 48.9, 11.8)},
			[]schemas.EventType{PR, DP}, flight.OutcomeApplied, schemas.LifecycleAirborne},
		{"first seen at cruise: entered coverage", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), pos("b", 91, 48.9, 11.8)},
			[]schemas.EventType{PR, EC}, flight.OutcomeApplied, schemas.LifecycleAirborne},
		{"departed by DEP although first seen at cruise", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8),
			planMsg("dep", 90, flight.TitleDEP, func(m *flight.PlanMsg) { m.EOBT, m.ATD = time.Time{}, at(68) })},
			[]schemas.EventType{DP}, flight.OutcomeApplied, schemas.LifecycleAirborne},
		{"next position", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), pos("b", 76, 48.4, 11.8)},
			[]schemas.EventType{PR}, flight.OutcomeApplied, schemas.LifecycleAirborne},
		{"late position is history but stale", []flight.Input{ifpl("p", 0), pos("b", 76, 48.4, 11.8), pos("a", 75, 48.3, 11.8)},
			[]schemas.EventType{PR}, flight.OutcomeStale, schemas.LifecycleAirborne},
		{"redelivered position", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), pos("a", 75, 48.3, 11.8)},
			nil, flight.OutcomeDuplicate, schemas.LifecycleAirborne},
		{"redelivered plan", []flight.Input{ifpl("p", 0), ifpl("p", 0)}, nil, flight.OutcomeDuplicate, schemas.LifecyclePlanned},
		{"older change is stale", []flight.Input{ifpl("p", 0), planMsg("c2", 20, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel = "F370" }),
			planMsg("c1", 10, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel = "F330" })},
			[]schemas.EventType{C}, flight.OutcomeStale, schemas.LifecyclePlanned},
		{"arrived", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), planMsg("arr", 140, flight.TitleARR, func(m *flight.PlanMsg) { m.EOBT, m.ATA, m.ADARR = time.Time{}, at(135), "EDDH" })},
			[]schemas.EventType{AR}, flight.OutcomeApplied, schemas.LifecycleLanded},
		{"alert", []flight.Input{ifpl("p", 0), {EventID: "al", Feed: "json", TS: at(80), Alert: &flight.AlertMsg{Kind: "trajectory_prediction", AlertID: "tp-1", Callsign: cs}}},
			[]schemas.EventType{AL}, flight.OutcomeApplied, schemas.LifecyclePlanned},
		{"emergency", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), squawk("s", 80, "7700")},
			[]schemas.EventType{EM}, flight.OutcomeApplied, schemas.LifecycleAirborne},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, steps := run(t, s, flight.State{}, tc.ins...)
			last := steps[len(steps)-1]
			if got := types(last.events); !slices.Equal(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			if last.res.Outcome != tc.outcome {
				t.Errorf("outcome %v (%+v), want %v", last.res.Outcome, last.res, tc.outcome)
			}
			if fs := only(t, st); fs.Lifecycle != tc.lifecycle {
				t.Errorf("lifecycle %s, want %s", fs.Lifecycle, tc.lifecycle)
			}
		})
	}
}

func TestChangedFieldsAndLateness(t *testing.T) {
	s := newStep(t, flight.Config{})
	st, steps := run(t, s, flight.State{}, ifpl("p", 0),
		planMsg("c2", 20, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel, m.Route = "F370", "N0450F370 DCT HLZ1A" }),
		planMsg("c1", 10, flight.TitleCHG, func(m *flight.PlanMsg) { m.AircraftType = "A321" }))
	ch := steps[1].events[0].FlightPlanChanged
	if !slices.Equal(ch.Changed, []string{"route", "cruise_level"}) || ch.Plan.CruiseLevel != "F370" {
		t.Errorf("change %+v", ch)
	}
	// The older change still sets the type, which no newer message carries:
	// per-field newest-wins, reported stale for the plan aspect.
	if r := steps[2].res; r.Outcome != flight.OutcomeStale || r.Lateness != 10*time.Minute {
		t.Errorf("late change: %+v", r)
	}
	fs := only(t, st)
	if fs.AircraftType != "A321" || fs.CruiseLevel != "F370" || fs.IFPLID != "AA12345678" {
		t.Errorf("plan %+v", fs)
	}
	if fs.AspectTS["plan"] != at(20) {
		t.Errorf("plan aspect ts %v", fs.AspectTS)
	}
}

func TestInvalidInputs(t *testing.T) {
	s := newStep(t, flight.Config{})
	tests := []struct {
		name   string
		in     flight.Input
		reason string
	}{
		{"no payload", flight.Input{EventID: "e", TS: at(0)}, flight.ReasonBadInput},
		{"two payloads", flight.Input{EventID: "e", TS: at(0), Plan: &flight.PlanMsg{}, Track: &flight.TrackMsg{}}, flight.ReasonBadInput},
		{"no timestamp", flight.Input{EventID: "e", Plan: &flight.PlanMsg{ARCID: cs}}, flight.ReasonBadInput},
		{"no callsign", flight.Input{EventID: "e", TS: at(0), Plan: &flight.PlanMsg{Title: flight.TitleIFPL}}, flight.ReasonNoCallsign},
		{"no title", planMsg("e", 0, flight.TitleNone, nil), flight.ReasonBadPlan},
		{"empty track", flight.Input{EventID: "e", TS: at(0), Track: &flight.TrackMsg{Callsign: cs}}, flight.ReasonNoTrackData},
		{"coordinates", pos("e", 0, 91, 0), flight.ReasonCoordinates},
		{"alert without flight", flight.Input{EventID: "e", TS: at(0), Alert: &flight.AlertMsg{Callsign: cs}}, flight.ReasonNoFlight},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, out, res, err := s.Apply(flight.State{}, tc.in, nil)
			if err != nil || len(out) != 0 || res.Outcome != flight.OutcomeInvalid || res.Reason != tc.reason {
				t.Errorf("got %v %v %+v, want invalid %s", err, out, res, tc.reason)
			}
		})
	}
	st, _ := run(t, s, flight.State{}, ifpl("p", 0))
	in := ifpl("q", 0)
	in.Plan.ARCID = "AFR1234"
	if _, _, _, err := s.Apply(st, in, nil); !errors.Is(err, flight.ErrWrongKey) {
		t.Errorf("wrong key: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []flight.Config{{LegGap: -1}, {MaxFlights: -1}, {LandingTolerance: time.Hour}, {RecentSize: -2}} {
		if _, err := flight.New(c); !errors.Is(err, flight.ErrConfig) {
			t.Errorf("New(%+v): %v", c, err)
		}
	}
}

func TestRevokedPosition(t *testing.T) {
	s := newStep(t, flight.Config{})
	st, first := run(t, s, flight.State{}, ifpl("p", 0), pos("a", 75, 48.3, 11.8))
	var reported string
	for _, e := range first[1].events {
		if e.Type == schemas.EventPositionReported {
			reported = e.EventID
		}
	}
	rev := pos("a", 75, 48.3, 11.8)
	rev.Track.Revoked = true
	st, steps := run(t, s, st, rev)
	if r := steps[0].res; !r.Revoked || r.GUFI == "" || len(steps[0].events) != 1 {
		t.Fatalf("revocation: %+v %v", r, steps[0].events)
	}
	// The positions view drops the position by its PositionReported id.
	if v := steps[0].events[0].InvariantViolated; v == nil || v.Rule != flight.RulePositionPlausible || v.RejectedEventID != reported || reported == "" {
		t.Errorf("revocation event %+v, want %s naming position event %q", steps[0].events[0], flight.RulePositionPlausible, reported)
	}
	if fs := only(t, st); fs.LastPosition != nil {
		t.Errorf("revoked position still current: %+v", fs.LastPosition)
	}
}

func TestEvictionAndBound(t *testing.T) {
	s := newStep(t, flight.Config{Retention: time.Hour, MaxFlights: 2})
	st, _ := run(t, s, flight.State{}, ifpl("p", 0), planMsg("x", 10, flight.TitleCNL, nil))
	// A cancelled flight is kept for Retention of producer time.
	st, _ = run(t, s, st, planMsg("o", 40, flight.TitleIFPL, func(m *flight.PlanMsg) { m.ADEP, m.ADES, m.EOBT = "EDDH", "EDDM", at(300) }))
	if len(st.Flights) != 2 {
		t.Fatalf("%d flights", len(st.Flights))
	}
	st, _ = run(t, s, st, planMsg("o2", 80, flight.TitleCHG, func(m *flight.PlanMsg) { m.ADEP, m.ADES, m.EOBT, m.CruiseLevel = "EDDH", "EDDM", at(300), "F300" }))
	if len(st.Flights) != 1 || st.Flights[0].Plan.ADEP != "EDDH" {
		t.Fatalf("after retention: %+v", st.Snapshots())
	}
	// At most MaxFlights: the oldest goes.
	for i, h := range []float64{600, 900, 1200} {
		st, _ = run(t, s, st, planMsg("n"+string(rune('0'+i)), 100+float64(i), flight.TitleIFPL, func(m *flight.PlanMsg) { m.EOBT = at(h) }))
	}
	if len(st.Flights) != 2 {
		t.Errorf("%d flights, want 2", len(st.Flights))
	}
}

// TestConflictAlertBothFlights: an alert naming two flights is raised on
// both, each naming the other's GUFI, through the exchange between the two
// callsigns' owners (each its own State, as on two partitions).
func TestConflictAlertBothFlights(t *testing.T) {
	s := newStep(t, flight.Config{})
	other := func(in flight.Input) flight.Input {
		in.Plan.ARCID = "AFR1234"
		return in
	}
	a, _ := run(t, s, flight.State{}, ifpl("p", 0))
	b, _ := run(t, s, flight.State{}, other(ifpl("q", 0)))
	alert := flight.Input{EventID: "al", Feed: "json", TS: at(80), Alert: &flight.AlertMsg{Kind: "conflict_alert", AlertID: "stca-1",
		Callsign: cs, OtherCallsign: "AFR1234", Severity: "warning", Message: "warning conflict with AFR1234", Detail: ", predicted minimum separation 2.1 NM"}}
	a, ev, res, err := s.Apply(a, alert, nil)
	if err != nil || len(ev) != 0 || !res.Pending || res.Peer == nil || res.Peer.Role != flight.AlertRequest || res.Peer.Callsign != "AFR1234" {
		t.Fatalf("origin: events %v, result %+v, err %v; want no event and a request to AFR1234", types(ev), res, err)
	}
	gufiA, gufiB := only(t, a).GUFI, only(t, b).GUFI
	if res.Peer.PeerGUFI != gufiA {
		t.Errorf("request names %q, want the first flight %s", res.Peer.PeerGUFI, gufiA)
	}
	req := alert
	req.Alert = res.Peer
	b, evB, resB, err := s.Apply(b, req, nil)
	if err != nil || len(evB) != 1 || evB[0].AlertRaised == nil || evB[0].GUFI != gufiB || evB[0].AlertRaised.OtherGUFI != gufiA {
		t.Fatalf("request: events %+v, err %v; want ALERT_RAISED on %s naming %s", evB, err, gufiB, gufiA)
	}
	if m := evB[0].AlertRaised.Message; m != "warning conflict with DLH5KF, predicted minimum separation 2.1 NM" {
		t.Errorf("second flight's message %q", m)
	}
	if !resB.Pending || resB.Peer == nil || resB.Peer.Role != flight.AlertAck || resB.Peer.Callsign != cs || resB.Peer.PeerGUFI != gufiB {
		t.Fatalf("request result %+v; want an ack to %s naming %s", resB, cs, gufiB)
	}
	ack := alert
	ack.Alert = resB.Peer
	_, evA, resA, err := s.Apply(a, ack, nil)
	if err != nil || len(evA) != 1 || evA[0].GUFI != gufiA || evA[0].AlertRaised.OtherGUFI != gufiB || resA.Pending || resA.Outcome != flight.OutcomeApplied {
		t.Fatalf("ack: events %+v, result %+v, err %v; want ALERT_RAISED on %s naming %s, applied", evA, resA, err, gufiA, gufiB)
	}
	if m := evA[0].AlertRaised.Message; m != "warning conflict with AFR1234, predicted minimum separation 2.1 NM" {
		t.Errorf("first flight's message %q", m)
	}
	if evA[0].EventID == evB[0].EventID {
		t.Error("both alert events have one id")
	}
	// The other callsign has no flight: raised on the first only, naming none.
	a2, _ := run(t, s, flight.State{}, ifpl("p", 0))
	a2, _, res, _ = s.Apply(a2, alert, nil)
	req.Alert = res.Peer
	_, evB, resB, _ = s.Apply(flight.State{}, req, nil)
	if len(evB) != 0 || resB.Peer == nil || resB.Peer.PeerGUFI != "" {
		t.Fatalf("request to a callsign without flight: events %v, result %+v", types(evB), resB)
	}
	ack.Alert = resB.Peer
	_, evA, resA, _ = s.Apply(a2, ack, nil)
	if len(evA) != 1 || evA[0].AlertRaised.OtherGUFI != "" || resA.Outcome != flight.OutcomeApplied {
		t.Errorf("ack without second flight: events %+v, result %+v", evA, resA)
	}
}

// TestMovementAerodromeWhateverTheOrder: a departure first known from the
// track names the departure aerodrome once the plan correlates, under the
// same event id, so the latest FLIGHT_DEPARTED of the flight (what
// flight_events FINAL keeps) is the same with plans first or tracks first.
func TestMovementAerodromeWhateverTheOrder(t *testing.T) {
	s := newStep(t, flight.Config{})
	latest := func(ins ...flight.Input) map[string]schemas.DomainEvent {
		_, steps := run(t, s, flight.State{}, ins...)
		out := map[string]schemas.DomainEvent{}
		for _, st := range steps {
			for _, e := range st.events {
				if e.FlightDeparted != nil || e.FlightArrived != nil {
					// GUFI values (hence event ids) depend on which
					// evidence founded the flight; compare by type, and
					// check one id per type.
					if prev, ok := out[string(e.Type)]; ok && prev.EventID != e.EventID {
						t.Errorf("two %s events with ids %s and %s", e.Type, prev.EventID, e.EventID)
					}
					e.Cause, e.ProducerTS, e.Feed, e.GUFI = nil, time.Time{}, "", ""
					out[string(e.Type)] = e
				}
			}
		}
		return out
	}
	arr := planMsg("arr", 140, flight.TitleARR, func(m *flight.PlanMsg) { m.EOBT, m.ATA, m.ADARR = time.Time{}, at(135), "EDDH" })
	plansFirst := latest(ifpl("p", 0), low("a", 75, 48.3, 11.8), pos("b", 91, 48.9, 11.8), arr)
	tracksFirst := latest(low("a", 75, 48.3, 11.8), pos("b", 91, 48.9, 11.8), ifpl("p", 0), arr)
	if len(plansFirst) != 2 {
		t.Fatalf("plans first: %d movement events, want a departure and an arrival: %+v", len(plansFirst), plansFirst)
	}
	for typ, e := range plansFirst {
		g, ok := tracksFirst[typ]
		switch {
		case !ok:
			t.Errorf("tracks first has no %s event", typ)
		case e.FlightDeparted != nil && (g.FlightDeparted == nil || *g.FlightDeparted != *e.FlightDeparted):
			t.Errorf("departure: tracks first %+v, plans first %+v", g.FlightDeparted, e.FlightDeparted)
		case e.FlightDeparted != nil && e.FlightDeparted.ADEP != "EDDM":
			t.Errorf("departure names %q, want the plan's EDDM", e.FlightDeparted.ADEP)
		}
	}
}

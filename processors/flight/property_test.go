package flight_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/internal/simulate"
	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/schemas"
)

// evidence is one input of a simulated day with the truth flight it
// belongs to.
type evidence struct {
	in     flight.Input
	truth  string // simulate.Flight.ID
	isPlan bool
}

// simulatedDay turns a simulated day into flight step inputs: the ADEXP and
// ATS plan records through FromEnvelope (the ATS producer time is the
// record time, which the simulator sets to the filing time), and, for the
// surveillance side, TrackMsgs built from the truth positions as the track
// step would emit them once the callsign is known: one position every
// `every` seconds, the squawk every minute and whenever it changes.
func simulatedDay(t testing.TB, cfg simulate.Config, every int) ([]evidence, *simulate.Output) {
	t.Helper()
	out, err := simulate.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ev []evidence
	for _, feed := range []struct {
		name string
		recs []simulate.Record
	}{{"adexp", out.ADEXP}, {"ats", out.ATS}} {
		for i, r := range feed.recs {
			if r.Kind != simulate.Valid {
				continue
			}
			env := &schemas.Envelope{ID: fmt.Sprintf("%s-%05d", feed.name, i), Feed: feed.name, ProducerTS: r.Produced, Raw: []byte(r.Raw)}
			in, err := flight.FromEnvelope(env)
			if err != nil {
				t.Fatalf("%s record %d %q: %v", feed.name, i, r.Raw, err)
			}
			ev = append(ev, evidence{in: in, truth: r.Flight, isPlan: true})
		}
	}
	for _, f := range out.Truth.Flights {
		prev := ""
		for i, p := range f.Positions {
			sq := ""
			if i%60 == 0 || p.Squawk != prev {
				sq = p.Squawk
			}
			prev = p.Squawk
			if i%every != 0 && i != len(f.Positions)-1 && sq == "" {
				continue
			}
			alt, gs, trk := int32(p.AltFt), float64(p.GSKt), p.TrackDeg
			ev = append(ev, evidence{truth: f.ID, in: flight.Input{EventID: fmt.Sprintf("%s/p%05d", f.ID, i), Feed: "sbs", TS: p.Time,
				Track: &flight.TrackMsg{ICAO24: f.ICAO24, Callsign: f.ARCID, Squawk: sq,
					Position: &schemas.Position{TS: p.Time, ICAO24: f.ICAO24, Lat: p.Lat, Lon: p.Lon, AltitudeFt: &alt, GroundSpeedKt: &gs, TrackDeg: &trk}}}})
		}
	}
	return ev, out
}

// dayRun is what applying a day's evidence in some order gave.
type dayRun struct {
	states      map[string]flight.State
	gufiTruth   map[string]string          // GUFI -> truth flight
	history     map[string]map[string]bool // truth flight -> position event ids
	emergencies map[string]int             // truth flight -> EmergencyDeclared
	outcomes    map[string]int
}

func applyDay(t *testing.T, s *flight.Step, ev []evidence) dayRun {
	t.Helper()
	r := dayRun{states: map[string]flight.State{}, gufiTruth: map[string]string{}, history: map[string]map[string]bool{},
		emergencies: map[string]int{}, outcomes: map[string]int{}}
	truthOf := map[string]string{}
	for _, e := range ev {
		truthOf[e.in.EventID] = e.truth
	}
	var out []schemas.DomainEvent
	for _, e := range ev {
		key := callsignOf(e.in)
		st, got, res, err := s.Apply(r.states[key], e.in, out[:0])
		if err != nil {
			t.Fatalf("apply %s: %v", e.in.EventID, err)
		}
		r.states[key], out = st, got
		r.outcomes[res.Outcome.String()]++
		if res.Reason != "" {
			r.outcomes[res.Outcome.String()+":"+res.Reason]++
		}
		for _, d := range got {
			// Strong consistency: every event of a GUFI is caused by evidence
			// of one truth flight, and every truth flight has one GUFI.
			want := e.truth
			if d.InvariantViolated != nil {
				want = truthOf[d.InvariantViolated.RejectedEventID]
			}
			if prev, ok := r.gufiTruth[d.GUFI]; ok && prev != want {
				t.Fatalf("GUFI %s covers flights %s and %s (event %s of %s)", d.GUFI, prev, want, d.Type, e.in.EventID)
			}
			r.gufiTruth[d.GUFI] = want
			switch d.Type {
			case schemas.EventPositionReported:
				if r.history[want] == nil {
					r.history[want] = map[string]bool{}
				}
				r.history[want][e.in.EventID] = true
			case schemas.EventEmergencyDeclared:
				r.emergencies[want]++
			}
		}
	}
	seen := map[string]string{}
	for g, tr := range r.gufiTruth {
		if other, ok := seen[tr]; ok {
			t.Fatalf("flight %s has two GUFIs %s and %s", tr, other, g)
		}
		seen[tr] = g
	}
	return r
}

// normalised returns the final flights by truth flight, with the GUFI and
// its anchor blanked: their values may depend on which evidence came first.
func (r dayRun) normalised(t *testing.T) map[string]flight.Flight {
	t.Helper()
	m := map[string]flight.Flight{}
	for _, st := range r.states {
		for _, f := range st.Flights {
			tr, ok := r.gufiTruth[f.GUFI]
			if !ok {
				t.Fatalf("flight %s raised no event", f.GUFI)
			}
			f.GUFI, f.Anchor = "", ""
			m[tr] = f
		}
	}
	return m
}

// disorder delivers each input up to window after its producer time (a
// uniform delay), the "lateness horizon" within which the promise holds.
func disorder(rng *rand.Rand, ev []evidence, window time.Duration) []evidence {
	type d struct {
		e  evidence
		at time.Time
	}
	ds := make([]d, len(ev))
	for i, e := range ev {
		ds[i] = d{e, e.in.TS.Add(time.Duration(rng.Int64N(int64(window))))}
	}
	slices.SortStableFunc(ds, func(a, b d) int { return a.at.Compare(b.at) })
	out := make([]evidence, len(ds))
	for i := range ds {
		out[i] = ds[i].e
	}
	return out
}

// TestPermutationsConverge is the core promise on a simulated day (20
// flights, both plan formats, second legs under the same callsign,
// cancellations, delays, changes, emergencies): 50 deliveries, each input
// up to 10 minutes late relative to its producer time (so everything,
// including plans against tracks, is reordered within that window), give
// the same flights, the same final per-flight state and the same position
// history as in-order processing, with one GUFI per flight and one flight
// per GUFI. Every other delivery also redelivers 20 plan messages.
func TestPermutationsConverge(t *testing.T) {
	cfg := simulate.DefaultConfig()
	cfg.Seed = 4 // a day with a second leg, a cancellation and an emergency
	every := 30
	if testing.Short() {
		cfg.Flights, every = 8, 60
	}
	ev, sim := simulatedDay(t, cfg, every)
	s := newStep(t, flight.Config{})
	sorted := slices.Clone(ev)
	slices.SortFunc(sorted, func(a, b evidence) int {
		return cmp.Or(a.in.TS.Compare(b.in.TS), cmp.Compare(a.in.EventID, b.in.EventID))
	})
	want := applyDay(t, s, sorted)
	wantFlights := want.normalised(t)
	checkTruth(t, sim, want, wantFlights)
	if !testing.Short() {
		exercised := map[string]int{}
		for _, f := range sim.Truth.Flights {
			for _, e := range f.Events {
				exercised[e.Type]++
			}
			if f.Leg == 2 {
				exercised["second_leg"]++
			}
		}
		for _, k := range []string{simulate.EventEmergency, simulate.EventCancelled, simulate.EventDelayed, simulate.EventChanged, simulate.EventArrivalMessaged, "second_leg"} {
			if exercised[k] == 0 {
				t.Errorf("the simulated day has no %s: %v", k, exercised)
			}
		}
	}
	var plans []evidence
	for _, e := range ev {
		if e.isPlan {
			plans = append(plans, e)
		}
	}
	rng := rand.New(rand.NewPCG(7, 50))
	total := map[string]int{}
	for p := range 50 {
		perm := slices.Clone(ev)
		if p%2 == 1 {
			for range 20 {
				perm = append(perm, plans[rng.IntN(len(plans))])
			}
		}
		perm = disorder(rng, perm, 10*time.Minute)
		got := applyDay(t, s, perm)
		gotFlights := got.normalised(t)
		if len(gotFlights) != len(wantFlights) {
			t.Fatalf("permutation %d: %d flights, want %d", p, len(gotFlights), len(wantFlights))
		}
		for tr, wf := range wantFlights {
			if gf := gotFlights[tr]; !reflect.DeepEqual(gf, wf) {
				t.Fatalf("permutation %d: flight %s differs\n got %+v\nwant %+v", p, tr, gf, wf)
			}
		}
		if !reflect.DeepEqual(got.history, want.history) {
			t.Fatalf("permutation %d: position history differs", p)
		}
		if !reflect.DeepEqual(got.emergencies, want.emergencies) {
			t.Fatalf("permutation %d: emergencies %v, want %v", p, got.emergencies, want.emergencies)
		}
		for k, v := range got.outcomes {
			total[k] += v
		}
	}
	for _, k := range []string{"stale", "duplicate"} {
		if total[k] == 0 {
			t.Errorf("no %q outcome in 50 deliveries: %v", k, total)
		}
	}
	t.Logf("in order: %v; over 50 deliveries: %v", want.outcomes, total)
}

// checkTruth compares the in-order result with the simulator's truth: one
// flight per leg, the lifecycle it should have, every position in the
// history, one emergency per simulated emergency.
func checkTruth(t *testing.T, sim *simulate.Output, r dayRun, flights map[string]flight.Flight) {
	t.Helper()
	if len(flights) != len(sim.Truth.Flights) {
		t.Fatalf("%d flights, want %d legs", len(flights), len(sim.Truth.Flights))
	}
	legs := 0
	for _, tf := range sim.Truth.Flights {
		f, ok := flights[tf.ID]
		if !ok {
			t.Fatalf("no flight for %s", tf.ID)
		}
		if tf.Leg == 2 {
			legs++
		}
		arrMsg := slices.ContainsFunc(tf.Messages, func(m simulate.PlanMessage) bool { return m.Title == "ARR" })
		want := schemas.LifecycleAirborne
		switch {
		case tf.Cancelled:
			want = schemas.LifecycleCancelled
		case arrMsg:
			want = schemas.LifecycleLanded
		}
		if got := f.Lifecycle(); got != want {
			t.Errorf("%s: lifecycle %s, want %s", tf.ID, got, want)
		}
		if f.Plan.ADEP != tf.ADEP || f.Plan.ADES != tf.ADES || !f.Plan.EOBT.Equal(tf.Plan.EOBT) || f.Plan.IFPLID != tf.IFPLID ||
			f.Plan.CruiseLevel != tf.Plan.RFL || f.Plan.Route != tf.Plan.Route || f.Plan.AircraftType != tf.Plan.AircraftType {
			t.Errorf("%s: plan %+v, want %+v", tf.ID, f.Plan, tf.Plan)
		}
		emergencies := 0
		for _, e := range tf.Events {
			if e.Type == simulate.EventEmergency {
				emergencies++
			}
		}
		if r.emergencies[tf.ID] != emergencies {
			t.Errorf("%s: %d emergencies declared, want %d", tf.ID, r.emergencies[tf.ID], emergencies)
		}
		for _, m := range violationsOf(f) {
			t.Errorf("%s: plan message rejected: %s", tf.ID, m)
		}
	}
	if legs == 0 {
		t.Errorf("the simulated day has no second leg under the same callsign")
	}
}

func violationsOf(f flight.Flight) []string {
	var r []string
	for _, e := range f.Plans {
		if e.Rule != "" {
			r = append(r, e.EventID+": "+e.Rule)
		}
	}
	return r
}

func callsignOf(in flight.Input) string {
	switch {
	case in.Plan != nil:
		return in.Plan.ARCID
	case in.Track != nil:
		return in.Track.Callsign
	}
	return in.Alert.Callsign
}

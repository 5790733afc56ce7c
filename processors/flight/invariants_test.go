package flight_test

import (
	"slices"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/schemas"
)

// violations returns the InvariantViolated payloads of evs.
func violations(evs []schemas.DomainEvent) []*schemas.InvariantViolated {
	var r []*schemas.InvariantViolated
	for _, e := range evs {
		if e.InvariantViolated != nil {
			r = append(r, e.InvariantViolated)
		}
	}
	return r
}

type ruleCase struct {
	name    string
	ins     []flight.Input
	rule    string // the rule the last input violates; "" for accepted
	flights int
	check   func(t *testing.T, st flight.State)
}

func runRules(t *testing.T, cases []ruleCase) {
	s := newStep(t, flight.Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, steps := run(t, s, flight.State{}, tc.ins...)
			last := steps[len(steps)-1]
			v := violations(last.events)
			if tc.rule == "" {
				if len(v) != 0 || last.res.Outcome == flight.OutcomeInvariantViolated {
					t.Fatalf("accepted input violated %+v (%+v)", v[0], last.res)
				}
			} else {
				if last.res.Outcome != flight.OutcomeInvariantViolated || last.res.Reason != tc.rule {
					t.Fatalf("result %+v, want rule %s", last.res, tc.rule)
				}
				if len(v) != 1 || v[0].Rule != tc.rule || v[0].RejectedEventID != last.in.EventID || v[0].Detail == "" {
					t.Fatalf("violations %+v", v)
				}
				t.Logf("%s: %s", v[0].Rule, v[0].Detail)
			}
			if want := max(tc.flights, 1); len(st.Flights) != want {
				t.Errorf("%d flights, want %d", len(st.Flights), want)
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

func chgDest(id string, min float64, ades, star string) flight.Input {
	return planMsg(id, min, flight.TitleCHG, func(m *flight.PlanMsg) { m.NewADES, m.STAR = ades, star })
}

// TestRuleDestChangeSTAR: Given a flight to EDDH with STAR HLZ1A, When a
// change sets the destination to EDDV, Shall accept it only if it also sets
// a STAR valid for EDDV.
func TestRuleDestChangeSTAR(t *testing.T) {
	ades := func(want, star string) func(*testing.T, flight.State) {
		return func(t *testing.T, st flight.State) {
			if fs := only(t, st); fs.ADES != want || fs.STAR != star {
				t.Errorf("ADES %s STAR %s, want %s %s", fs.ADES, fs.STAR, want, star)
			}
		}
	}
	runRules(t, []ruleCase{
		{"without STAR", []flight.Input{ifpl("p", 0), chgDest("c", 10, "EDDV", "")}, flight.RuleDestChangeSTAR, 1, ades("EDDH", "HLZ1A")},
		{"with STAR of the old destination", []flight.Input{ifpl("p", 0), chgDest("c", 10, "EDDV", "LUB1B")}, flight.RuleDestChangeSTAR, 1, ades("EDDH", "HLZ1A")},
		{"with valid STAR", []flight.Input{ifpl("p", 0), chgDest("c", 10, "EDDV", "DLE1A")}, "", 1, ades("EDDV", "DLE1A")},
		{"same destination needs no STAR", []flight.Input{ifpl("p", 0), chgDest("c", 10, "EDDH", "")}, "", 1, ades("EDDH", "HLZ1A")},
		{"aerodrome without reference data needs a STAR", []flight.Input{ifpl("p", 0), chgDest("c", 10, "LOWW", "")}, flight.RuleDestChangeSTAR, 1, nil},
		{"route amendment by callsign", []flight.Input{ifpl("p", 0), {EventID: "j", Feed: "json", TS: at(10),
			Plan: &flight.PlanMsg{Title: flight.TitleCHG, ARCID: cs, Route: "N0450F350 DCT", NewADES: "EDDV"}}}, flight.RuleDestChangeSTAR, 1, nil},
	})
}

// TestRuleCancelledNoUpdate: Given a cancelled flight, When any plan
// message but a re-filing arrives, Shall reject it; a new IFPL re-files.
func TestRuleCancelledNoUpdate(t *testing.T) {
	cnl := planMsg("x", 30, flight.TitleCNL, nil)
	runRules(t, []ruleCase{
		{"change after cancel", []flight.Input{ifpl("p", 0), cnl, planMsg("c", 40, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel = "F300" })}, flight.RuleCancelledNoUpdate, 1,
			func(t *testing.T, st flight.State) {
				if fs := only(t, st); fs.Lifecycle != schemas.LifecycleCancelled || fs.CruiseLevel != "F350" {
					t.Errorf("%+v", fs)
				}
			}},
		{"delay after cancel", []flight.Input{ifpl("p", 0), cnl, planMsg("d", 40, flight.TitleDLA, func(m *flight.PlanMsg) { m.EOBT = at(90) })}, flight.RuleCancelledNoUpdate, 1, nil},
		{"re-filing", []flight.Input{ifpl("p", 0), cnl, ifpl("p2", 40)}, "", 1,
			func(t *testing.T, st flight.State) {
				if fs := only(t, st); fs.Lifecycle != schemas.LifecyclePlanned {
					t.Errorf("lifecycle %s", fs.Lifecycle)
				}
			}},
		{"change before the cancel arrives late", []flight.Input{ifpl("p", 0), cnl, planMsg("c", 20, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel = "F300" })}, "", 1,
			func(t *testing.T, st flight.State) {
				if fs := only(t, st); fs.Lifecycle != schemas.LifecycleCancelled || fs.CruiseLevel != "F300" {
					t.Errorf("%+v", fs)
				}
			}},
		{"tracks do not revive a cancelled plan", []flight.Input{ifpl("p", 0), cnl, pos("a", 75, 48.3, 11.8)}, "", 2, nil},
	})
}

// TestRuleCancelledRevised: the verdicts are those of producer-time order:
// a change that arrived first is revoked by a cancellation older than it.
func TestRuleCancelledRevised(t *testing.T) {
	s := newStep(t, flight.Config{})
	st, steps := run(t, s, flight.State{}, ifpl("p", 0), planMsg("c", 40, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel = "F300" }),
		planMsg("x", 30, flight.TitleCNL, nil))
	v := violations(steps[2].events)
	if len(v) != 1 || v[0].Rule != flight.RuleCancelledNoUpdate || v[0].RejectedEventID != "c" {
		t.Fatalf("revision: %+v", v)
	}
	if fs := only(t, st); fs.CruiseLevel != "F350" || fs.Lifecycle != schemas.LifecycleCancelled {
		t.Errorf("%+v", fs)
	}
}

// TestRuleLandedNoAirborne: Given a landed flight, When an airborne
// position arrives after the landing, Shall keep the flight landed; a
// position more than LegGap after the landing starts a new flight.
func TestRuleLandedNoAirborne(t *testing.T) {
	arr := planMsg("arr", 140, flight.TitleARR, func(m *flight.PlanMsg) { m.EOBT, m.ATA, m.ADARR = time.Time{}, at(135), "EDDH" })
	landed := func(n int) func(*testing.T, flight.State) {
		return func(t *testing.T, st flight.State) {
			if fs := st.Snapshots()[0]; fs.Lifecycle != schemas.LifecycleLanded || fs.LastPosition.TS != at(75) {
				t.Errorf("%+v", fs)
			}
			if len(st.Flights) != n {
				t.Errorf("%d flights", len(st.Flights))
			}
		}
	}
	runRules(t, []ruleCase{
		{"airborne after landing", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), arr, pos("b", 145, 53.6, 10.0)}, flight.RuleLandedNoAirborne, 1, landed(1)},
		{"within the tolerance", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), arr, pos("b", 136, 53.6, 10.0)}, "", 1, nil},
		{"after a gap: a new leg", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), arr, pos("b", 200, 53.6, 10.0)}, "", 2, landed(2)},
	})
}

// TestRuleEmergencyOnce: Given a flight, When squawks 7500, 7600 or 7700
// are observed, Shall raise EmergencyDeclared once per episode, an episode
// ending when the squawk changes to a non-emergency code; in any order.
func TestRuleEmergencyOnce(t *testing.T) {
	s := newStep(t, flight.Config{})
	seq := []flight.Input{pos("a", 70, 48.3, 11.8), squawk("s1", 71, "1234"), squawk("s2", 72, "7700"), squawk("s3", 73, "7700"),
		squawk("s4", 74, "7700"), squawk("s5", 75, "1234"), squawk("s6", 76, "7600"), squawk("s7", 77, "7600"), squawk("s8", 78, "4321")}
	count := func(steps []step) int {
		n := 0
		for _, st := range steps {
			for _, e := range st.events {
				if e.Type == schemas.EventEmergencyDeclared {
					n++
				}
			}
		}
		return n
	}
	st, steps := run(t, s, flight.State{}, seq...)
	if n := count(steps); n != 2 {
		t.Fatalf("in order: %d declarations, want 2", n)
	}
	want := st.Flights[0]
	for _, order := range [][]int{{8, 7, 6, 5, 4, 3, 2, 1, 0}, {0, 3, 8, 2, 6, 5, 1, 7, 4}, {0, 4, 2, 3, 7, 6, 1, 8, 5}} {
		perm := make([]flight.Input, len(order))
		for i, j := range order {
			perm[i] = seq[j]
		}
		st, steps := run(t, s, flight.State{}, perm...)
		if n := count(steps); n != 2 {
			t.Errorf("order %v: %d declarations, want 2", order, n)
		}
		if got := st.Flights[0]; got.Episodes != 2 || got.Squawk != want.Squawk || !slices.Equal(got.Squawks, want.Squawks) {
			t.Errorf("order %v: %+v", order, got)
		}
	}
	if fs := only(t, st); fs.Emergency || fs.Squawk != "4321" {
		t.Errorf("%+v", fs)
	}
}

// TestRuleArrivalAfterDeparture: Given a flight that departed at D, When an
// arrival with a time before D arrives, Shall reject it.
func TestRuleArrivalAfterDeparture(t *testing.T) {
	dep := planMsg("dep", 70, flight.TitleDEP, func(m *flight.PlanMsg) { m.EOBT, m.ATD = time.Time{}, at(68) })
	arrAt := func(id string, min float64) flight.Input {
		return planMsg(id, 140, flight.TitleARR, func(m *flight.PlanMsg) { m.ATA, m.ADARR = at(min), "EDDH" })
	}
	runRules(t, []ruleCase{
		{"arrival before departure", []flight.Input{ifpl("p", 0), dep, arrAt("arr", 50)}, flight.RuleArrivalAfterDeparture, 1,
			func(t *testing.T, st flight.State) {
				if fs := only(t, st); fs.Lifecycle != schemas.LifecycleAirborne {
					t.Errorf("lifecycle %s", fs.Lifecycle)
				}
			}},
		{"arrival before first airborne position", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), arrAt("arr", 60)}, flight.RuleArrivalAfterDeparture, 1, nil},
		{"arrival after departure", []flight.Input{ifpl("p", 0), dep, arrAt("arr", 130)}, "", 1, nil},
	})
}

// TestRuleDepartedADEPFixed: Given a flight that departed from A, When a
// change sets another departure aerodrome, Shall reject it.
func TestRuleDepartedADEPFixed(t *testing.T) {
	chg := planMsg("c", 90, flight.TitleCHG, func(m *flight.PlanMsg) { m.NewADEP = "EDDN" })
	runRules(t, []ruleCase{
		{"after departure", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), chg}, flight.RuleDepartedADEPFixed, 1,
			func(t *testing.T, st flight.State) {
				if fs := only(t, st); fs.ADEP != "EDDM" {
					t.Errorf("ADEP %s", fs.ADEP)
				}
			}},
		{"before departure", []flight.Input{ifpl("p", 0), planMsg("c", 30, flight.TitleCHG, func(m *flight.PlanMsg) { m.NewADEP = "EDDN" })}, "", 1,
			func(t *testing.T, st flight.State) {
				if fs := only(t, st); fs.ADEP != "EDDN" {
					t.Errorf("ADEP %s", fs.ADEP)
				}
			}},
	})
}

// TestRuleNoCancelAfterDeparture: Given a flight that departed at D, When
// a cancellation produced after D arrives, Shall reject it.
func TestRuleNoCancelAfterDeparture(t *testing.T) {
	runRules(t, []ruleCase{
		{"cancel while airborne", []flight.Input{ifpl("p", 0), pos("a", 75, 48.3, 11.8), planMsg("x", 80, flight.TitleCNL, nil)}, flight.RuleNoCancelAfterDeparted, 1,
			func(t *testing.T, st flight.State) {
				if fs := only(t, st); fs.Lifecycle != schemas.LifecycleAirborne {
					t.Errorf("lifecycle %s", fs.Lifecycle)
				}
			}},
		{"cancel before departure", []flight.Input{ifpl("p", 0), planMsg("x", 50, flight.TitleCNL, nil)}, "", 1, nil},
	})
}

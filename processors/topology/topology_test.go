package topology_test

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/simulate"
	"github.com/contrail-atm/contrail/schemas"
)

// TestTopologyOnKfake runs both steps, wired as `contrail process` wires
// them, over a simulated day on the in-process broker and checks the
// outputs against the simulator's truth: one GUFI per simulated flight,
// every position in the history once, and no outcome record for applied
// input.
func TestTopologyOnKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seeds := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	const prefix, flights = "topo", 6
	n := loadDay(t, cl, prefix, flights)

	s := newSteps(t, seeds, prefix, adm)
	s.run(t)()
	names := s.names

	reg := schemas.MustRegistry()
	gufis := map[string]bool{}
	positions := map[string]int{} // cause -> count
	for _, r := range readAll(t, seeds, names.FlightEvents()) {
		e, err := reg.DecodeEvent(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != e.GUFI {
			t.Errorf("event %s keyed %q, want its GUFI %s", e.EventID, r.Key, e.GUFI)
		}
		gufis[e.GUFI] = true
		if e.PositionReported != nil {
			positions[e.Cause[0]]++
		}
	}
	states := map[string]*schemas.FlightState{}
	for _, r := range readAll(t, seeds, names.FlightState()) {
		s, err := reg.DecodeFlightState(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		states[s.GUFI] = s
	}
	for _, r := range readAll(t, seeds, names.Outcomes()) {
		o, err := reg.DecodeOutcome(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		// Applied is the default and not written, unless some aspect of the
		// event was not applied: then the verdicts per aspect are.
		if o.Outcome == schemas.OutcomeApplied && !slices.ContainsFunc(o.Aspects, func(a schemas.AspectOutcome) bool { return a.Outcome != schemas.OutcomeApplied }) {
			t.Errorf("outcome record for applied event %s without a non-applied aspect: %+v", o.EventID, o)
		}
	}
	if rej := readAll(t, seeds, names.Rejected()); len(rej) != 0 {
		t.Errorf("%d rejected records for a clean simulated day", len(rej))
	}

	cfg := simulate.DefaultConfig()
	cfg.Flights, cfg.PlanFormat = flights, "adexp"
	sim, err := simulate.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	truthPositions := 0
	for _, f := range sim.Truth.Flights {
		truthPositions += len(f.Positions)
	}
	if len(gufis) != len(sim.Truth.Flights) || len(states) != len(sim.Truth.Flights) {
		t.Errorf("%d GUFIs with events and %d with state, want one per simulated flight (%d)", len(gufis), len(states), len(sim.Truth.Flights))
	}
	total := 0
	for cause, k := range positions {
		if k != 1 {
			t.Errorf("position %s reported %d times", cause, k)
		}
		total += k
	}
	if total != truthPositions {
		t.Errorf("%d positions in the history, the simulator flew %d", total, truthPositions)
	}
	t.Logf("%d input records -> %d flights, %d positions", n, len(states), total)
}

func readAll(t *testing.T, seeds []string, topic string) []*kgo.Record {
	return infratest.ReadTopic(t, seeds, topic)
}

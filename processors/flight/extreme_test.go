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
)

// TestFeedOrderConverges covers the orders a deployment actually produces
// beyond a bounded lateness of everything: a day's plan dump ingested before
// the surveillance capture, after it, and plan messages in any order (DEP and
// ARR before their filing included) spread at random over surveillance that
// is itself late by up to 10 minutes. Each must give the same flights,
// states and position history as in-order processing. (Surveillance later
// than the horizons is not covered: a track segment seen hours apart from
// its neighbours starts a flight, and flights are never merged.)
func TestFeedOrderConverges(t *testing.T) {
	cfg := simulate.DefaultConfig()
	cfg.Seed = 4
	ev, _ := simulatedDay(t, cfg, 30)
	s := newStep(t, flight.Config{})
	byTime := func(a, b evidence) int {
		return cmp.Or(a.in.TS.Compare(b.in.TS), cmp.Compare(a.in.EventID, b.in.EventID))
	}
	sorted := slices.Clone(ev)
	slices.SortFunc(sorted, byTime)
	want := applyDay(t, s, sorted)
	wantFlights := want.normalised(t)
	plansFirst := slices.Clone(sorted)
	slices.SortStableFunc(plansFirst, func(a, b evidence) int {
		return cmp.Compare(boolInt(!a.isPlan), boolInt(!b.isPlan))
	})
	plansLast := slices.Clone(sorted)
	slices.SortStableFunc(plansLast, func(a, b evidence) int {
		return cmp.Compare(boolInt(a.isPlan), boolInt(b.isPlan))
	})
	orders := map[string][]evidence{"plans first": plansFirst, "plans last": plansLast}
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 2))
		var plans, tracks []evidence
		for _, e := range sorted {
			if e.isPlan {
				plans = append(plans, e)
			} else {
				tracks = append(tracks, e)
			}
		}
		rng.Shuffle(len(plans), func(i, j int) { plans[i], plans[j] = plans[j], plans[i] })
		tracks = disorder(rng, tracks, 10*time.Minute)
		mixed := make([]evidence, 0, len(sorted))
		for len(plans)+len(tracks) > 0 {
			if len(plans) > 0 && (len(tracks) == 0 || rng.IntN(len(plans)+len(tracks)) < len(plans)) {
				mixed, plans = append(mixed, plans[0]), plans[1:]
			} else {
				mixed, tracks = append(mixed, tracks[0]), tracks[1:]
			}
		}
		orders[fmt.Sprintf("plans shuffled %d", seed)] = mixed
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			got := applyDay(t, s, order)
			gotFlights := got.normalised(t)
			if len(gotFlights) != len(wantFlights) {
				t.Errorf("%d flights, want %d", len(gotFlights), len(wantFlights))
			}
			for tr, wf := range wantFlights {
				if gf, ok := gotFlights[tr]; !ok {
					t.Errorf("flight %s missing", tr)
				} else if !reflect.DeepEqual(gf, wf) {
					t.Errorf("flight %s differs\n got %+v\nwant %+v", tr, gf, wf)
				}
			}
			if !reflect.DeepEqual(got.history, want.history) {
				t.Errorf("position history differs")
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

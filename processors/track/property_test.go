package track_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/processors/track"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type aircraft struct {
	icao, callsign string
	lat0, lon0     float64
}

var fleet = []aircraft{
	{"4840D6", "KLM1023", 52.3, 4.7},
	{"3C6444", "DLH4AB", 50.0, 8.5},
	{"A1B2C3", "UAL90", 40.6, -73.8},
}

// truth is where aircraft a is s seconds after t0: due east at 250 m/s.
func truth(a aircraft, s float64) (lat, lon float64) {
	return a.lat0, a.lon0 + 250*s/(111320*math.Cos(a.lat0*math.Pi/180))
}

// generate builds n observations of the fleet within span seconds, on a
// one-second grid so that many share a timestamp. Mixed in: identities,
// velocities, altitudes, squawks (several per timestamp, so ties matter),
// position outliers 3 degrees off (implausible by implied speed), positions
// out of range and altitudes out of range.
func generate(seed uint64, n, span int) []track.Observation {
	rng := rand.New(rand.NewPCG(seed, 0x7ac))
	obs := make([]track.Observation, 0, n+len(fleet))
	for i := range n {
		a := fleet[rng.IntN(len(fleet))]
		s := rng.IntN(span)
		o := track.Observation{
			EventID:          fmt.Sprintf("ev-%04d", i),
			TS:               t0.Add(time.Duration(s) * time.Second),
			ICAO:             a.icao,
			TransmissionType: 3,
		}
		switch k := rng.IntN(20); {
		case k < 1:
			o.TransmissionType, o.Has, o.Callsign = 1, track.HasCallsign, a.callsign
		case k < 11:
			o.Has = track.HasPosition | track.HasAltitude | track.HasOnGround
			o.Lat, o.Lon = truth(a, float64(s))
			o.AltitudeFt = 30000 + int32(s)
			switch r := rng.IntN(100); {
			case r < 6:
				o.Lat += 3 // ~333 km off: implausible
			case r < 8:
				o.Lat = 91
			}
		case k < 14:
			o.TransmissionType, o.Has = 4, track.HasGroundSpeed|track.HasTrack|track.HasVerticalRate
			o.GroundSpeedKt, o.TrackDeg, o.VerticalRateFpm = float64(480+rng.IntN(20)), 90, int32(rng.IntN(3)-1)*64
		case k < 17:
			o.TransmissionType, o.Has = 5, track.HasAltitude|track.HasOnGround
			o.AltitudeFt = 30000 + int32(rng.IntN(10))*100
			if rng.IntN(20) == 0 {
				o.AltitudeFt = 70000
			}
		default:
			o.TransmissionType, o.Has = 6, track.HasSquawk|track.HasAltitude|track.HasOnGround
			o.Squawk = []string{"1000", "2000", "7000"}[rng.IntN(3)]
			o.AltitudeFt = 30000
		}
		obs = append(obs, o)
	}
	// Every aircraft is identified at least once, so every buffered position
	// is eventually released and the history is complete.
	for i, a := range fleet {
		obs = append(obs, track.Observation{EventID: fmt.Sprintf("id-%d", i), TS: t0.Add(time.Duration(rng.IntN(span)) * time.Second),
			ICAO: a.icao, TransmissionType: 1, Has: track.HasCallsign, Callsign: a.callsign})
	}
	return obs
}

// historyEntry is one position of the track history as downstream folds it
// from the outputs.
type historyEntry struct {
	ICAO, Callsign string
	Point          track.Point
}

type run struct {
	states  map[string]track.State
	history map[string]historyEntry // by the position's event id
	counts  map[string]int
}

// applyAll applies obs in the given order, checks that every observation
// yields output, and folds the outputs into the track history:
// PositionRecorded adds, Invalid{Revised} removes.
func applyAll(t *testing.T, step *track.Step, obs []track.Observation) run {
	t.Helper()
	r := run{states: map[string]track.State{}, history: map[string]historyEntry{}, counts: map[string]int{}}
	var out []track.Output
	for _, o := range obs {
		st, got, err := step.Apply(r.states[o.ICAO], o, out[:0])
		if err != nil {
			t.Fatalf("apply %s: %v", o.EventID, err)
		}
		if len(got) == 0 {
			t.Fatalf("apply %s: no output", o.EventID)
		}
		r.states[o.ICAO], out = st, got
		for _, x := range got {
			switch x := x.(type) {
			case track.PositionRecorded:
				r.history[x.Point.EventID] = historyEntry{x.ICAO, x.Callsign, x.Point}
				r.counts["recorded"]++
			case track.Invalid:
				if x.Revised {
					delete(r.history, x.EventID)
					r.counts["revised"]++
				} else {
					r.counts["invalid:"+x.Reason]++
				}
			case track.Stale:
				r.counts["stale"]++
				if x.Lateness == 0 {
					r.counts["stale_tie"]++
				}
			case track.Discarded:
				// too_late and buffer_full are outside the promise; the
				// generator must not produce them. Redelivered positions
				// are recognised as duplicates.
				if x.Reason != track.ReasonDuplicate {
					t.Fatalf("apply %s: unexpected %+v", o.EventID, x)
				}
				r.counts["duplicate"]++
			}
		}
	}
	return r
}

// TestPermutationsConverge is the core promise: any arrival order of the same
// observations gives the same final state per aircraft and the same track
// history, equal to those of applying them in (timestamp, event id) order.
// Every other permutation also redelivers 30 random observations a second
// time, which must change nothing either.
func TestPermutationsConverge(t *testing.T) {
	step, err := track.New(track.Config{})
	if err != nil {
		t.Fatal(err)
	}
	total := map[string]int{}
	for seed := uint64(1); seed <= 4; seed++ {
		obs := generate(seed, 300, 50)
		sorted := slices.Clone(obs)
		slices.SortFunc(sorted, func(a, b track.Observation) int {
			return cmp.Or(a.TS.Compare(b.TS), cmp.Compare(a.EventID, b.EventID))
		})
		want := applyAll(t, step, sorted)
		if len(want.history) == 0 || want.counts["invalid:track.implied_speed"] == 0 {
			t.Fatalf("seed %d: generator exercises too little: %v", seed, want.counts)
		}
		rng := rand.New(rand.NewPCG(seed, 50))
		for p := range 50 {
			perm := slices.Clone(obs)
			if p%2 == 1 {
				// Redelivery (at-least-once replays): the same observations
				// twice must change nothing.
				for range 30 {
					perm = append(perm, obs[rng.IntN(len(obs))])
				}
			}
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			got := applyAll(t, step, perm)
			for icao, ws := range want.states {
				if gs := got.states[icao]; !reflect.DeepEqual(gs, ws) {
					t.Fatalf("seed %d permutation %d: state of %s differs\n got %+v\nwant %+v", seed, p, icao, gs, ws)
				}
			}
			if !reflect.DeepEqual(got.history, want.history) {
				t.Fatalf("seed %d permutation %d: history differs: %d positions, want %d", seed, p, len(got.history), len(want.history))
			}
			for k, v := range got.counts {
				total[k] += v
			}
		}
	}
	// The permutations must have exercised what makes order matter: stale
	// updates, lost ties, late positions that revised a verdict.
	for _, k := range []string{"stale", "stale_tie", "revised", "duplicate", "invalid:track.implied_speed", "invalid:track.coordinates", "invalid:track.altitude"} {
		if total[k] == 0 {
			t.Errorf("no %q outcome in 200 permutations: %v", k, total)
		}
	}
	t.Logf("outcomes over 200 permutations: %v", total)
}

package track_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/processors/track"
)

// BenchmarkApply measures the pure core on the hot path: in-order airborne
// positions of an identified aircraft (plausibility check, window insert and
// prune, TrackUpdate and PositionRecorded out). Rerun with
// go test ./processors/track -run '^$' -bench . -benchmem
func BenchmarkApply(b *testing.B) {
	step := newStep(b, track.Config{})
	st, _, _ := step.Apply(track.State{}, ident("i", 0, "KLM1023"), nil)
	const n = 4096
	obs := make([]track.Observation, n)
	for i := range obs {
		s := float64(i) / 2
		obs[i] = pos(fmt.Sprintf("p%06d", i), s, 52, eastKm(s*0.25))
	}
	period := time.Duration(n) * 500 * time.Millisecond
	out := make([]track.Output, 0, 8)
	var err error
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := obs[i%n]
		o.TS = o.TS.Add(time.Duration(i/n) * period)
		st, out, err = step.Apply(st, o, out[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkApplyLate measures late positions (one second behind), which
// insert into the window and re-judge what follows.
func BenchmarkApplyLate(b *testing.B) {
	step := newStep(b, track.Config{})
	st, _, _ := step.Apply(track.State{}, ident("i", 0, "KLM1023"), nil)
	out := make([]track.Output, 0, 8)
	var err error
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := float64(i)/2 + 1 - float64(i%2)*2 // pairs arrive swapped
		st, out, err = step.Apply(st, pos(fmt.Sprint(i), s, 52, eastKm(s*0.25)), out[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkApplyLine adds decoding the raw SBS line.
func BenchmarkApplyLine(b *testing.B) {
	step := newStep(b, track.Config{})
	st, _, _ := step.ApplyLine(track.State{}, []byte(lineMSG1), at(0), "i", nil)
	line := []byte(lineMSG3)
	out := make([]track.Output, 0, 8)
	var err error
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, out, err = step.ApplyLine(st, line, at(float64(i)), "e", out[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

package track_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/internal/infratest"
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

// TestStateBytesPerAircraft reports what the state costs per aircraft on
// the real SBS capture (../shared/data), in the changelog (encoded) and, as
// an estimate, in memory, at the end of the capture and at its largest. The
// bounds it checks are the documented ones: DedupeSize ids of 8 bytes,
// BufferSize held positions, a window of 2 × Horizon. Rerun with
// go test ./processors/track -run StateBytes -v
func TestStateBytesPerAircraft(t *testing.T) {
	raw, err := os.ReadFile(infratest.SharedData(t, "sbs/coniferconifer-20220108-part1.sbs"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\r\n"), "\r\n")
	step := newStep(t, track.Config{})
	states := map[string]track.State{}
	var maxEncoded, maxMem int
	for i, l := range lines {
		f := strings.SplitN(l, ",", 11)
		if len(f) < 11 {
			continue
		}
		ts, err := time.Parse("2006/01/02 15:04:05.000", f[6]+" "+f[7])
		if err != nil {
			continue
		}
		icao := strings.ToUpper(f[4])
		st, _, err := step.ApplyLine(states[icao], []byte(l), ts, fmt.Sprintf("%032x", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		states[icao] = st
		b, _ := st.AppendBinary(nil)
		maxEncoded = max(maxEncoded, len(b))
		maxMem = max(maxMem, memEstimate(&st))
	}
	var enc, mem int
	for _, st := range states {
		b, _ := st.AppendBinary(nil)
		enc += len(b)
		mem += memEstimate(&st)
	}
	n := len(states)
	t.Logf("%d lines, %d aircraft: state per aircraft at the end %d bytes encoded, ~%d in memory; largest %d encoded, ~%d in memory",
		len(lines), n, enc/n, mem/n, maxEncoded, maxMem)
	if limit := 8*16384 + 70*1024 + 200*240 + 4096; maxMem > limit {
		t.Errorf("largest state ~%d bytes in memory, above the documented bound %d", maxMem, limit)
	}
}

// memEstimate is the memory a State holds: its slices' elements and the
// event id strings of its points (32 hex digits each).
func memEstimate(st *track.State) int {
	const point = 8 + 16 + 32 + 8 + 8 + 4 + 3 // stamp, id header and bytes, lat, lon, altitude, flags
	return 200 + cap(st.Window)*(point+2) + cap(st.Pending)*point + cap(st.Seen)*8
}

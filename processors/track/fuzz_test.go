package track_test

import (
	"testing"

	"github.com/contrail-atm/contrail/processors/track"
)

// FuzzApplyLine feeds arbitrary bytes as raw SBS lines, to a fresh aircraft
// and to one with history: Apply never panics, never stays silent, and
// errors only for another aircraft's key.
func FuzzApplyLine(f *testing.F) {
	for _, l := range []string{lineMSG1, lineMSG2, lineMSG3, lineMSG4, lineMSG5, lineMSG6, lineMSG8, lineAIR, "", "MSG,3,", "CLK,,,,,,2022/01/08,22:42:15.605,,"} {
		f.Add([]byte(l), int64(1))
	}
	step, err := track.New(track.Config{BufferSize: 2})
	if err != nil {
		f.Fatal(err)
	}
	var seeded track.State
	for i, l := range []string{lineMSG3, lineMSG4, lineMSG6} {
		seeded, _, err = step.ApplyLine(seeded, []byte(l), at(float64(i)), "seed", nil)
		if err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte, sec int64) {
		ts := at(float64(sec % 1e6))
		for _, st := range []track.State{{}, seeded} {
			o, derr := track.Decode(line, ts, "fuzz")
			_, out, err := step.ApplyLine(st, line, ts, "fuzz", nil)
			if err != nil && (derr != nil || st.ICAO == "" || o.ICAO == st.ICAO) {
				t.Fatalf("ApplyLine(%q): %v", line, err)
			}
			if err == nil && len(out) == 0 {
				t.Fatalf("ApplyLine(%q): no output", line)
			}
		}
	})
}

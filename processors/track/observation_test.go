package track_test

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/contrail-atm/contrail/ingest/sbs"
	"github.com/contrail-atm/contrail/processors/track"
)

// Real lines from /work/shared/data/sbs/coniferconifer-20220108-part1.sbs
// (dump1090, 2022-01-08), as in ingest/sbs; MSG,2 is made up in their shape.
const (
	lineMSG1 = "MSG,1,111,11111,789252,111111,2022/01/08,22:42:16.984,2022/01/08,22:42:16.942,AHK209  ,,,,,,,,,,,0"
	lineMSG2 = "MSG,2,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,0,12,180,34.43697,136.04449,,,,,,-1"
	lineMSG3 = "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0"
	lineMSG4 = "MSG,4,111,11111,789252,111111,2022/01/08,22:42:15.384,2022/01/08,22:42:15.368,,,387,248,,,0,,,,,0"
	lineMSG5 = "MSG,5,111,11111,789252,111111,2022/01/08,22:42:15.901,2022/01/08,22:42:15.892,,28000,,,,,,,0,,0,0"
	lineMSG6 = "MSG,6,111,11111,789252,111111,2022/01/08,22:42:17.110,2022/01/08,22:42:17.073,,,,,,,,3276,0,0,0,0"
	lineMSG8 = "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,"
	lineAIR  = "AIR,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566"
)

func TestDecode(t *testing.T) {
	ts := at(0)
	base := func(tt int) track.Observation {
		return track.Observation{EventID: "e", TS: ts, ICAO: "789252", TransmissionType: tt}
	}
	with := func(o track.Observation, f func(*track.Observation)) track.Observation { f(&o); return o }
	tests := []struct {
		name, line string
		want       track.Observation
	}{
		{"MSG,1 identity, callsign trimmed", lineMSG1, with(base(1), func(o *track.Observation) {
			o.Has, o.Callsign, o.OnGround = track.HasCallsign|track.HasOnGround, "AHK209", false
		})},
		{"MSG,2 surface position", lineMSG2, with(base(2), func(o *track.Observation) {
			o.Has = track.HasAltitude | track.HasGroundSpeed | track.HasTrack | track.HasPosition | track.HasOnGround
			o.GroundSpeedKt, o.TrackDeg, o.Lat, o.Lon, o.OnGround = 12, 180, 34.43697, 136.04449, true
		})},
		{"MSG,3 airborne position", lineMSG3, with(base(3), func(o *track.Observation) {
			o.Has = track.HasAltitude | track.HasPosition | track.HasOnGround
			o.AltitudeFt, o.Lat, o.Lon = 28000, 34.43697, 136.04449
		})},
		{"MSG,4 velocity", lineMSG4, with(base(4), func(o *track.Observation) {
			o.Has = track.HasGroundSpeed | track.HasTrack | track.HasVerticalRate | track.HasOnGround
			o.GroundSpeedKt, o.TrackDeg = 387, 248
		})},
		{"MSG,5 altitude", lineMSG5, with(base(5), func(o *track.Observation) {
			o.Has, o.AltitudeFt = track.HasAltitude|track.HasOnGround, 28000
		})},
		{"MSG,6 squawk", lineMSG6, with(base(6), func(o *track.Observation) {
			o.Has, o.Squawk = track.HasSquawk|track.HasOnGround, "3276"
		})},
		{"MSG,8 empty", lineMSG8, base(8)},
		{"AIR line carries no track data", lineAIR, base(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := track.Decode([]byte(tt.line), ts, "e")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestDecodeSample decodes every line of the real capture: all decode, and
// applying them per aircraft in file order never errors nor stays silent.
func TestDecodeSample(t *testing.T) {
	f, err := os.Open("/work/shared/data/sbs/coniferconifer-20220108-part1.sbs")
	if err != nil {
		t.Skipf("sample not available: %v", err)
	}
	defer f.Close()
	step := newStep(t, track.Config{})
	states := map[string]track.State{}
	sc := bufio.NewScanner(f)
	n := 0
	kinds := map[string]int{}
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		n++
		m, err := sbs.Parser{}.Parse(line)
		if err != nil {
			t.Fatalf("line %d %q: %v", n, line, err)
		}
		o, err := track.Decode(line, m.Generated, fmt.Sprintf("line-%06d", n))
		if err != nil {
			t.Fatalf("line %d %q: %v", n, line, err)
		}
		if o.ICAO == "" {
			continue
		}
		st, out, err := step.Apply(states[o.ICAO], o, nil)
		if err != nil || len(out) == 0 {
			t.Fatalf("line %d: %v, %d outputs", n, err, len(out))
		}
		states[o.ICAO] = st
		for _, x := range out {
			kinds[fmt.Sprintf("%T", x)]++
		}
	}
	if n == 0 {
		t.Fatal("empty sample")
	}
	t.Logf("%d lines, %d aircraft, outputs %v", n, len(states), kinds)
}

package track_test

import (
	"fmt"
	"time"

	"github.com/contrail-atm/contrail/processors/track"
)

// A position arrives before the callsign and is buffered; the identity
// message releases it. A squawk older than the position still applies (each
// aspect has its own timestamp). An older position is stale for the current
// track but still recorded in the history, as every valid position is.
func Example() {
	step, err := track.New(track.Config{})
	if err != nil {
		panic(err)
	}
	ts := time.Date(2022, 1, 8, 22, 42, 15, 0, time.UTC)
	lines := []struct {
		id, line string
		sec      int
	}{
		{"e1", "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0", 1},
		{"e2", "MSG,1,111,11111,789252,111111,2022/01/08,22:42:16.984,2022/01/08,22:42:16.942,AHK209  ,,,,,,,,,,,0", 2},
		{"e3", "MSG,6,111,11111,789252,111111,2022/01/08,22:42:17.110,2022/01/08,22:42:17.073,,,,,,,,3276,0,0,0,", 0},
		{"e4", "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.000,2022/01/08,22:42:15.000,,28000,,,34.43700,136.04460,,,,,,0", 0},
	}
	var st track.State
	for _, l := range lines {
		var out []track.Output
		st, out, err = step.ApplyLine(st, []byte(l.line), ts.Add(time.Duration(l.sec)*time.Second), l.id, nil)
		if err != nil {
			panic(err)
		}
		for _, o := range out {
			switch o := o.(type) {
			case track.Buffered:
				fmt.Println(l.id, "buffered", o.Point.EventID)
			case track.CallsignLearned:
				fmt.Println(l.id, "callsign", o.Callsign)
			case track.PositionRecorded:
				fmt.Println(l.id, "recorded", o.Point.EventID, "as", o.Callsign)
			case track.Stale:
				fmt.Println(l.id, "stale", o.Aspect, "by", o.Lateness)
			case track.TrackUpdate:
				fmt.Printf("%s update callsign=%q squawk=%q position=%s\n", l.id, o.Track.Callsign, o.Track.Squawk, o.Track.Position.EventID)
			}
		}
	}
	// Output:
	// e1 buffered e1
	// e1 update callsign="" squawk="" position=e1
	// e2 callsign AHK209
	// e2 recorded e1 as AHK209
	// e2 update callsign="AHK209" squawk="" position=e1
	// e3 update callsign="AHK209" squawk="3276" position=e1
	// e4 stale altitude by 1s
	// e4 stale ground by 2s
	// e4 recorded e4 as AHK209
	// e4 stale position by 1s
}

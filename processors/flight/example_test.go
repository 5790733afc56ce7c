package flight_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/schemas"
)

// A plan arrives from ADEXP, the same plan from the ICAO channel, then a
// position and a destination change without a valid STAR.
func Example() {
	stars, _ := flight.LoadStars(strings.NewReader("EDDH HLZ1A\nEDDV DLE1A\n"))
	step, err := flight.New(flight.Config{Stars: stars})
	if err != nil {
		panic(err)
	}
	ts := time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC)
	envs := []*schemas.Envelope{
		{ID: "e1", Feed: "adexp", ProducerTS: ts, Raw: []byte("-TITLE IFPL -ARCID DLH5KF -IFPLID AA12345678 -ADEP EDDM -ADES EDDH -EOBD 260101 -EOBT 0700 -ARCTYP A320 -RFL F350 -STAR HLZ1A")},
		{ID: "e2", Feed: "ats", ProducerTS: ts, Raw: []byte("(FPL-DLH5KF-IS-A320/M-S/C-EDDM0700-N0450F350 DCT-EDDH0105-DOF/260101)")},
		{ID: "e4", Feed: "json", ProducerTS: ts.Add(80 * time.Minute), Raw: []byte(`{"type":"route_amendment_request","ts":"2026-01-01T07:20:00Z","callsign":"DLH5KF","new_route":"N0450F350 DCT","new_destination":"EDDV"}`)},
	}
	var ins []flight.Input
	for _, e := range envs {
		in, err := flight.FromEnvelope(e)
		if err != nil {
			panic(err)
		}
		ins = append(ins, in)
	}
	ins = append(ins[:2], flight.Input{EventID: "e3", Feed: "sbs", TS: ts.Add(75 * time.Minute),
		Track: &flight.TrackMsg{ICAO24: "3C6589", Callsign: "DLH5KF", Position: &schemas.Position{Lat: 48.3, Lon: 11.8}}}, ins[2])
	var st flight.State
	for _, in := range ins {
		var events []schemas.DomainEvent
		var res flight.Result
		st, events, res, err = step.Apply(st, in, nil)
		if err != nil {
			panic(err)
		}
		fmt.Println(strings.TrimSpace(in.EventID + " " + res.Outcome.String() + " " + res.Reason))
		for _, e := range events {
			fmt.Println("  ", e.Type)
		}
	}
	fs := st.Snapshots()[0]
	fmt.Println(len(st.Flights), "flight:", fs.Lifecycle, fs.ADEP, fs.ADES, fs.STAR, fs.IFPLID)
	// Output:
	// e1 applied
	//    FLIGHT_PLANNED
	// e2 applied
	// e3 applied
	//    POSITION_REPORTED
	// e4 invariant_violated dest_change_star
	//    INVARIANT_VIOLATED
	// 1 flight: AIRBORNE EDDM EDDH HLZ1A AA12345678
}

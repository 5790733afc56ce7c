package events_test

import (
	"errors"
	"fmt"

	"github.com/contrail-atm/contrail/ingest/events"
)

func ExampleParser_Check() {
	var p events.Parser
	key, ts, err := p.Check([]byte(`{"type":"conflict_alert","ts":"2018-10-22T15:21:05+02:00",` +
		`"flights":[{"callsign":"DLH5KF"},{"callsign":"AFR1234","icao24":"39856c"}],"severity":"warning"}`))
	fmt.Println(key, ts, err)

	_, _, err = p.Check([]byte(`{"now":1633214709.0,"messages":318553,"aircraft":[]}`))
	var se *events.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Code)
	}
	// Output:
	// AFR1234+DLH5KF 2018-10-22 13:21:05 +0000 UTC <nil>
	// events.type
}

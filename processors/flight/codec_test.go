package flight_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/contrail-atm/contrail/internal/simulate"
	"github.com/contrail-atm/contrail/processors/flight"
)

// dayStates applies a small simulated day in order and returns the states.
func dayStates(t testing.TB) map[string]flight.State {
	cfg := simulate.DefaultConfig()
	cfg.Flights = 10
	ev, _ := simulatedDay(t, cfg, 30)
	s := newStep(t, flight.Config{})
	states := map[string]flight.State{}
	for _, e := range ev {
		k := callsignOf(e.in)
		st, _, _, err := s.Apply(states[k], e.in, nil)
		if err != nil {
			t.Fatal(err)
		}
		states[k] = st
	}
	return states
}

func TestBinaryRoundTrip(t *testing.T) {
	states := dayStates(t)
	states["empty"] = flight.State{}
	var buf []byte
	flights, bytes := 0, 0
	for k, st := range states {
		var err error
		buf, err = st.AppendBinary(buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		var got flight.State
		if err := got.UnmarshalBinary(buf); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Fatalf("%s: round trip differs\n got %+v\nwant %+v", k, got, st)
		}
		// Every prefix is an error, never a panic.
		for i := range buf {
			if err := got.UnmarshalBinary(buf[:i]); !errors.Is(err, flight.ErrEncoding) {
				t.Fatalf("%s: prefix of %d bytes: %v", k, i, err)
			}
		}
		flights += len(st.Flights)
		bytes += len(buf)
	}
	perFlight := bytes / flights
	t.Logf("%d flights in %d bytes: %d bytes per flight", flights, bytes, perFlight)
	// Format 2 keeps the kinematic aspects and the evidence of the
	// movements (two event ids) too: about 60 bytes more than format 1.
	if perFlight > 1100 {
		t.Errorf("%d bytes per flight, want at most 1100", perFlight)
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	for _, st := range dayStates(f) {
		b, _ := st.AppendBinary(nil)
		f.Add(b)
	}
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var st flight.State
		if err := st.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, flight.ErrEncoding) {
				t.Fatalf("error %v does not wrap ErrEncoding", err)
			}
			return
		}
		// What decodes re-encodes to the same state.
		again, err := st.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		var st2 flight.State
		if err := st2.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(st, st2) {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}

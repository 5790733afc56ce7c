package track_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/contrail-atm/contrail/processors/track"
)

// TestStateBinaryRoundTrip encodes the states of a generated run after
// every observation and checks each decodes to an equal State, and that
// every strict prefix of an encoding is rejected rather than misread.
func TestStateBinaryRoundTrip(t *testing.T) {
	step, err := track.New(track.Config{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]track.State{}
	checked := 0
	for _, o := range generate(7, 400, 120) {
		st := states[o.ICAO]
		st, _, err = step.Apply(st, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		states[o.ICAO] = st
		b, err := st.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		var got track.State
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !reflect.DeepEqual(normal(got), normal(st)) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, st)
		}
		checked++
		if checked%50 == 0 {
			for i := range len(b) {
				var x track.State
				if err := x.UnmarshalBinary(b[:i]); !errors.Is(err, track.ErrCorruptState) {
					t.Fatalf("prefix of %d/%d bytes: err %v, want ErrCorruptState", i, len(b), err)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no states checked")
	}
}

// normal maps empty slices to nil: the encoding does not keep the
// difference, and the step treats both alike.
func normal(s track.State) track.State {
	if len(s.Window) == 0 {
		s.Window = nil
	}
	if len(s.Pending) == 0 {
		s.Pending = nil
	}
	return s
}

func FuzzStateUnmarshal(f *testing.F) {
	var st track.State
	st.ICAO = "4840D6"
	b, _ := st.AppendBinary(nil)
	f.Add(b)
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s track.State
		if err := s.UnmarshalBinary(data); err != nil {
			return
		}
		again, _ := s.AppendBinary(nil)
		var s2 track.State
		if err := s2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoding of a decoded state does not decode: %v", err)
		}
	})
}

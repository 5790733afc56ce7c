package track_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/contrail-atm/contrail/internal/binenc"
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
	// A state with every part filled: window, pending, duplicate set.
	step, _ := track.New(track.Config{})
	var rich track.State
	for i, l := range []string{lineMSG3, lineMSG4, lineMSG5, lineMSG6, lineMSG3, lineMSG1} {
		rich, _, _ = step.ApplyLine(rich, []byte(l), at(float64(i)), fmt.Sprintf("%032x", i%5), nil)
	}
	b, _ = rich.AppendBinary(nil)
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

// TestStateFormat1StillDecodes: a snapshot written by the previous binary
// (format 1: no first/last seen, message count, duplicate set or ground
// flag per point) restores, with those fields zero.
func TestStateFormat1StillDecodes(t *testing.T) {
	stamp := func(b []byte, ts int64, id string) []byte {
		return binenc.AppendString(binary.AppendVarint(b, ts), id)
	}
	point := func(b []byte, ts int64, id string, lat, lon float64, alt int64) []byte {
		b = stamp(b, ts, id)
		b = binenc.AppendF64(b, lat)
		b = binenc.AppendF64(b, lon)
		b = binary.AppendVarint(b, alt)
		return binenc.AppendBool(b, true)
	}
	b := []byte{1}
	b = binenc.AppendString(b, "4840D6")
	b = binenc.AppendString(b, "KLM1023")
	b = point(b, 100, "p", 52, 4, 30000)
	b = binary.AppendUvarint(b, math.Float64bits(450)) // ground speed
	b = binary.AppendUvarint(b, math.Float64bits(90))  // track
	b = binary.AppendVarint(b, 0)                      // vertical rate
	b = binary.AppendUvarint(b, uint64(track.HasGroundSpeed|track.HasTrack))
	b = binary.AppendVarint(b, 30000)
	b = binenc.AppendString(b, "1000")
	b = binenc.AppendBool(b, false)
	for a := range track.NumAspects {
		b = stamp(b, 100+int64(a), "s")
	}
	b = binary.AppendVarint(b, 100) // MaxPositionTS
	b = binary.AppendUvarint(b, 1)  // window
	b = point(b, 100, "p", 52, 4, 30000)
	b = binenc.AppendBool(b, true)
	b = append(b, byte(track.StatusRecorded))
	b = binary.AppendUvarint(b, 0) // pending
	var st track.State
	if err := st.UnmarshalBinary(b); err != nil {
		t.Fatalf("format 1: %v", err)
	}
	if st.ICAO != "4840D6" || st.Current.Callsign != "KLM1023" || st.Current.Squawk != "1000" || len(st.Window) != 1 ||
		st.Window[0].Status != track.StatusRecorded || st.Messages != 0 || st.Seen != nil || st.Window[0].HasOnGround {
		t.Errorf("format 1 decoded as %+v", st)
	}
	// Re-encoded, it is format 2 and decodes the same.
	again, _ := st.AppendBinary(nil)
	var st2 track.State
	if err := st2.UnmarshalBinary(again); err != nil || again[0] != 2 || !reflect.DeepEqual(normal(st2), normal(st)) {
		t.Errorf("re-encoded as format %d: %v, %+v", again[0], err, st2)
	}
}

package schemas

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// fastSamples covers every field and every union branch of the values with
// a fast codec.
func fastSamples() []Value {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 123_000_000, time.UTC)
	alt, vr := int32(35000), int32(-1200)
	gs, trk := 451.5, 270.25
	yes, no := true, false
	pos := Position{TS: t0, ICAO24: "4ca1b2", Lat: 53.42, Lon: -6.27, AltitudeFt: &alt, GroundSpeedKt: &gs, TrackDeg: &trk, VerticalRateFpm: &vr, OnGround: &no}
	plan := FlightPlan{IFPLID: "AA123", Callsign: "EIN12", ADEP: "EIDW", ADES: "EGLL", EOBT: t0, AircraftType: "A320", Route: "DCT", CruiseLevel: "F350", STAR: "OCK1A"}
	ev := func(e DomainEvent) *DomainEvent {
		e.EventID, e.GUFI, e.ProducerTS, e.EmittedTS, e.Feed, e.Cause = "e1", "EIN12-1", t0, t0.Add(time.Second), "adexp", []string{"c1", "c2"}
		return &e
	}
	return []Value{
		&Envelope{ID: "id", Feed: "sbs", Format: "sbs", FormatVersion: "1", Key: "4CA1B2", ProducerTS: t0, ProducerTSSource: FromPayload,
			IngestTS: t0.Add(time.Millisecond), Adapter: "file", Origin: "file:x:1", Raw: []byte("MSG,3,\x00\xff")},
		&Envelope{ProducerTSSource: FromReceipt, Raw: []byte{}},
		&Envelope{ID: "old", ProducerTSSource: FromRecord, ProducerTS: time.Date(1960, 5, 1, 0, 0, 0, 7_000_000, time.UTC), Raw: []byte("x")},
		&TrackEvent{EventID: "e", ICAO24: "4ca1b2", Callsign: "EIN12", TS: t0, Position: &pos},
		&TrackEvent{EventID: "e", ICAO24: "4ca1b2", Callsign: "EIN12", TS: t0, Squawk: "7700", OnGround: &yes, Revoked: true,
			Position: &Position{TS: t0, ICAO24: "4ca1b2", Lat: 1, Lon: 2}},
		&TrackEvent{EventID: "e", ICAO24: "4ca1b2", Callsign: "EIN12", TS: t0, AltitudeFt: &alt, GroundSpeedKt: &gs, TrackDeg: &trk, VerticalRateFpm: &vr},
		&TrackEvent{EventID: "e", ICAO24: "4ca1b2", Callsign: "EIN12", TS: t0, Squawk: "1000", AltitudeFt: &alt},
		&Outcome{EventID: "e", Feed: "sbs", Step: "track", Outcome: OutcomeStale, Reason: "position", ProducerTS: t0, Lateness: 1500 * time.Millisecond, GUFI: "g", ProcessedTS: t0},
		&Outcome{EventID: "e", Feed: "sbs", Step: "track", Outcome: OutcomeApplied, ProducerTS: t0, ProcessedTS: t0},
		&Outcome{EventID: "e", Feed: "sbs", Step: "track", Outcome: OutcomeStale, ProducerTS: t0, ProcessedTS: t0,
			Aspects: []AspectOutcome{{Aspect: "altitude", Outcome: "stale", Lateness: 1500 * time.Millisecond}, {Aspect: "position", Outcome: "discarded", Reason: "too_late"}}},
		ev(DomainEvent{FlightPlanned: &FlightPlanned{Plan: plan}}),
		ev(DomainEvent{Type: EventFlightPlanned, FlightPlanned: &FlightPlanned{Plan: FlightPlan{Callsign: "X", ADEP: "A", ADES: "B"}}}),
		ev(DomainEvent{FlightPlanChanged: &FlightPlanChanged{Plan: plan, Changed: []string{"ades", "star"}}}),
		ev(DomainEvent{FlightPlanChanged: &FlightPlanChanged{Plan: plan}}),
		ev(DomainEvent{FlightCancelled: &FlightCancelled{Reason: "r"}}),
		ev(DomainEvent{FlightCancelled: &FlightCancelled{}}),
		ev(DomainEvent{FlightDelayed: &FlightDelayed{NewEOBT: t0, PreviousEOBT: t0.Add(-time.Hour)}}),
		ev(DomainEvent{FlightDelayed: &FlightDelayed{NewEOBT: t0}}),
		ev(DomainEvent{FlightDeparted: &FlightDeparted{ADEP: "EIDW", DepartureTS: t0}}),
		ev(DomainEvent{PositionReported: &PositionReported{Position: pos}}),
		ev(DomainEvent{FlightArrived: &FlightArrived{ADES: "EGLL", ArrivalTS: t0}}),
		ev(DomainEvent{EmergencyDeclared: &EmergencyDeclared{Squawk: "7700", Detail: "d"}}),
		ev(DomainEvent{AlertRaised: &AlertRaised{AlertID: "a", Kind: "conflict", OtherGUFI: "g2", Message: "m"}}),
		ev(DomainEvent{AlertRaised: &AlertRaised{AlertID: "a", Kind: "conflict"}}),
		ev(DomainEvent{InvariantViolated: &InvariantViolated{Rule: "r", Detail: "d", RejectedEventID: "x"}}),
		ev(DomainEvent{EnteredCoverage: &EnteredCoverage{EntryTS: t0}}),
		&DomainEvent{EventID: "e", PositionReported: &PositionReported{Position: Position{ICAO24: "a"}}},
		&FlightState{GUFI: "g", IFPLID: "i", Callsign: "c", ICAO24: "a", ADEP: "A", ADES: "B", EOBT: t0, AircraftType: "A320", Route: "r",
			CruiseLevel: "F350", STAR: "S", Lifecycle: LifecycleAirborne, LastPosition: &pos, Squawk: "7700", Emergency: true,
			AspectTS: map[string]time.Time{"plan": t0}, EventCount: 42,
			Covers: []LogPosition{{Topic: "t", Partition: 2, Offset: 99}, {Topic: "u", Partition: 0, Offset: 1}}, UpdatedTS: t0},
		&FlightState{GUFI: "g", UpdatedTS: t0},
		&FlightState{GUFI: "g", UpdatedTS: t0, AltitudeFt: &alt, GroundSpeedKt: &gs, TrackDeg: &trk, VerticalRateFpm: &vr, OnGround: &yes},
		&FlightState{GUFI: "g", UpdatedTS: t0, AltitudeFt: &alt, OnGround: &no},
		&FlightState{GUFI: "g", Lifecycle: LifecycleCancelled, AspectTS: map[string]time.Time{"plan": t0, "position": t0, "status": t0}},
	}
}

// genericDecode decodes b with goavro into a new value of v's type.
func genericDecode(t *testing.T, r *Registry, b []byte, v Value) Value {
	t.Helper()
	s := r.Latest(v.SchemaName())
	native, err := r.DecodeAs(b, s)
	if err != nil {
		t.Fatalf("generic decode of %T: %v", v, err)
	}
	out := reflect.New(reflect.TypeOf(v).Elem()).Interface().(Value)
	out.fromNative(native.(map[string]any))
	return out
}

// TestFastCodecMatchesGoavro: the hand-written codecs write goavro's bytes
// and read back what goavro reads.
func TestFastCodecMatchesGoavro(t *testing.T) {
	r := MustRegistry()
	for i, v := range fastSamples() {
		s := r.Latest(v.SchemaName())
		if !fastFor(s, v) {
			t.Fatalf("sample %d (%T) has no fast codec for %s", i, v, s)
		}
		generic, err := s.AppendSingle(nil, v.toNative())
		if err != nil {
			t.Fatalf("sample %d (%T): goavro encode: %v", i, v, err)
		}
		fast, ok, err := encodeFast(appendSingleHeader(nil, s), s, v)
		if !ok || err != nil {
			t.Fatalf("sample %d (%T): fast encode: ok %v, %v", i, v, ok, err)
		}
		fs, isState := v.(*FlightState)
		if !isState || len(fs.AspectTS) < 2 { // goavro writes map entries in random order
			if !bytes.Equal(fast, generic) {
				t.Errorf("sample %d (%T): fast bytes differ from goavro's\nfast    %x\ngoavro  %x", i, v, fast, generic)
			}
		}
		// Each decoder on the other encoder's bytes.
		viaGeneric := genericDecode(t, r, fast, v)
		viaFast := reflect.New(reflect.TypeOf(v).Elem()).Interface().(Value)
		h, _ := ParseHeader(generic)
		if ok, err := decodeFast(h.Datum, s, viaFast); !ok || err != nil {
			t.Fatalf("sample %d (%T): fast decode: ok %v, %v", i, v, ok, err)
		}
		if !reflect.DeepEqual(viaFast, viaGeneric) {
			t.Errorf("sample %d (%T): fast decode differs from goavro's\nfast   %+v\ngoavro %+v", i, v, viaFast, viaGeneric)
		}
		// Truncations fail cleanly.
		for n := range len(h.Datum) {
			x := reflect.New(reflect.TypeOf(v).Elem()).Interface().(Value)
			if _, err := decodeFast(h.Datum[:n], s, x); err == nil {
				t.Errorf("sample %d (%T): %d of %d bytes decoded without error", i, v, n, len(h.Datum))
				break
			}
		}
	}
}

// TestFastCodecRejectsBadEnums: an enum value the schema does not list is
// an error, as with goavro.
func TestFastCodecRejectsBadEnums(t *testing.T) {
	r := MustRegistry()
	for _, v := range []Value{
		&Envelope{ProducerTSSource: "SOMETIME"},
		&FlightState{Lifecycle: "FLYING"},
		&DomainEvent{Type: "NEW_TYPE"},
	} {
		if _, err := r.Encode(nil, v); err == nil {
			t.Errorf("%T with a bad enum value encoded", v)
		}
	}
}

func FuzzFastDecode(f *testing.F) {
	r := MustRegistry()
	for _, v := range fastSamples() {
		b, err := r.Encode(nil, v)
		if err != nil {
			f.Fatal(err)
		}
		h, _ := ParseHeader(b)
		f.Add(h.Datum)
	}
	f.Fuzz(func(t *testing.T, datum []byte) {
		for _, v := range []Value{&Envelope{}, &TrackEvent{}, &Outcome{}, &DomainEvent{}, &FlightState{}} {
			s := r.Latest(v.SchemaName())
			if _, err := decodeFast(datum, s, v); err != nil {
				continue
			}
			// What the fast decoder accepts, goavro must read the same way.
			native, err := s.DecodeBinary(datum)
			if err != nil {
				continue // goavro is stricter on some block encodings; never looser
			}
			g := reflect.New(reflect.TypeOf(v).Elem()).Interface().(Value)
			g.fromNative(native.(map[string]any))
			if !reflect.DeepEqual(g, v) {
				t.Fatalf("%T: fast %+v, goavro %+v", v, v, g)
			}
		}
	})
}

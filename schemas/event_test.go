package schemas_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

func ptr[T any](v T) *T { return &v }

var (
	t0   = time.Date(2026, 3, 1, 12, 0, 0, 123_000_000, time.UTC)
	plan = schemas.FlightPlan{IFPLID: "AA12345678", Callsign: "DLH4AB", ADEP: "EDDF", ADES: "LEMD",
		EOBT: t0.Add(time.Hour), AircraftType: "A320", Route: "N0450F350 TOBAK UN852 ...", CruiseLevel: "F350", STAR: "TERS1A"}
	pos = schemas.Position{TS: t0, ICAO24: "3C6444", Lat: 50.03, Lon: 8.57, AltitudeFt: ptr(int32(35000)),
		GroundSpeedKt: ptr(452.5), TrackDeg: ptr(231.0), VerticalRateFpm: ptr(int32(-64)), OnGround: ptr(false)}
)

func eventCases() []*schemas.DomainEvent {
	base := func(p func(*schemas.DomainEvent)) *schemas.DomainEvent {
		e := &schemas.DomainEvent{EventID: "ev1", GUFI: "gufi-1", ProducerTS: t0, EmittedTS: t0.Add(time.Second),
			Feed: "adexp", Cause: []string{"a1", "b2"}}
		p(e)
		return e
	}
	return []*schemas.DomainEvent{
		base(func(e *schemas.DomainEvent) {
			e.Type, e.FlightPlanned = schemas.EventFlightPlanned, &schemas.FlightPlanned{Plan: plan}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.FlightPlanChanged = schemas.EventFlightPlanChanged, &schemas.FlightPlanChanged{Plan: plan, Changed: []string{"ades", "star"}}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.FlightCancelled = schemas.EventFlightCancelled, &schemas.FlightCancelled{Reason: "CNL"}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.FlightDelayed = schemas.EventFlightDelayed, &schemas.FlightDelayed{NewEOBT: t0.Add(2 * time.Hour), PreviousEOBT: t0}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.FlightDeparted = schemas.EventFlightDeparted, &schemas.FlightDeparted{ADEP: "EDDF", DepartureTS: t0}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.PositionReported = schemas.EventPositionReported, &schemas.PositionReported{Position: pos}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.PositionReported = schemas.EventPositionReported, &schemas.PositionReported{Position: schemas.Position{TS: t0, ICAO24: "3C6444"}}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.FlightArrived = schemas.EventFlightArrived, &schemas.FlightArrived{ADES: "LEMD", ArrivalTS: t0}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.EnteredCoverage = schemas.EventEnteredCoverage, &schemas.EnteredCoverage{EntryTS: t0}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.EmergencyDeclared = schemas.EventEmergencyDeclared, &schemas.EmergencyDeclared{Squawk: "7700", Detail: "general"}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.AlertRaised = schemas.EventAlertRaised, &schemas.AlertRaised{AlertID: "stca-9", Kind: "conflict", OtherGUFI: "gufi-2", Message: "STCA"}
		}),
		base(func(e *schemas.DomainEvent) {
			e.Type, e.InvariantViolated = schemas.EventInvariantViolated, &schemas.InvariantViolated{Rule: "star-valid-for-destination", Detail: "STAR TERS1A not valid for LEBL", RejectedEventID: "ev0"}
		}),
		base(func(e *schemas.DomainEvent) { e.Cause, e.Feed, e.FlightCancelled = nil, "", &schemas.FlightCancelled{} }),
	}
}

func TestDomainEventRoundTrip(t *testing.T) {
	r := registry(t)
	for _, in := range eventCases() {
		t.Run(string(in.Type), func(t *testing.T) {
			b, err := r.EncodeEvent(nil, in)
			if err != nil {
				t.Fatalf("EncodeEvent: %v", err)
			}
			out, err := r.DecodeEvent(b)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			want := *in
			if want.Type == "" {
				want.Type = schemas.EventFlightCancelled // inferred from the payload
			}
			if !reflect.DeepEqual(out, &want) {
				t.Errorf("decoded %+v\nwant    %+v", out, &want)
			}
		})
	}
}

func TestDomainEventPayloadChecked(t *testing.T) {
	r := registry(t)
	tests := []struct {
		name string
		e    *schemas.DomainEvent
	}{
		{"no payload", &schemas.DomainEvent{Type: schemas.EventFlightCancelled}},
		{"two payloads", &schemas.DomainEvent{FlightCancelled: &schemas.FlightCancelled{}, FlightArrived: &schemas.FlightArrived{}}},
		{"type names another payload", &schemas.DomainEvent{Type: schemas.EventFlightArrived, FlightCancelled: &schemas.FlightCancelled{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.EncodeEvent(nil, tt.e); !errors.Is(err, schemas.ErrPayload) {
				t.Errorf("EncodeEvent: %v, want ErrPayload", err)
			}
		})
	}
}

func TestFlightStateRoundTrip(t *testing.T) {
	r := registry(t)
	full := &schemas.FlightState{
		GUFI: "gufi-1", IFPLID: plan.IFPLID, Callsign: plan.Callsign, ICAO24: "3C6444", ADEP: "EDDF", ADES: "LEMD",
		EOBT: plan.EOBT, AircraftType: "A320", Route: plan.Route, CruiseLevel: "F350", STAR: "TERS1A",
		Lifecycle: schemas.LifecycleAirborne, LastPosition: &pos, Squawk: "7700", Emergency: true,
		AspectTS:   map[string]time.Time{"plan": t0, "position": t0.Add(time.Minute)},
		EventCount: 1 << 40,
		Covers:     []schemas.LogPosition{{Topic: "contrail.raw.sbs", Partition: 3, Offset: 1 << 33}, {Topic: "contrail.raw.adexp", Partition: 0, Offset: 0}},
		UpdatedTS:  t0,
	}
	for name, tc := range map[string]struct{ in, want *schemas.FlightState }{
		"full": {full, full},
		"zero": {&schemas.FlightState{}, &schemas.FlightState{Lifecycle: schemas.LifecycleUnknown}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := r.EncodeFlightState(nil, tc.in)
			if err != nil {
				t.Fatalf("EncodeFlightState: %v", err)
			}
			out, err := r.DecodeFlightState(b)
			if err != nil {
				t.Fatalf("DecodeFlightState: %v", err)
			}
			if !reflect.DeepEqual(out, tc.want) {
				t.Errorf("decoded %+v\nwant    %+v", out, tc.want)
			}
		})
	}
}

func TestTrackEventAndOutcomeRoundTrip(t *testing.T) {
	reg := schemas.MustRegistry()
	alt := int32(35000)
	ground := false
	ts := time.UnixMilli(1_700_000_000_123).UTC()
	cases := []*schemas.TrackEvent{
		{EventID: "e1", ICAO24: "4ca1b2", Callsign: "EIN123", TS: ts,
			Position: &schemas.Position{TS: ts, ICAO24: "4ca1b2", Lat: 53.4, Lon: -6.2, AltitudeFt: &alt, OnGround: &ground}},
		{EventID: "e2", ICAO24: "4ca1b2", Callsign: "EIN123", TS: ts, Squawk: "7700", OnGround: &ground},
		{EventID: "e3", ICAO24: "4ca1b2", Callsign: "EIN123", TS: ts, Revoked: true,
			Position: &schemas.Position{TS: ts, ICAO24: "4ca1b2", Lat: 1, Lon: 2}},
	}
	for _, in := range cases {
		b, err := reg.EncodeTrackEvent(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := reg.DecodeTrackEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, in) {
			t.Errorf("track event round trip:\n got %+v\nwant %+v", got, in)
		}
	}
	o := &schemas.Outcome{EventID: "e1", Feed: "sbs", Step: "track", Outcome: schemas.OutcomeStale, Reason: "position",
		ProducerTS: ts, Lateness: 1500 * time.Millisecond, GUFI: "G1", ProcessedTS: ts.Add(time.Second)}
	b, err := reg.EncodeOutcome(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reg.DecodeOutcome(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Errorf("outcome round trip:\n got %+v\nwant %+v", got, o)
	}
	if _, err := reg.DecodeOutcome(b[:len(b)-3]); err == nil {
		t.Error("truncated outcome decoded without error")
	}
}

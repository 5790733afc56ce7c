package schemas

import (
	"errors"
	"fmt"
	"time"
)

// EventType names the kind of a DomainEvent and so which payload it carries.
type EventType string

// The domain events of ARCHITECTURE.md §4. EventUnknown is what a reader sees
// for an event type newer than its schema (the enum default).
const (
	EventUnknown           EventType = "UNKNOWN"
	EventFlightPlanned     EventType = "FLIGHT_PLANNED"
	EventFlightPlanChanged EventType = "FLIGHT_PLAN_CHANGED"
	EventFlightCancelled   EventType = "FLIGHT_CANCELLED"
	EventFlightDelayed     EventType = "FLIGHT_DELAYED"
	EventFlightDeparted    EventType = "FLIGHT_DEPARTED"
	EventPositionReported  EventType = "POSITION_REPORTED"
	EventFlightArrived     EventType = "FLIGHT_ARRIVED"
	EventEmergencyDeclared EventType = "EMERGENCY_DECLARED"
	EventAlertRaised       EventType = "ALERT_RAISED"
	EventInvariantViolated EventType = "INVARIANT_VIOLATED"
	// EventEnteredCoverage (schema v2): a flight first seen airborne with no
	// evidence that it departed: it entered the coverage.
	EventEnteredCoverage EventType = "ENTERED_COVERAGE"
)

// DomainEvent is one event of the flight aggregate: a common header and
// exactly one payload, the one Type names. Every payload pointer but one is
// nil; a decoded event of an unknown (newer) type has Type EventUnknown and
// no payload.
type DomainEvent struct {
	EventID    string
	GUFI       string
	Type       EventType // may be left empty on encode: the payload set decides
	ProducerTS time.Time // producer timestamp of the causing evidence
	EmittedTS  time.Time // processing time
	Feed       string
	Cause      []string // ids of the source envelopes

	FlightPlanned     *FlightPlanned
	FlightPlanChanged *FlightPlanChanged
	FlightCancelled   *FlightCancelled
	FlightDelayed     *FlightDelayed
	FlightDeparted    *FlightDeparted
	PositionReported  *PositionReported
	FlightArrived     *FlightArrived
	EmergencyDeclared *EmergencyDeclared
	AlertRaised       *AlertRaised
	InvariantViolated *InvariantViolated
	EnteredCoverage   *EnteredCoverage
}

// FlightPlan is a plan as filed or last changed. Empty strings and the zero
// time are Avro null.
type FlightPlan struct {
	IFPLID       string
	Callsign     string
	ADEP, ADES   string
	EOBT         time.Time
	AircraftType string
	Route        string
	CruiseLevel  string
	STAR         string
}

// Position is one surveillance position; nil pointers are absent values.
type Position struct {
	TS              time.Time
	ICAO24          string
	Lat, Lon        float64
	AltitudeFt      *int32
	GroundSpeedKt   *float64
	TrackDeg        *float64
	VerticalRateFpm *int32
	OnGround        *bool
}

// The payloads, one per event type.
type (
	FlightPlanned     struct{ Plan FlightPlan }
	FlightPlanChanged struct {
		Plan    FlightPlan // after the change
		Changed []string   // names of the changed plan fields
	}
	FlightCancelled struct{ Reason string }
	FlightDelayed   struct{ NewEOBT, PreviousEOBT time.Time }
	FlightDeparted  struct {
		ADEP        string
		DepartureTS time.Time
	}
	PositionReported struct{ Position Position }
	FlightArrived    struct {
		ADES      string
		ArrivalTS time.Time
	}
	EmergencyDeclared struct{ Squawk, Detail string }
	AlertRaised       struct{ AlertID, Kind, OtherGUFI, Message string }
	InvariantViolated struct{ Rule, Detail, RejectedEventID string }
	EnteredCoverage   struct{ EntryTS time.Time }
)

const flightNS = "io.contrail.flight."

// ErrPayload is wrapped when a DomainEvent does not carry exactly the one
// payload its Type names.
var ErrPayload = errors.New("domain event payload does not match its type")

// SchemaName implements Value.
func (*DomainEvent) SchemaName() string { return DomainEventSchema }

// payloads lists the payload fields in schema order with whether each is set.
func (e *DomainEvent) payloads() []struct {
	t     EventType
	field string
	set   bool
} {
	return []struct {
		t     EventType
		field string
		set   bool
	}{
		{EventFlightPlanned, "flight_planned", e.FlightPlanned != nil},
		{EventFlightPlanChanged, "flight_plan_changed", e.FlightPlanChanged != nil},
		{EventFlightCancelled, "flight_cancelled", e.FlightCancelled != nil},
		{EventFlightDelayed, "flight_delayed", e.FlightDelayed != nil},
		{EventFlightDeparted, "flight_departed", e.FlightDeparted != nil},
		{EventPositionReported, "position_reported", e.PositionReported != nil},
		{EventFlightArrived, "flight_arrived", e.FlightArrived != nil},
		{EventEmergencyDeclared, "emergency_declared", e.EmergencyDeclared != nil},
		{EventAlertRaised, "alert_raised", e.AlertRaised != nil},
		{EventInvariantViolated, "invariant_violated", e.InvariantViolated != nil},
		{EventEnteredCoverage, "entered_coverage", e.EnteredCoverage != nil},
	}
}

// Validate checks that exactly one payload is set and that Type, when set,
// names it. Encode calls it.
func (e *DomainEvent) Validate() error {
	var set []EventType
	for _, p := range e.payloads() {
		if p.set {
			set = append(set, p.t)
		}
	}
	switch {
	case len(set) != 1:
		return fmt.Errorf("%w: event %s has %d payloads %v, want 1", ErrPayload, e.EventID, len(set), set)
	case e.Type != "" && e.Type != set[0]:
		return fmt.Errorf("%w: event %s has type %s but payload %s", ErrPayload, e.EventID, e.Type, set[0])
	}
	return nil
}

func (e *DomainEvent) toNative() map[string]any {
	m := map[string]any{
		"event_id":    e.EventID,
		"gufi":        e.GUFI,
		"type":        string(e.Type),
		"producer_ts": e.ProducerTS,
		"emitted_ts":  e.EmittedTS,
		"feed":        e.Feed,
		"cause":       anyStrs(e.Cause),
	}
	for _, p := range e.payloads() {
		m[p.field] = nil
		if p.set && e.Type == "" {
			m["type"] = string(p.t)
		}
	}
	if p := e.FlightPlanned; p != nil {
		m["flight_planned"] = nullRecord(flightNS+"FlightPlanned", map[string]any{"plan": p.Plan.toNative()})
	}
	if p := e.FlightPlanChanged; p != nil {
		m["flight_plan_changed"] = nullRecord(flightNS+"FlightPlanChanged", map[string]any{"plan": p.Plan.toNative(), "changed": anyStrs(p.Changed)})
	}
	if p := e.FlightCancelled; p != nil {
		m["flight_cancelled"] = nullRecord(flightNS+"FlightCancelled", map[string]any{"reason": nullStr(p.Reason)})
	}
	if p := e.FlightDelayed; p != nil {
		m["flight_delayed"] = nullRecord(flightNS+"FlightDelayed", map[string]any{"new_eobt": p.NewEOBT, "previous_eobt": nullTime(p.PreviousEOBT)})
	}
	if p := e.FlightDeparted; p != nil {
		m["flight_departed"] = nullRecord(flightNS+"FlightDeparted", map[string]any{"adep": p.ADEP, "departure_ts": p.DepartureTS})
	}
	if p := e.PositionReported; p != nil {
		m["position_reported"] = nullRecord(flightNS+"PositionReported", map[string]any{"position": p.Position.toNative()})
	}
	if p := e.FlightArrived; p != nil {
		m["flight_arrived"] = nullRecord(flightNS+"FlightArrived", map[string]any{"ades": p.ADES, "arrival_ts": p.ArrivalTS})
	}
	if p := e.EmergencyDeclared; p != nil {
		m["emergency_declared"] = nullRecord(flightNS+"EmergencyDeclared", map[string]any{"squawk": p.Squawk, "detail": nullStr(p.Detail)})
	}
	if p := e.AlertRaised; p != nil {
		m["alert_raised"] = nullRecord(flightNS+"AlertRaised", map[string]any{
			"alert_id": p.AlertID, "kind": p.Kind, "other_gufi": nullStr(p.OtherGUFI), "message": nullStr(p.Message)})
	}
	if p := e.InvariantViolated; p != nil {
		m["invariant_violated"] = nullRecord(flightNS+"InvariantViolated", map[string]any{
			"rule": p.Rule, "detail": p.Detail, "rejected_event_id": nullStr(p.RejectedEventID)})
	}
	if p := e.EnteredCoverage; p != nil {
		m["entered_coverage"] = nullRecord(flightNS+"EnteredCoverage", map[string]any{"entry_ts": p.EntryTS})
	}
	return m
}

func (e *DomainEvent) fromNative(m map[string]any) {
	*e = DomainEvent{
		EventID:    str(m, "event_id"),
		GUFI:       str(m, "gufi"),
		Type:       EventType(str(m, "type")),
		ProducerTS: tm(m, "producer_ts"),
		EmittedTS:  tm(m, "emitted_ts"),
		Feed:       str(m, "feed"),
		Cause:      strs(m, "cause"),
	}
	if p := record(m, "flight_planned"); p != nil {
		pm, _ := p["plan"].(map[string]any)
		e.FlightPlanned = &FlightPlanned{Plan: planFromNative(pm)}
	}
	if p := record(m, "flight_plan_changed"); p != nil {
		pm, _ := p["plan"].(map[string]any)
		e.FlightPlanChanged = &FlightPlanChanged{Plan: planFromNative(pm), Changed: strs(p, "changed")}
	}
	if p := record(m, "flight_cancelled"); p != nil {
		e.FlightCancelled = &FlightCancelled{Reason: optStr(p, "reason")}
	}
	if p := record(m, "flight_delayed"); p != nil {
		e.FlightDelayed = &FlightDelayed{NewEOBT: tm(p, "new_eobt"), PreviousEOBT: optTime(p, "previous_eobt")}
	}
	if p := record(m, "flight_departed"); p != nil {
		e.FlightDeparted = &FlightDeparted{ADEP: str(p, "adep"), DepartureTS: tm(p, "departure_ts")}
	}
	if p := record(m, "position_reported"); p != nil {
		pos, _ := p["position"].(map[string]any)
		e.PositionReported = &PositionReported{Position: positionFromNative(pos)}
	}
	if p := record(m, "flight_arrived"); p != nil {
		e.FlightArrived = &FlightArrived{ADES: str(p, "ades"), ArrivalTS: tm(p, "arrival_ts")}
	}
	if p := record(m, "emergency_declared"); p != nil {
		e.EmergencyDeclared = &EmergencyDeclared{Squawk: str(p, "squawk"), Detail: optStr(p, "detail")}
	}
	if p := record(m, "alert_raised"); p != nil {
		e.AlertRaised = &AlertRaised{AlertID: str(p, "alert_id"), Kind: str(p, "kind"), OtherGUFI: optStr(p, "other_gufi"), Message: optStr(p, "message")}
	}
	if p := record(m, "invariant_violated"); p != nil {
		e.InvariantViolated = &InvariantViolated{Rule: str(p, "rule"), Detail: str(p, "detail"), RejectedEventID: optStr(p, "rejected_event_id")}
	}
	if p := record(m, "entered_coverage"); p != nil {
		e.EnteredCoverage = &EnteredCoverage{EntryTS: tm(p, "entry_ts")}
	}
}

func (p *FlightPlan) toNative() map[string]any {
	return map[string]any{
		"ifplid":        nullStr(p.IFPLID),
		"callsign":      p.Callsign,
		"adep":          p.ADEP,
		"ades":          p.ADES,
		"eobt":          nullTime(p.EOBT),
		"aircraft_type": nullStr(p.AircraftType),
		"route":         nullStr(p.Route),
		"cruise_level":  nullStr(p.CruiseLevel),
		"star":          nullStr(p.STAR),
	}
}

// planFromNative reads a FlightPlan record; nil gives the zero plan.
func planFromNative(m map[string]any) FlightPlan {
	if m == nil {
		return FlightPlan{}
	}
	return FlightPlan{
		IFPLID:       optStr(m, "ifplid"),
		Callsign:     str(m, "callsign"),
		ADEP:         str(m, "adep"),
		ADES:         str(m, "ades"),
		EOBT:         optTime(m, "eobt"),
		AircraftType: optStr(m, "aircraft_type"),
		Route:        optStr(m, "route"),
		CruiseLevel:  optStr(m, "cruise_level"),
		STAR:         optStr(m, "star"),
	}
}

func (p *Position) toNative() map[string]any {
	return map[string]any{
		"ts":                p.TS,
		"icao24":            p.ICAO24,
		"lat":               p.Lat,
		"lon":               p.Lon,
		"altitude_ft":       nullI32(p.AltitudeFt),
		"ground_speed_kt":   nullF64(p.GroundSpeedKt),
		"track_deg":         nullF64(p.TrackDeg),
		"vertical_rate_fpm": nullI32(p.VerticalRateFpm),
		"on_ground":         nullBool(p.OnGround),
	}
}

func positionFromNative(m map[string]any) Position {
	if m == nil {
		return Position{}
	}
	lat, _ := m["lat"].(float64)
	lon, _ := m["lon"].(float64)
	return Position{
		TS:              tm(m, "ts"),
		ICAO24:          str(m, "icao24"),
		Lat:             lat,
		Lon:             lon,
		AltitudeFt:      optI32(m, "altitude_ft"),
		GroundSpeedKt:   optF64(m, "ground_speed_kt"),
		TrackDeg:        optF64(m, "track_deg"),
		VerticalRateFpm: optI32(m, "vertical_rate_fpm"),
		OnGround:        optBool(m, "on_ground"),
	}
}

// EncodeEvent appends the single-object encoding of e to buf after checking
// its payload.
func (r *Registry) EncodeEvent(buf []byte, e *DomainEvent) ([]byte, error) {
	out, err := r.Encode(buf, e)
	if err != nil {
		return nil, fmt.Errorf("encode domain event %s: %w", e.EventID, err)
	}
	return out, nil
}

// DecodeEvent decodes a single-object encoded domain event of any embedded
// version.
func (r *Registry) DecodeEvent(b []byte) (*DomainEvent, error) {
	var e DomainEvent
	if err := r.Decode(b, &e); err != nil {
		return nil, fmt.Errorf("decode domain event: %w", err)
	}
	return &e, nil
}

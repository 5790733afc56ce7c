package schemas

import (
	"fmt"
	"time"
)

// The logical names of the processors' own schemas.
const (
	TrackEventSchema = "track_event"
	OutcomeSchema    = "outcome"
)

// TrackEvent is one output of the track step for the flight step: a valid
// position entering the history, a status change (squawk, ground flag), or a
// revocation of a position recorded earlier. Empty strings are Avro null.
type TrackEvent struct {
	EventID  string
	ICAO24   string
	Callsign string
	TS       time.Time
	Position *Position
	Squawk   string
	OnGround *bool
	Revoked  bool
	// AltitudeFt is the altitude aspect and GroundSpeedKt, TrackDeg and
	// VerticalRateFpm the velocity aspect (schema v2), set when this event
	// carries them: the aircraft's current value, stamped by TS and EventID.
	AltitudeFt      *int32
	GroundSpeedKt   *float64
	TrackDeg        *float64
	VerticalRateFpm *int32
}

// HasVelocity reports whether e carries the velocity aspect.
func (e *TrackEvent) HasVelocity() bool {
	return e.GroundSpeedKt != nil || e.TrackDeg != nil || e.VerticalRateFpm != nil
}

// SchemaName implements Value.
func (*TrackEvent) SchemaName() string { return TrackEventSchema }

func (e *TrackEvent) toNative() map[string]any {
	var pos map[string]any
	if e.Position != nil {
		pos = e.Position.toNative()
	}
	return map[string]any{
		"event_id":  e.EventID,
		"icao24":    e.ICAO24,
		"callsign":  e.Callsign,
		"ts":        e.TS,
		"position":  nullRecord(flightNS+"Position", pos),
		"squawk":    nullStr(e.Squawk),
		"on_ground": nullBool(e.OnGround),
		"revoked":   e.Revoked,

		"altitude_ft":       nullI32(e.AltitudeFt),
		"ground_speed_kt":   nullF64(e.GroundSpeedKt),
		"track_deg":         nullF64(e.TrackDeg),
		"vertical_rate_fpm": nullI32(e.VerticalRateFpm),
	}
}

func (e *TrackEvent) fromNative(m map[string]any) {
	*e = TrackEvent{
		EventID:  str(m, "event_id"),
		ICAO24:   str(m, "icao24"),
		Callsign: str(m, "callsign"),
		TS:       tm(m, "ts"),
		Squawk:   optStr(m, "squawk"),
		OnGround: optBool(m, "on_ground"),
		Revoked:  boolean(m, "revoked"),

		AltitudeFt:      optI32(m, "altitude_ft"),
		GroundSpeedKt:   optF64(m, "ground_speed_kt"),
		TrackDeg:        optF64(m, "track_deg"),
		VerticalRateFpm: optI32(m, "vertical_rate_fpm"),
	}
	if p := record(m, "position"); p != nil {
		pos := positionFromNative(p)
		e.Position = &pos
	}
}

// EncodeTrackEvent appends the single-object encoding of e to buf.
func (r *Registry) EncodeTrackEvent(buf []byte, e *TrackEvent) ([]byte, error) {
	out, err := r.Encode(buf, e)
	if err != nil {
		return nil, fmt.Errorf("encode track event %s: %w", e.EventID, err)
	}
	return out, nil
}

// DecodeTrackEvent decodes a single-object encoded track event.
func (r *Registry) DecodeTrackEvent(b []byte) (*TrackEvent, error) {
	var e TrackEvent
	if err := r.Decode(b, &e); err != nil {
		return nil, fmt.Errorf("decode track event: %w", err)
	}
	return &e, nil
}

// The outcomes a processor step reports for an input event.
const (
	OutcomeApplied           = "applied"
	OutcomeStale             = "stale"
	OutcomeDuplicate         = "duplicate"
	OutcomeInvalid           = "invalid"
	OutcomeInvariantViolated = "invariant_violated"
	OutcomeBuffered          = "buffered"
	OutcomeDiscarded         = "discarded"
)

// Outcome is what a processor step did with one input event.
type Outcome struct {
	EventID     string
	Feed        string
	Step        string
	Outcome     string
	Reason      string
	ProducerTS  time.Time
	Lateness    time.Duration // stored in milliseconds
	GUFI        string
	ProcessedTS time.Time
	// Aspects are the verdicts on each aspect the event carries (schema
	// v2), when they are not all applied.
	Aspects []AspectOutcome
}

// AspectOutcome is the verdict on one aspect of an event.
type AspectOutcome struct {
	Aspect   string
	Outcome  string
	Reason   string
	Lateness time.Duration // stored in milliseconds
}

// SchemaName implements Value.
func (*Outcome) SchemaName() string { return OutcomeSchema }

func (o *Outcome) toNative() map[string]any {
	return map[string]any{
		"event_id":     o.EventID,
		"feed":         o.Feed,
		"step":         o.Step,
		"outcome":      o.Outcome,
		"reason":       nullStr(o.Reason),
		"producer_ts":  o.ProducerTS,
		"lateness_ms":  o.Lateness.Milliseconds(),
		"gufi":         nullStr(o.GUFI),
		"processed_ts": o.ProcessedTS,
		"aspects":      aspectOutcomesNative(o.Aspects),
	}
}

func aspectOutcomesNative(as []AspectOutcome) []any {
	out := make([]any, len(as))
	for i, a := range as {
		out[i] = map[string]any{"aspect": a.Aspect, "outcome": a.Outcome, "reason": nullStr(a.Reason), "lateness_ms": a.Lateness.Milliseconds()}
	}
	return out
}

func (o *Outcome) fromNative(m map[string]any) {
	*o = Outcome{
		EventID:     str(m, "event_id"),
		Feed:        str(m, "feed"),
		Step:        str(m, "step"),
		Outcome:     str(m, "outcome"),
		Reason:      optStr(m, "reason"),
		ProducerTS:  tm(m, "producer_ts"),
		Lateness:    time.Duration(i64(m, "lateness_ms")) * time.Millisecond,
		GUFI:        optStr(m, "gufi"),
		ProcessedTS: tm(m, "processed_ts"),
	}
	if as, ok := m["aspects"].([]any); ok && len(as) > 0 {
		o.Aspects = make([]AspectOutcome, 0, len(as))
		for _, a := range as {
			am, _ := a.(map[string]any)
			o.Aspects = append(o.Aspects, AspectOutcome{Aspect: str(am, "aspect"), Outcome: str(am, "outcome"), Reason: optStr(am, "reason"),
				Lateness: time.Duration(i64(am, "lateness_ms")) * time.Millisecond})
		}
	}
}

// EncodeOutcome appends the single-object encoding of o to buf.
func (r *Registry) EncodeOutcome(buf []byte, o *Outcome) ([]byte, error) {
	out, err := r.Encode(buf, o)
	if err != nil {
		return nil, fmt.Errorf("encode outcome of %s: %w", o.EventID, err)
	}
	return out, nil
}

// DecodeOutcome decodes a single-object encoded outcome.
func (r *Registry) DecodeOutcome(b []byte) (*Outcome, error) {
	var o Outcome
	if err := r.Decode(b, &o); err != nil {
		return nil, fmt.Errorf("decode outcome: %w", err)
	}
	return &o, nil
}

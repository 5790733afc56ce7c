package schemas

import (
	"fmt"
	"time"
)

// Lifecycle is the phase of a flight.
type Lifecycle string

// The lifecycle phases of ARCHITECTURE.md §4. LifecycleUnknown is the zero
// value on the wire and what a reader sees for a phase newer than its schema.
const (
	LifecycleUnknown   Lifecycle = "UNKNOWN"
	LifecyclePlanned   Lifecycle = "PLANNED"
	LifecycleAirborne  Lifecycle = "AIRBORNE"
	LifecycleLanded    Lifecycle = "LANDED"
	LifecycleCancelled Lifecycle = "CANCELLED"
)

// LogPosition is the next offset to read in one input topic-partition.
type LogPosition struct {
	Topic     string
	Partition int32
	Offset    int64
}

// FlightState is a snapshot of the flight aggregate. Empty strings and zero
// times are Avro null; an empty Lifecycle is written as LifecycleUnknown.
type FlightState struct {
	GUFI         string
	IFPLID       string
	Callsign     string
	ICAO24       string
	ADEP, ADES   string
	EOBT         time.Time
	AircraftType string
	Route        string
	CruiseLevel  string
	STAR         string
	Lifecycle    Lifecycle
	LastPosition *Position
	Squawk       string
	Emergency    bool
	// AspectTS is the latest applied producer timestamp per aspect
	// ("plan", "position", "status", ...).
	AspectTS   map[string]time.Time
	EventCount int64
	// AltitudeFt, GroundSpeedKt, TrackDeg, VerticalRateFpm and OnGround
	// (schema v2) are the current value of the altitude, velocity and
	// ground aspects, each the newest by producer time of its own evidence;
	// LastPosition keeps only what the last position report carried.
	AltitudeFt      *int32
	GroundSpeedKt   *float64
	TrackDeg        *float64
	VerticalRateFpm *int32
	OnGround        *bool
	// Covers lists the input positions the snapshot includes.
	Covers    []LogPosition
	UpdatedTS time.Time
}

// SchemaName implements Value.
func (*FlightState) SchemaName() string { return FlightStateSchema }

func (s *FlightState) toNative() map[string]any {
	lc := s.Lifecycle
	if lc == "" {
		lc = LifecycleUnknown
	}
	aspects := make(map[string]any, len(s.AspectTS))
	for k, t := range s.AspectTS {
		aspects[k] = t
	}
	covers := make([]any, len(s.Covers))
	for i, c := range s.Covers {
		covers[i] = map[string]any{"topic": c.Topic, "partition": c.Partition, "offset": c.Offset}
	}
	var pos map[string]any
	if s.LastPosition != nil {
		pos = s.LastPosition.toNative()
	}
	return map[string]any{
		"gufi":          s.GUFI,
		"ifplid":        nullStr(s.IFPLID),
		"callsign":      nullStr(s.Callsign),
		"icao24":        nullStr(s.ICAO24),
		"adep":          nullStr(s.ADEP),
		"ades":          nullStr(s.ADES),
		"eobt":          nullTime(s.EOBT),
		"aircraft_type": nullStr(s.AircraftType),
		"route":         nullStr(s.Route),
		"cruise_level":  nullStr(s.CruiseLevel),
		"star":          nullStr(s.STAR),
		"lifecycle":     string(lc),
		"last_position": nullRecord(flightNS+"Position", pos),
		"squawk":        nullStr(s.Squawk),
		"emergency":     s.Emergency,
		"aspect_ts":     aspects,
		"event_count":   s.EventCount,
		"covers":        covers,
		"updated_ts":    s.UpdatedTS,

		"altitude_ft":       nullI32(s.AltitudeFt),
		"ground_speed_kt":   nullF64(s.GroundSpeedKt),
		"track_deg":         nullF64(s.TrackDeg),
		"vertical_rate_fpm": nullI32(s.VerticalRateFpm),
		"on_ground":         nullBool(s.OnGround),
	}
}

func (s *FlightState) fromNative(m map[string]any) {
	*s = FlightState{
		GUFI:         str(m, "gufi"),
		IFPLID:       optStr(m, "ifplid"),
		Callsign:     optStr(m, "callsign"),
		ICAO24:       optStr(m, "icao24"),
		ADEP:         optStr(m, "adep"),
		ADES:         optStr(m, "ades"),
		EOBT:         optTime(m, "eobt"),
		AircraftType: optStr(m, "aircraft_type"),
		Route:        optStr(m, "route"),
		CruiseLevel:  optStr(m, "cruise_level"),
		STAR:         optStr(m, "star"),
		Lifecycle:    Lifecycle(str(m, "lifecycle")),
		Squawk:       optStr(m, "squawk"),
		Emergency:    boolean(m, "emergency"),
		EventCount:   i64(m, "event_count"),
		UpdatedTS:    tm(m, "updated_ts"),

		AltitudeFt:      optI32(m, "altitude_ft"),
		GroundSpeedKt:   optF64(m, "ground_speed_kt"),
		TrackDeg:        optF64(m, "track_deg"),
		VerticalRateFpm: optI32(m, "vertical_rate_fpm"),
		OnGround:        optBool(m, "on_ground"),
	}
	if p := record(m, "last_position"); p != nil {
		pos := positionFromNative(p)
		s.LastPosition = &pos
	}
	if a, ok := m["aspect_ts"].(map[string]any); ok && len(a) > 0 {
		s.AspectTS = make(map[string]time.Time, len(a))
		for k, v := range a {
			if t, ok := v.(time.Time); ok {
				s.AspectTS[k] = t.UTC()
			}
		}
	}
	if cs, ok := m["covers"].([]any); ok && len(cs) > 0 {
		s.Covers = make([]LogPosition, 0, len(cs))
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			s.Covers = append(s.Covers, LogPosition{Topic: str(cm, "topic"), Partition: i32(cm, "partition"), Offset: i64(cm, "offset")})
		}
	}
}

// EncodeFlightState appends the single-object encoding of s to buf.
func (r *Registry) EncodeFlightState(buf []byte, s *FlightState) ([]byte, error) {
	out, err := r.Encode(buf, s)
	if err != nil {
		return nil, fmt.Errorf("encode flight state %s: %w", s.GUFI, err)
	}
	return out, nil
}

// DecodeFlightState decodes a single-object encoded flight snapshot of any
// embedded version.
func (r *Registry) DecodeFlightState(b []byte) (*FlightState, error) {
	var s FlightState
	if err := r.Decode(b, &s); err != nil {
		return nil, fmt.Errorf("decode flight state: %w", err)
	}
	return &s, nil
}

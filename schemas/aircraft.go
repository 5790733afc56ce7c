package schemas

import (
	"fmt"
	"time"
)

// AircraftStateSchema is the logical name of the aircraft snapshot schema.
const AircraftStateSchema = "aircraft_state"

// AircraftState is the track step's current view of one aircraft (ICAO
// 24-bit address), identified or not, on the compacted aircraft state
// topic: each aspect the newest valid value by producer time. Nil pointers,
// empty strings and zero times are Avro null (absent aspects).
type AircraftState struct {
	ICAO24          string
	Callsign        string
	PositionTS      time.Time
	Lat, Lon        *float64
	AltitudeFt      *int32
	GroundSpeedKt   *float64
	TrackDeg        *float64
	VerticalRateFpm *int32
	Squawk          string
	OnGround        *bool
	// AspectTS is the producer time of each aspect's current value.
	AspectTS            map[string]time.Time
	FirstSeen, LastSeen time.Time
	// Messages counts the aircraft's messages the step read, duplicates
	// excluded; it only grows, so it versions the snapshots.
	Messages  int64
	UpdatedTS time.Time
}

// SchemaName implements Value.
func (*AircraftState) SchemaName() string { return AircraftStateSchema }

func (s *AircraftState) toNative() map[string]any {
	aspects := make(map[string]any, len(s.AspectTS))
	for k, t := range s.AspectTS {
		aspects[k] = t
	}
	return map[string]any{
		"icao24":            s.ICAO24,
		"callsign":          nullStr(s.Callsign),
		"position_ts":       nullTime(s.PositionTS),
		"lat":               nullF64(s.Lat),
		"lon":               nullF64(s.Lon),
		"altitude_ft":       nullI32(s.AltitudeFt),
		"ground_speed_kt":   nullF64(s.GroundSpeedKt),
		"track_deg":         nullF64(s.TrackDeg),
		"vertical_rate_fpm": nullI32(s.VerticalRateFpm),
		"squawk":            nullStr(s.Squawk),
		"on_ground":         nullBool(s.OnGround),
		"aspect_ts":         aspects,
		"first_seen":        s.FirstSeen,
		"last_seen":         s.LastSeen,
		"messages":          s.Messages,
		"updated_ts":        s.UpdatedTS,
	}
}

func (s *AircraftState) fromNative(m map[string]any) {
	*s = AircraftState{
		ICAO24:          str(m, "icao24"),
		Callsign:        optStr(m, "callsign"),
		PositionTS:      optTime(m, "position_ts"),
		Lat:             optF64(m, "lat"),
		Lon:             optF64(m, "lon"),
		AltitudeFt:      optI32(m, "altitude_ft"),
		GroundSpeedKt:   optF64(m, "ground_speed_kt"),
		TrackDeg:        optF64(m, "track_deg"),
		VerticalRateFpm: optI32(m, "vertical_rate_fpm"),
		Squawk:          optStr(m, "squawk"),
		OnGround:        optBool(m, "on_ground"),
		FirstSeen:       tm(m, "first_seen"),
		LastSeen:        tm(m, "last_seen"),
		Messages:        i64(m, "messages"),
		UpdatedTS:       tm(m, "updated_ts"),
	}
	if a, ok := m["aspect_ts"].(map[string]any); ok && len(a) > 0 {
		s.AspectTS = make(map[string]time.Time, len(a))
		for k, v := range a {
			if t, ok := v.(time.Time); ok {
				s.AspectTS[k] = t.UTC()
			}
		}
	}
}

// Validate implements the check Encode runs before writing.
func (s *AircraftState) Validate() error {
	if s.ICAO24 == "" {
		return fmt.Errorf("aircraft state: empty icao24")
	}
	return nil
}

package track

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/contrail-atm/contrail/ingest/sbs"
)

// Field is a bit set naming which optional values an Observation carries.
// SBS-1 leaves a field empty when the message type does not carry it.
type Field uint16

// The optional values of an Observation.
const (
	HasCallsign Field = 1 << iota
	HasAltitude
	HasGroundSpeed
	HasTrack
	HasPosition // Lat and Lon, always together
	HasVerticalRate
	HasSquawk
	HasOnGround
)

// Observation is what the track step reads from one raw SBS-1 line plus its
// envelope: the producer timestamp and the event id, which orders and names
// the evidence. It is a value; Decode never retains the line.
type Observation struct {
	EventID          string    // envelope id; breaks ties between equal timestamps
	TS               time.Time // envelope producer timestamp
	ICAO             string    // upper-case hex, the step's key
	TransmissionType int       // 1-8 for MSG lines, 0 for other line types
	Has              Field

	Callsign        string // trimmed
	AltitudeFt      int32
	GroundSpeedKt   float64
	TrackDeg        float64
	Lat, Lon        float64
	VerticalRateFpm int32
	Squawk          string // four octal digits
	OnGround        bool
}

// DecodeError says why a line that passed the ingest syntax check still
// cannot be read by the track step (a malformed value field). Apply reports
// it as Invalid with Code as the reason.
type DecodeError struct {
	Code   string // machine-readable, e.g. "track.altitude"
	Reason string
}

func (e *DecodeError) Error() string { return e.Reason }

// Decode reads the fields the track step needs from a raw SBS-1 line. The
// line's syntax is checked with ingest/sbs (the same rules as at ingest), so
// a *sbs.SyntaxError may be returned as well as a *DecodeError. ts and
// eventID come from the envelope: the step orders by the envelope's producer
// timestamp, not by re-reading the line, so a replay with a corrected clock
// source stays consistent with the raw log.
func Decode(line []byte, ts time.Time, eventID string) (Observation, error) {
	o := Observation{EventID: eventID, TS: ts}
	m, err := sbs.Parser{}.Parse(line)
	if err != nil {
		return o, fmt.Errorf("decode SBS line: %w", err)
	}
	o.ICAO = m.ICAO
	o.TransmissionType = m.TransmissionType
	if m.Type != "MSG" {
		return o, nil // no track data in AIR, ID, STA, SEL, CLK lines
	}
	var f [22][]byte
	rest := line
	for i := range f {
		j := bytes.IndexByte(rest, ',')
		if j < 0 {
			f[i] = rest
			break
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	if cs := bytes.TrimSpace(f[10]); len(cs) > 0 {
		o.Callsign, o.Has = string(cs), o.Has|HasCallsign
	}
	if v, ok, err := decInt(f[11], "altitude"); err != nil {
		return o, err
	} else if ok {
		o.AltitudeFt, o.Has = v, o.Has|HasAltitude
	}
	if v, ok, err := decFloat(f[12], "ground_speed"); err != nil {
		return o, err
	} else if ok {
		o.GroundSpeedKt, o.Has = v, o.Has|HasGroundSpeed
	}
	if v, ok, err := decFloat(f[13], "track"); err != nil {
		return o, err
	} else if ok {
		o.TrackDeg, o.Has = v, o.Has|HasTrack
	}
	lat, okLat, err := decFloat(f[14], "latitude")
	if err != nil {
		return o, err
	}
	lon, okLon, err := decFloat(f[15], "longitude")
	if err != nil {
		return o, err
	}
	switch {
	case okLat && okLon:
		o.Lat, o.Lon, o.Has = lat, lon, o.Has|HasPosition
	case okLat || okLon:
		return o, &DecodeError{Code: "track.position", Reason: "latitude and longitude must both be present or both empty"}
	}
	if v, ok, err := decInt(f[16], "vertical_rate"); err != nil {
		return o, err
	} else if ok {
		o.VerticalRateFpm, o.Has = v, o.Has|HasVerticalRate
	}
	if sq := f[17]; len(sq) > 0 {
		if len(sq) != 4 || !octal(sq) {
			return o, &DecodeError{Code: "track.squawk", Reason: fmt.Sprintf("field 18 (squawk) is %q, want 4 octal digits", short(sq))}
		}
		o.Squawk, o.Has = string(sq), o.Has|HasSquawk
	}
	switch string(f[21]) {
	case "":
	case "0":
		o.Has |= HasOnGround
	case "-1", "1":
		o.OnGround, o.Has = true, o.Has|HasOnGround
	default:
		return o, &DecodeError{Code: "track.on_ground", Reason: fmt.Sprintf("field 22 (on ground) is %q, want 0, 1 or -1", short(f[21]))}
	}
	return o, nil
}

// decodeReason is the machine-readable reason of a decode failure.
func decodeReason(err error) string {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Code
	}
	var se *sbs.SyntaxError
	if errors.As(err, &se) {
		return se.ReasonCode()
	}
	return "track.decode"
}

func decInt(b []byte, name string) (int32, bool, error) {
	if len(b) == 0 {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil {
		return 0, false, &DecodeError{Code: "track." + name, Reason: fmt.Sprintf("%s is %q, want an integer", name, short(b))}
	}
	return int32(v), true, nil
}

func decFloat(b []byte, name string) (float64, bool, error) {
	if len(b) == 0 {
		return 0, false, nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || v != v || v > 1e300 || v < -1e300 { // no NaN or Inf
		return 0, false, &DecodeError{Code: "track." + name, Reason: fmt.Sprintf("%s is %q, want a finite number", name, short(b))}
	}
	return v, true, nil
}

func octal(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}

func short(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}

package track

import "time"

// Output is one result of Apply. Every input yields at least one Output, so
// no observation is ever silently dropped. The concrete types are
// TrackUpdate, PositionRecorded, Buffered, VelocityReported, Stale,
// Invalid, Discarded and CallsignLearned.
type Output interface{ output() }

// TrackUpdate says the current track of an aircraft changed: Applied names
// the aspects the cause changed, Track is the whole current view after the
// change. Callsign is empty while the aircraft is unidentified.
type TrackUpdate struct {
	ICAO    string
	EventID string // the cause
	TS      time.Time
	Applied AspectSet
	Track   Current
}

// PositionRecorded is one valid position entering the track history, late
// ones included: the history is every valid position, in any order, and is
// what the positions view is built from. Callsign is the one known when the
// position was recorded; it is empty for a position more than
// Config.Horizon late (Unjudged) of an aircraft not identified yet, which
// enters only the aircraft's own history.
type PositionRecorded struct {
	ICAO     string
	Callsign string
	Point    Point
	EventID  string // the cause; differs from Point.EventID when released from the buffer
	// Unjudged is true for a position more than Config.Horizon late:
	// recorded for the history without a plausibility judgement.
	Unjudged bool
	// Released is true for a position buffered while the callsign was
	// unknown (reported Buffered then) and recorded now that it is known.
	Released bool
}

// Buffered says a valid position was kept because the aircraft's callsign
// is not known yet; it is recorded (PositionRecorded) once it is, unless
// the buffer overflows first (Discarded buffer_full). It enters the
// aircraft's own history at once, which has no such bound.
type Buffered struct {
	ICAO  string
	Point Point
}

// Stale says an aspect of an observation lost against a newer (or, on equal
// timestamps, a tie-winning) value already applied. Lateness is how far
// behind the applied timestamp it was (zero on a lost tie).
type Stale struct {
	ICAO     string
	EventID  string
	TS       time.Time
	Aspect   Aspect
	Lateness time.Duration
}

// Invalid says an observation, or its position, is implausible or
// unreadable. Revised is true when a position accepted earlier is judged
// implausible after a late neighbour arrived; downstream removes it from the
// history.
type Invalid struct {
	ICAO    string
	EventID string
	TS      time.Time
	Reason  string // machine-readable, e.g. "track.implied_speed"
	Detail  string
	Revised bool
	// Was is what had become of a Revised position: StatusRecorded, in
	// the flight's history; StatusPending or StatusDropped, only in the
	// aircraft's own history.
	Was Status
}

// Discarded says a valid piece of evidence was not used, and why.
type Discarded struct {
	ICAO    string
	EventID string
	TS      time.Time
	Reason  string // one of the Reason* constants
}

// The reasons of Discarded.
const (
	ReasonBufferFull  = "buffer_full"   // oldest buffered position dropped
	ReasonTooLate     = "too_late"      // position later than Config.LateLimit
	ReasonDuplicate   = "duplicate"     // an event id read before (see Config.DedupeSize)
	ReasonNoTrackData = "no_track_data" // line type or message carries nothing the step uses
)

// VelocityReported is one valid velocity report entering the aircraft's
// velocity history, late ones included (like positions, history does not
// depend on arrival order; the current velocity is the newest).
type VelocityReported struct {
	ICAO     string
	Stamp    Stamp
	Velocity Velocity
}

// CallsignLearned says the aircraft's callsign became known or changed.
type CallsignLearned struct {
	ICAO     string
	EventID  string
	TS       time.Time
	Callsign string
	Previous string
}

func (TrackUpdate) output()      {}
func (PositionRecorded) output() {}
func (Buffered) output()         {}
func (Stale) output()            {}
func (Invalid) output()          {}
func (Discarded) output()        {}
func (CallsignLearned) output()  {}
func (VelocityReported) output() {}

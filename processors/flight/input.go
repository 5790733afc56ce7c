package flight

import (
	"fmt"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

// Input is one piece of evidence for the flight step: a plan message, a track
// update or an alert, with the envelope's id, feed and producer timestamp.
// Exactly one of Plan, Track and Alert is set.
type Input struct {
	EventID string    // source envelope id (or, for track evidence, the track step's cause event id)
	Feed    string    // "sbs", "adexp", "ats", "json"
	TS      time.Time // producer timestamp
	Plan    *PlanMsg
	Track   *TrackMsg
	Alert   *AlertMsg
}

// Title is the kind of a plan message, the same for ADEXP titles and ICAO
// ATS message types (IFPL and FPL are both TitleIFPL).
type Title uint8

// The plan message titles the flight step reads.
const (
	TitleNone Title = iota
	TitleIFPL       // IFPL, FPL: a (re-)filed plan
	TitleCHG        // CHG, or a route amendment request from the JSON feed
	TitleCNL
	TitleDLA
	TitleDEP
	TitleARR
	numTitles
)

var titleNames = [numTitles]string{"", "IFPL", "CHG", "CNL", "DLA", "DEP", "ARR"}

func (t Title) String() string {
	if t < numTitles {
		return titleNames[t]
	}
	return fmt.Sprintf("title(%d)", uint8(t))
}

// PlanMsg is a flight-plan message as the flight step needs it. The key
// fields (ARCID, ADEP, ADES, EOBT, IFPLID) identify the flight; the content
// fields are empty when the message does not carry them, and a message only
// changes what it carries.
type PlanMsg struct {
	Title Title
	// GUFI names the flight directly (route amendment requests may); empty
	// otherwise.
	GUFI   string
	ARCID  string
	IFPLID string
	ADEP   string
	ADES   string
	// EOBT is the off-block time of the key, dated by EOBD (or, without EOBD,
	// the date nearest the producer timestamp). For a DLA it is the revised
	// EOBT. Zero when the message carries none (DEP, ADEXP ARR).
	EOBT time.Time

	AircraftType string
	Route        string
	CruiseLevel  string
	STAR         string
	// NewADEP and NewADES are an amended departure or destination (CHG field
	// 22 13/ and 16/, ADEXP -NEWADEP/-NEWADES, route amendment
	// new_destination).
	NewADEP, NewADES string

	ATD   time.Time // DEP: actual time of departure
	ATA   time.Time // ARR: actual time of arrival
	ADARR string    // ARR: aerodrome of arrival
}

// TrackMsg is surveillance evidence from the track step for one aircraft
// whose callsign is known.
type TrackMsg struct {
	ICAO24   string
	Callsign string
	Position *schemas.Position // nil when this is a status-only update
	Squawk   string            // "" when unknown/unchanged
	OnGround *bool
	Revoked  bool // a position recorded earlier was judged implausible later (remove from history)
	// AltitudeFt is the aircraft's current altitude and GroundSpeedKt,
	// TrackDeg and VerticalRateFpm its current velocity report, when the
	// evidence carries those aspects (nil otherwise).
	AltitudeFt      *int32
	GroundSpeedKt   *float64
	TrackDeg        *float64
	VerticalRateFpm *int32
}

func (tm *TrackMsg) hasVelocity() bool {
	return tm.GroundSpeedKt != nil || tm.TrackDeg != nil || tm.VerticalRateFpm != nil
}

// AlertMsg is a system event about a flight from the JSON events feed:
// a conflict alert (naming a second flight) or a trajectory prediction.
type AlertMsg struct {
	Kind     string // "conflict_alert", "trajectory_prediction"
	AlertID  string // the producer's id; the envelope id when it gives none
	Callsign string
	GUFI     string // when the producer names the flight by GUFI
	ICAO24   string
	// OtherCallsign and OtherGUFI name the second flight of a conflict.
	OtherCallsign, OtherGUFI string
	Severity                 string
	Message                  string
	// Detail is what Message says after the flights (", predicted minimum
	// separation 2.1 NM"), for the message as the other flight sees it.
	Detail string
	// Role, PeerGUFI and SelfGUFI carry an alert naming two flights from
	// one callsign's flight step to the other's and back (see AlertRole).
	Role               AlertRole
	PeerGUFI, SelfGUFI string
}

// AlertRole is where an alert naming two flights is in its exchange between
// the two callsigns' owners. Each flight step owns one callsign, so neither
// knows the other's GUFI: the first finds its flight and hands the alert to
// the second (AlertRequest, with its GUFI), which raises it on its flight
// naming the first and hands it back (AlertAck, with its GUFI), and the
// first raises it naming the second. Both flights get the alert, each
// naming the other's GUFI, whatever the order of the other evidence.
type AlertRole uint8

// The alert roles.
const (
	AlertOrigin  AlertRole = iota // as the producer sent it
	AlertRequest                  // at the second flight's owner: Callsign is the second flight, PeerGUFI the first's
	AlertAck                      // back at the first: SelfGUFI its flight, PeerGUFI the second's
)

// Swapped is a with its two flights exchanged: the alert as the other
// flight sees it.
func (a AlertMsg) Swapped() AlertMsg {
	a.Callsign, a.OtherCallsign = a.OtherCallsign, a.Callsign
	a.GUFI, a.OtherGUFI = a.OtherGUFI, a.GUFI
	return a
}

// callsign is the key of in: the callsign the step is keyed by.
func (in *Input) callsign() string {
	switch {
	case in.Plan != nil:
		return in.Plan.ARCID
	case in.Track != nil:
		return in.Track.Callsign
	case in.Alert != nil:
		return in.Alert.Callsign
	}
	return ""
}

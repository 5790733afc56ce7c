package simulate

import "time"

// Output is what Generate produces: the records of each feed in delivery
// order, perturbations included, and the ground truth they encode.
type Output struct {
	SBS   []Record `json:"sbs"`
	ADEXP []Record `json:"adexp,omitempty"`
	ATS   []Record `json:"ats,omitempty"`
	Truth Truth    `json:"truth"`
}

// Kind says what a delivered record is.
type Kind string

// Record kinds.
const (
	Valid     Kind = "valid"     // the first delivery of a generated record; the parser accepts it
	Duplicate Kind = "duplicate" // a byte-identical second delivery of a valid record
	Garbage   Kind = "garbage"   // malformed; the parser rejects it
)

// Record is one record as a feed delivers it, without framing (an SBS line
// without CRLF, one ADEXP or ATS message).
type Record struct {
	Raw  string `json:"raw"`
	Kind Kind   `json:"kind"`
	// Flight is the Flight.ID the record belongs to; empty for garbage.
	Flight string `json:"flight,omitempty"`
	// Produced is the producer's time (SBS generated time, plan filing
	// time); zero for garbage.
	Produced time.Time `json:"produced,omitzero"`
	// Delivered is when the simulated feed delivers it; records are in
	// this order.
	Delivered time.Time `json:"delivered"`
	// Disordered and Late say the record was held back (Config.Disorder,
	// Config.Late).
	Disordered bool `json:"disordered,omitempty"`
	Late       bool `json:"late,omitempty"`
}

// Truth is what the pipeline should derive from the records.
type Truth struct {
	Seed       int64     `json:"seed"`
	Start      time.Time `json:"start"`
	Duration   string    `json:"duration"`
	PlanFormat string    `json:"plan_format"`
	Counts     Counts    `json:"counts"`
	Flights    []Flight  `json:"flights"` // last: WriteTruth streams it

}

// Counts are the records per feed by kind, after perturbation.
type Counts struct {
	SBS   FeedCounts `json:"sbs"`
	ADEXP FeedCounts `json:"adexp"`
	ATS   FeedCounts `json:"ats"`
}

// FeedCounts count one feed's delivered records. Records = Valid +
// Duplicate + Garbage; a parser accepts Valid + Duplicate.
type FeedCounts struct {
	Records    int `json:"records"`
	Valid      int `json:"valid"`
	Duplicate  int `json:"duplicate"`
	Garbage    int `json:"garbage"`
	Disordered int `json:"disordered"`
	Late       int `json:"late"`
}

// Flight is one leg as it really happened.
type Flight struct {
	// ID names the leg in the simulation: F00001, and F00001-2 for the
	// same aircraft's second leg under the same callsign.
	ID  string `json:"id"`
	Leg int    `json:"leg"`
	// Identifiers on the plan channel (ARCID, ADEP, EOBD, EOBT, ADES,
	// IFPLID) and on the surveillance channel (ICAO24, callsign = ARCID).
	ARCID  string `json:"arcid"`
	ICAO24 string `json:"icao24"`
	IFPLID string `json:"ifplid"`
	ADEP   string `json:"adep"`
	ADES   string `json:"ades"`
	// EOBD (yymmdd) and EOBT (hhmm) as first filed; Key is the composite
	// flight key of the filed plan, ADEP/EOBD/EOBT/ARCID/ADES.
	EOBD string `json:"eobd"`
	EOBT string `json:"eobt"`
	Key  string `json:"key"`
	// Plan holds the plan after all changes and delays.
	Plan Plan `json:"plan"`
	// Squawk is the assigned SSR code (octal).
	Squawk    string `json:"squawk"`
	Cancelled bool   `json:"cancelled"`
	// OffBlock, Takeoff and Landing are zero for a cancelled flight.
	OffBlock time.Time `json:"off_block,omitzero"`
	Takeoff  time.Time `json:"takeoff,omitzero"`
	Landing  time.Time `json:"landing,omitzero"`
	// Messages are the plan messages filed for this leg, in time order.
	Messages []PlanMessage `json:"messages"`
	// Events is the lifecycle in time order.
	Events []Event `json:"events"`
	// Positions are every airborne position (SBS MSG,3), in time order.
	Positions []Position `json:"positions"`
}

// Plan is the flight plan's content.
type Plan struct {
	AircraftType string    `json:"aircraft_type"`
	Wake         string    `json:"wake"`
	EOBT         time.Time `json:"eobt"` // latest estimated off-block time (after DLA)
	RFL          string    `json:"rfl"`  // requested flight level, e.g. F350
	Speed        string    `json:"speed"`
	Route        string    `json:"route"`
	EET          string    `json:"eet"` // total estimated elapsed time hhmm
}

// PlanMessage is one plan message of a flight, in each format written.
type PlanMessage struct {
	Time  time.Time `json:"time"`  // filing time (ADEXP FILTIM)
	Title string    `json:"title"` // IFPL, CHG, DLA, CNL, ARR (ICAO: FPL for IFPL)
	ADEXP string    `json:"adexp,omitempty"`
	ATS   string    `json:"ats,omitempty"`
}

// Event types of the lifecycle.
const (
	EventFiled           = "filed"
	EventChanged         = "changed"
	EventDelayed         = "delayed"
	EventCancelled       = "cancelled"
	EventDeparted        = "departed" // takeoff, first airborne position
	EventEmergency       = "emergency"
	EventEmergencyEnded  = "emergency_ended"
	EventArrived         = "arrived" // landing, last airborne position
	EventArrivalMessaged = "arrival_message"
)

// Event is a lifecycle event of a flight.
type Event struct {
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
	Detail string    `json:"detail,omitempty"`
}

// Position is one airborne position report.
type Position struct {
	Time     time.Time `json:"ts"`
	Lat      float64   `json:"lat"`
	Lon      float64   `json:"lon"`
	AltFt    int       `json:"alt_ft"`
	GSKt     int       `json:"gs_kt"`
	TrackDeg float64   `json:"track_deg"`
	VRateFPM int       `json:"vrate_fpm"`
	Squawk   string    `json:"squawk"`
}

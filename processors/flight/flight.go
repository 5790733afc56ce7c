package flight

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contrail-atm/contrail/processors/order"
	"github.com/contrail-atm/contrail/schemas"
)

// Stamp orders evidence: producer timestamp first, event id second (see
// package order), shared with the track step.
type Stamp = order.Stamp

// Aspect is one independently ordered part of a flight: a late plan update
// is not discarded because a newer position exists.
type Aspect uint8

// The aspects of a flight.
const (
	AspectPlan     Aspect = iota // plan messages
	AspectPosition               // last position
	AspectSquawk
	AspectStatus // departure, arrival, cancellation, on-ground
	AspectAlert
	AspectAltitude // newest altitude, from any surveillance message carrying one
	AspectVelocity // newest velocity report (ground speed, track, vertical rate)
	AspectGround   // newest ground flag
	NumAspects
)

// numAspectsV1 is how many aspects state format 1 encoded.
const numAspectsV1 = 5

var aspectNames = [NumAspects]string{"plan", "position", "squawk", "status", "alert", "altitude", "velocity", "ground"}

func (a Aspect) String() string {
	if a < NumAspects {
		return aspectNames[a]
	}
	return fmt.Sprintf("aspect(%d)", uint8(a))
}

// PlanEntry is one plan message kept in a flight with its verdict in the
// last fold: Rule is empty when it was accepted, else the id of the rule
// that rejected it.
type PlanEntry struct {
	Stamp
	Feed string
	Msg  PlanMsg
	Rule string
}

// SquawkObs is one squawk observation.
type SquawkObs struct {
	Stamp
	Code string
}

// Flight is one flight (one leg) of a callsign. Fields after Plans are
// derived: by folding Plans in Stamp order (Plan, Filed, Cancelled, ATD,
// ATA, ADARR) or from track evidence.
type Flight struct {
	GUFI string
	// Anchor is the identity evidence the GUFI was derived from: "P/" and
	// the composite key of the first plan message, or "T/" and the first
	// track stamp. It never changes.
	Anchor string
	ICAO24 string
	// Base is the fold of plan messages dropped from Plans when it
	// outgrew Config.MaxPlanMessages; BaseStamp is the newest of them.
	Base      PlanFold
	BaseStamp Stamp
	// Plans are the kept plan messages, sorted by Stamp.
	Plans []PlanEntry
	PlanFold
	// TrackFirst and TrackLast bound the producer timestamps of the
	// positions attributed to the flight (0 when none): the track segment
	// that legs are told apart by.
	TrackFirst, TrackLast int64
	// FirstAirborne is the earliest airborne position; LandedTS the earliest
	// on-ground position after it (0 when none).
	FirstAirborne, LandedTS int64
	// FirstGround is the earliest on-ground evidence (0 when none) and
	// FirstAirborneAlt the altitude of the FirstAirborne position (when
	// HasFirstAirborneAlt): the evidence that a flight departed rather than
	// entered the coverage already airborne.
	FirstGround         int64
	FirstAirborneAlt    int32
	HasFirstAirborneAlt bool
	// CoverageSent says EnteredCoverage was emitted.
	CoverageSent bool
	// FirstAirborneID and LandedID are the event ids of the FirstAirborne
	// and LandedTS positions: the cause of the movement events the track
	// decides.
	FirstAirborneID, LandedID string
	Position                  schemas.Position // last position; TS zero when none
	// Kinematics holds the current altitude, velocity and ground flag, each
	// the newest by Stamp of its own aspect (AspectAltitude, AspectVelocity,
	// AspectGround); its TS, ICAO24, Lat and Lon are unused.
	Kinematics schemas.Position
	Squawk     string
	// Squawks is the squawk history within Config.Horizon of the newest
	// (plus the newest before that), for emergency episodes.
	Squawks  []SquawkObs
	Episodes int32 // emergency episodes declared
	Latest   [NumAspects]Stamp
	// Recent holds the newest Config.RecentSize stamps of track and alert
	// evidence, for duplicate detection.
	Recent []Stamp
	// DepartedSent and ArrivedSent say FlightDeparted and FlightArrived
	// were emitted; DepartedADEP and ArrivedADES the aerodromes they named.
	DepartedSent, ArrivedSent bool
	DepartedADEP, ArrivedADES string
	DepartedTS                int64 // the departure time FlightDeparted named
	EventCount                int64
}

// PlanFold is what folding a flight's plan messages in Stamp order yields.
type PlanFold struct {
	Plan      schemas.FlightPlan
	Filed     bool
	Cancelled bool
	ATD, ATA  int64 // from DEP and ARR messages (Unix ns; 0 when none)
	ADARR     string
	// ATDEvent and ATAEvent are "feed/event id" of the DEP and ARR
	// messages ATD and ATA came from: the cause of the movement events.
	ATDEvent, ATAEvent string
}

// departure is the departure time (DEP message, else first airborne
// position); 0 when not departed.
func (f *Flight) departure() int64 {
	if f.ATD != 0 {
		return f.ATD
	}
	return f.FirstAirborne
}

// landing is the arrival time (ARR message, else first on-ground position
// after airborne); 0 when not landed.
func (f *Flight) landing() int64 {
	if f.ATA != 0 {
		return f.ATA
	}
	return f.LandedTS
}

// Lifecycle derives the phase from the facts, not from the order they
// arrived in.
func (f *Flight) Lifecycle() schemas.Lifecycle {
	switch {
	case f.Cancelled:
		return schemas.LifecycleCancelled
	case f.landing() != 0:
		return schemas.LifecycleLanded
	case f.departure() != 0:
		return schemas.LifecycleAirborne
	case len(f.Plans) > 0 || f.Filed:
		return schemas.LifecyclePlanned
	}
	return schemas.LifecycleUnknown
}

// segment is the time span of the flight's track: from the first track
// evidence (or departure) to the last (or landing); 0, 0 when it has none.
func (f *Flight) segment() (lo, hi int64) {
	lo, hi = f.TrackFirst, f.TrackLast
	for _, v := range []int64{f.departure(), f.landing()} {
		if v == 0 {
			continue
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	return lo, hi
}

func (f *Flight) finished() bool { return f.Cancelled || f.landing() != 0 }

// newest is the newest stamp of any aspect.
func (f *Flight) newest() int64 {
	var n int64
	for _, s := range f.Latest {
		n = max(n, s.TS)
	}
	return n
}

// State is the flight step's state for one callsign: every flight (leg) of
// it still retained. The zero value is a callsign never seen. Apply takes
// ownership of the State it is given and returns the next one, which may
// share memory with it; callers keep only the returned one.
type State struct {
	Callsign string
	MaxTS    int64 // newest producer timestamp of any input (Unix ns)
	Flights  []Flight
	// Pending holds plan messages that name no known flight and cannot
	// start one (DEP, ARR, CHG, DLA, CNL before their filing), sorted by
	// Stamp, at most Config.MaxPending: each is applied as soon as a flight
	// it matches exists, so a message does not found a flight of its own
	// because it arrived before the plan.
	Pending []PlanEntry
}

// Stars is reference data: the valid STARs per destination aerodrome.
type Stars map[string][]string

// Valid reports whether star is a STAR of aerodrome ad.
func (s Stars) Valid(ad, star string) bool { return slices.Contains(s[ad], star) }

// Config tunes the step. The zero value of a field means its default.
type Config struct {
	// Stars is the reference data rule dest_change_star checks a new STAR
	// against (LoadStars reads it). Default none: a destination change is
	// then accepted only with a STAR, which cannot be checked.
	Stars Stars
	// Before and After bound the window around a plan's EOBT in which a
	// track matches it: EOBT-Before .. EOBT+After. Defaults 1h and 6h.
	Before, After time.Duration
	// PlanMatch is how far apart the EOBTs of two plan messages with the
	// same ADEP and ADES may be to name the same flight (a DLA carries the
	// revised EOBT). Default 6h.
	PlanMatch time.Duration
	// LegGap is the silence that separates two legs: a position more than
	// LegGap away from a flight's track segment (or after its landing)
	// starts a new flight. Default 30m.
	LegGap time.Duration
	// LandingTolerance is how long after the arrival time airborne positions
	// are still accepted (ARR times are whole minutes). Default 2m.
	LandingTolerance time.Duration
	// Horizon is how late (behind the newest squawk of a flight) a squawk
	// may arrive and still be judged as if in order. Default 15m.
	Horizon time.Duration
	// Retention is how long (in producer time behind the callsign's newest
	// input) a landed or cancelled flight is kept. Default 6h.
	Retention time.Duration
	// MaxFlights bounds the flights kept per callsign; beyond it the oldest
	// (finished first) is evicted. Default 8.
	MaxFlights int
	// MaxPlanMessages bounds the plan messages kept per flight; older ones
	// are folded into a base. Default 16.
	MaxPlanMessages int
	// RecentSize is how many recent track/alert stamps are kept per flight
	// to recognise duplicates. Default 8.
	RecentSize int
	// DecisionDelay is how far (in producer time) a flight's track must
	// reach past its first airborne position before the step says whether
	// it departed or entered the coverage, so a position up to that late
	// can still show the ground or a low altitude before it. A DEP message
	// (or a landing in the track) decides at once. Default 15m, like Horizon: the
	// FlightDeparted of a flight known only from its track follows its
	// first airborne position by that much track; its lifecycle is AIRBORNE
	// at once.
	DecisionDelay time.Duration
	// LowAltitudeFt is the altitude below which a flight's first airborne
	// position is evidence of a departure (a climb from low altitude).
	// Default 5000.
	LowAltitudeFt int32
	// MaxPending bounds the plan messages held because they name no known
	// flight yet (State.Pending). When it overflows, or a held message is
	// older than Retention behind the newest input, the message founds a
	// flight of its own. Default 16.
	MaxPending int
}

// ErrConfig is wrapped by New for a contradictory configuration.
var ErrConfig = errors.New("invalid flight step configuration")

// ErrWrongKey is returned by Apply when an input's callsign is not the
// state's: the runner routed it to the wrong key.
var ErrWrongKey = errors.New("input for another callsign")

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Before, time.Hour)
	def(&c.After, 6*time.Hour)
	def(&c.PlanMatch, 6*time.Hour)
	def(&c.LegGap, 30*time.Minute)
	def(&c.LandingTolerance, 2*time.Minute)
	def(&c.Horizon, 15*time.Minute)
	def(&c.Retention, 6*time.Hour)
	def(&c.DecisionDelay, 15*time.Minute)
	if c.LowAltitudeFt == 0 {
		c.LowAltitudeFt = 5000
	}
	if c.MaxFlights == 0 {
		c.MaxFlights = 8
	}
	if c.MaxPlanMessages == 0 {
		c.MaxPlanMessages = 16
	}
	if c.RecentSize == 0 {
		c.RecentSize = 8
	}
	if c.MaxPending == 0 {
		c.MaxPending = 16
	}
	return c
}

// Validate rejects contradictions after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Before", c.Before}, {"After", c.After}, {"PlanMatch", c.PlanMatch}, {"LegGap", c.LegGap},
		{"LandingTolerance", c.LandingTolerance}, {"Horizon", c.Horizon}, {"Retention", c.Retention}} {
		if d.v < 0 {
			return fmt.Errorf("%w: %s %v, want > 0", ErrConfig, d.name, d.v)
		}
	}
	switch {
	case c.MaxFlights < 1:
		return fmt.Errorf("%w: MaxFlights %d, want >= 1", ErrConfig, c.MaxFlights)
	case c.MaxPlanMessages < 1:
		return fmt.Errorf("%w: MaxPlanMessages %d, want >= 1", ErrConfig, c.MaxPlanMessages)
	case c.RecentSize < 1:
		return fmt.Errorf("%w: RecentSize %d, want >= 1", ErrConfig, c.RecentSize)
	case c.MaxPending < 1:
		return fmt.Errorf("%w: MaxPending %d, want >= 1", ErrConfig, c.MaxPending)
	case c.LandingTolerance >= c.LegGap:
		return fmt.Errorf("%w: LandingTolerance %v must be shorter than LegGap %v", ErrConfig, c.LandingTolerance, c.LegGap)
	}
	return nil
}

// Step is the pure per-callsign core of the flight step. It holds only
// configuration, so one Step serves every key and goroutine.
type Step struct{ cfg Config }

// New returns a Step with cfg's defaults applied.
func New(cfg Config) (*Step, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Step{cfg: cfg.withDefaults()}, nil
}

// Config returns the configuration with defaults applied.
func (s *Step) Config() Config { return s.cfg }

// The invariant rules (docs/invariants.md).
const (
	RuleDestChangeSTAR        = "dest_change_star"
	RuleCancelledNoUpdate     = "cancelled_no_update"
	RuleLandedNoAirborne      = "landed_no_airborne"
	RuleEmergencyOnce         = "emergency_once_per_episode"
	RuleArrivalAfterDeparture = "arrival_after_departure"
	RuleDepartedADEPFixed     = "departed_adep_fixed"
	RuleNoCancelAfterDeparted = "no_cancel_after_departure"
	// RulePositionPlausible withdraws a recorded position the track step
	// judged implausible once a late neighbour arrived; the violation's
	// rejected event id is the position's PositionReported event id.
	RulePositionPlausible = "position-plausible"
)

// Reasons of OutcomeInvalid.
const (
	ReasonNoFlight    = "flight.no_flight"     // an alert or amendment names no known flight
	ReasonNoFlightYet = "flight.no_flight_yet" // a plan message held until its filing arrives (OutcomeBuffered)
	ReasonBadInput    = "flight.bad_input"     // not exactly one of Plan, Track, Alert; no id or timestamp
	ReasonNoCallsign  = "flight.no_callsign"   // the input names no callsign
	ReasonCoordinates = "flight.coordinates"   // position outside -90..90, -180..180
	ReasonNoTrackData = "flight.no_track_data" // a TrackMsg with nothing in it
	ReasonTooLate     = "flight.too_late"      // plan message older than the folded base
	ReasonBadPlan     = "flight.bad_plan"      // a plan message without title
)

// Apply derives the next state of one callsign from one input, appends the
// domain events it causes to out and reports the input's outcome. It does
// no I/O and reads no clock. The only error is ErrWrongKey.
func (s *Step) Apply(st State, in Input, out []schemas.DomainEvent) (State, []schemas.DomainEvent, Result, error) {
	res := Result{EventID: in.EventID, Feed: in.Feed}
	n := 0
	for _, set := range []bool{in.Plan != nil, in.Track != nil, in.Alert != nil} {
		if set {
			n++
		}
	}
	if n != 1 || in.EventID == "" || in.TS.IsZero() {
		res.Outcome, res.Reason = OutcomeInvalid, ReasonBadInput
		return st, out, res, nil
	}
	cs := in.callsign()
	if cs == "" {
		res.Outcome, res.Reason = OutcomeInvalid, ReasonNoCallsign
		return st, out, res, nil
	}
	if st.Callsign != "" && cs != st.Callsign {
		return st, out, res, fmt.Errorf("apply %s to state of %s: %w", cs, st.Callsign, ErrWrongKey)
	}
	st.Callsign = cs
	ts := in.TS.UnixNano()
	st.MaxTS = max(st.MaxTS, ts)
	at := Stamp{TS: ts, EventID: in.EventID}
	switch {
	case in.Plan != nil:
		out = s.applyPlan(&st, &in, at, out, &res)
	case in.Track != nil:
		out = s.applyTrack(&st, &in, at, out, &res)
	default:
		out = s.applyAlert(&st, &in, at, out, &res)
	}
	if len(st.Pending) > 0 {
		out = s.drain(&st, out)
	}
	s.evict(&st)
	return st, out, res, nil
}

// evict drops finished flights older than Retention and bounds the number
// of flights.
func (s *Step) evict(st *State) {
	cut := st.MaxTS - int64(s.cfg.Retention)
	st.Flights = slices.DeleteFunc(st.Flights, func(f Flight) bool { return f.finished() && f.newest() < cut })
	for len(st.Flights) > s.cfg.MaxFlights {
		victim := 0
		for i := range st.Flights {
			a, b := &st.Flights[i], &st.Flights[victim]
			if a.finished() != b.finished() {
				if a.finished() {
					victim = i
				}
				continue
			}
			if a.newest() < b.newest() {
				victim = i
			}
		}
		st.Flights = slices.Delete(st.Flights, victim, victim+1)
	}
	if len(st.Flights) == 0 {
		st.Flights = nil
	}
}

// newFlight appends a flight anchored at anchor and returns its index.
func (s *Step) newFlight(st *State, anchor string) int {
	g := gufiOf(st.Callsign, anchor)
	for i := 0; ; i++ {
		if !slices.ContainsFunc(st.Flights, func(f Flight) bool { return f.GUFI == g }) {
			break
		}
		g = gufiOf(st.Callsign, anchor+"#"+strconv.Itoa(i+1))
	}
	st.Flights = append(st.Flights, Flight{GUFI: g, Anchor: anchor})
	return len(st.Flights) - 1
}

// gufiOf derives a GUFI from the callsign and the anchor evidence: no
// randomness and no clock, so a replay assigns the same GUFIs.
func gufiOf(callsign, anchor string) string {
	h := fnv.New64a()
	h.Write([]byte(callsign))
	h.Write([]byte{0})
	h.Write([]byte(anchor))
	return callsign + "-" + fmt.Sprintf("%016x", h.Sum64())
}

// eventID derives a domain event id from the GUFI, type, cause and a
// discriminator, so a replay emits the same ids.
func eventID(gufi string, typ schemas.EventType, cause, extra string) string {
	h := fnv.New128a()
	for _, s := range []string{gufi, string(typ), cause, extra} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var b [16]byte
	return fmt.Sprintf("%x", h.Sum(b[:0]))
}

func (s *Step) event(f *Flight, typ schemas.EventType, in *Input, extra string) schemas.DomainEvent {
	return schemas.DomainEvent{EventID: eventID(f.GUFI, typ, in.EventID, extra), GUFI: f.GUFI, Type: typ,
		ProducerTS: in.TS, Feed: in.Feed, Cause: []string{in.EventID}}
}

func (s *Step) violation(f *Flight, in *Input, rule, detail, rejected string) schemas.DomainEvent {
	e := s.event(f, schemas.EventInvariantViolated, in, rule+"/"+rejected)
	e.InvariantViolated = &schemas.InvariantViolated{Rule: rule, Detail: detail, RejectedEventID: rejected}
	return e
}

// departedEvidence says whether the flight departed (a DEP message, an
// on-ground report before its first airborne position, or a first airborne
// position below LowAltitudeFt) or entered the coverage already airborne,
// and decided reports whether that can be said yet (see DecisionDelay).
func (s *Step) departedEvidence(f *Flight) (departed, decided bool) {
	switch {
	case f.ATD != 0:
		return true, true
	case f.FirstAirborne == 0:
		return false, false
	case f.FirstGround != 0 && f.FirstGround < f.FirstAirborne,
		f.HasFirstAirborneAlt && f.FirstAirborneAlt < s.cfg.LowAltitudeFt:
		departed = true
	}
	// The track itself must reach far enough (or show the landing): an ARR
	// message does not, it may arrive before the track.
	return departed, f.TrackLast >= f.FirstAirborne+int64(s.cfg.DecisionDelay) || f.LandedTS != 0
}

// lifecycleEvents emits FlightDeparted (or EnteredCoverage, for a flight
// first seen airborne without evidence of a departure) and FlightArrived
// when the facts first say so, and again, under the same event id, when the
// aerodrome or time they name changes (a plan correlating after the track, a
// DEP message after the positions): flight_events keeps the latest, and the
// movements view counts the event once, at the aerodrome, whatever the
// processing order. Their ids depend on the flight only, not on the input
// that caused them.
func (s *Step) lifecycleEvents(f *Flight, in *Input, out []schemas.DomainEvent) []schemas.DomainEvent {
	departed, decided := s.departedEvidence(f)
	d := f.departure()
	switch {
	case f.Cancelled || !decided:
	case departed && (!f.DepartedSent || (f.Plan.ADEP != "" && f.Plan.ADEP != f.DepartedADEP) || d != f.DepartedTS):
		f.DepartedSent, f.DepartedADEP, f.DepartedTS = true, f.Plan.ADEP, d
		e := s.movement(f, schemas.EventFlightDeparted, d, f.ATDEvent, f.FirstAirborneID)
		e.FlightDeparted = &schemas.FlightDeparted{ADEP: f.Plan.ADEP, DepartureTS: time.Unix(0, d).UTC()}
		out = append(out, e)
	case !departed && !f.CoverageSent:
		f.CoverageSent = true
		e := s.movement(f, schemas.EventEnteredCoverage, f.FirstAirborne, "", f.FirstAirborneID)
		e.EnteredCoverage = &schemas.EnteredCoverage{EntryTS: time.Unix(0, f.FirstAirborne).UTC()}
		out = append(out, e)
	}
	ad := f.ADARR
	if ad == "" {
		ad = f.Plan.ADES
	}
	if a := f.landing(); a != 0 && !f.Cancelled && (!f.ArrivedSent || (ad != "" && ad != f.ArrivedADES)) {
		f.ArrivedSent, f.ArrivedADES = true, ad
		e := s.movement(f, schemas.EventFlightArrived, a, f.ATAEvent, f.LandedID)
		e.FlightArrived = &schemas.FlightArrived{ADES: ad, ArrivalTS: time.Unix(0, a).UTC()}
		out = append(out, e)
	}
	return out
}

// movement is the header of a movement event: one id per flight and type,
// and as cause and producer time the evidence of the movement (the plan
// message, "feed/id", when there is one, else the position), not whatever
// input happened to complete it, so the event is the same in any order.
func (s *Step) movement(f *Flight, typ schemas.EventType, ts int64, planCause, trackCause string) schemas.DomainEvent {
	e := schemas.DomainEvent{EventID: eventID(f.GUFI, typ, "movement", ""), GUFI: f.GUFI, Type: typ,
		ProducerTS: time.Unix(0, ts).UTC(), Feed: "sbs", Cause: []string{trackCause}}
	if feed, id, ok := strings.Cut(planCause, "/"); ok {
		e.Feed, e.Cause = feed, []string{id}
	}
	return e
}

// seen reports whether at is among f's recent track/alert stamps and, if
// not, records it, keeping the newest RecentSize.
func (s *Step) seen(f *Flight, at Stamp) bool {
	i, found := slices.BinarySearchFunc(f.Recent, at, Stamp.Compare)
	if found {
		return true
	}
	if len(f.Recent) >= s.cfg.RecentSize {
		if i == 0 {
			return false // older than all kept: not known to be a duplicate
		}
		f.Recent = slices.Delete(f.Recent, 0, 1)
		i--
	}
	f.Recent = slices.Insert(f.Recent, i, at)
	return false
}

// ---- track evidence ----

func isAirborne(tm *TrackMsg) bool {
	if tm.OnGround != nil {
		return !*tm.OnGround
	}
	if tm.Position != nil && tm.Position.OnGround != nil {
		return !*tm.Position.OnGround
	}
	return true
}

func onGround(tm *TrackMsg) bool {
	if tm.OnGround != nil {
		return *tm.OnGround
	}
	return tm.Position != nil && tm.Position.OnGround != nil && *tm.Position.OnGround
}

// trackFlight finds the flight a track observation at t belongs to, or
// creates a track-only flight: first the flight whose track segment is
// within LegGap (and which has not landed more than LegGap before t), then a
// plan without track whose EOBT window holds t (the latest EOBT wins).
func (s *Step) trackFlight(st *State, t int64, at Stamp) int {
	gap := int64(s.cfg.LegGap)
	best, bestDist := -1, int64(math.MaxInt64)
	for i := range st.Flights {
		f := &st.Flights[i]
		lo, hi := f.segment()
		if lo == 0 || f.Cancelled {
			continue
		}
		if l := f.landing(); l != 0 && t > l+gap {
			continue
		}
		var d int64
		switch {
		case t < lo:
			d = lo - t
		case t > hi:
			d = t - hi
		}
		if d <= gap && d < bestDist {
			best, bestDist = i, d
		}
	}
	if best >= 0 {
		return best
	}
	var bestEOBT int64
	for i := range st.Flights {
		f := &st.Flights[i]
		if f.TrackFirst != 0 || f.Cancelled || f.Plan.EOBT.IsZero() {
			continue
		}
		// A plan already closed by an arrival message still takes the
		// positions flown before it landed: arrival order must not decide
		// whether a track joins its plan.
		if l := f.landing(); l != 0 && t > l+gap {
			continue
		}
		e := f.Plan.EOBT.UnixNano()
		if t >= e-int64(s.cfg.Before) && t <= e+int64(s.cfg.After) && (best < 0 || e > bestEOBT) {
			best, bestEOBT = i, e
		}
	}
	if best >= 0 {
		return best
	}
	return s.newFlight(st, "T/"+strconv.FormatInt(at.TS, 10)+"/"+at.EventID)
}

func (s *Step) applyTrack(st *State, in *Input, at Stamp, out []schemas.DomainEvent, res *Result) []schemas.DomainEvent {
	tm := in.Track
	if tm.Position == nil && tm.Squawk == "" && tm.OnGround == nil && tm.AltitudeFt == nil && !tm.hasVelocity() {
		res.Outcome, res.Reason = OutcomeInvalid, ReasonNoTrackData
		return out
	}
	if p := tm.Position; p != nil && (p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 || math.IsNaN(p.Lat) || math.IsNaN(p.Lon)) {
		res.Outcome, res.Reason = OutcomeInvalid, ReasonCoordinates
		return out
	}
	t := at.TS
	fi := s.trackFlight(st, t, at)
	f := &st.Flights[fi]
	res.GUFI = f.GUFI
	if tm.Revoked {
		// The position was recorded under this stamp; it leaves the history.
		// Only the current position can be withdrawn from the state: no
		// earlier one is kept to fall back to, so it is cleared.
		res.Outcome, res.Revoked = OutcomeApplied, true
		if f.Latest[AspectPosition] == at {
			f.Position = schemas.Position{}
		}
		// The history view drops it by its PositionReported event id.
		reported := s.event(f, schemas.EventPositionReported, in, "").EventID
		return append(out, s.violation(f, in, RulePositionPlausible,
			fmt.Sprintf("Given the track of %s, when a later-arriving neighbour showed the position at %s implies more than the plausible ground speed, we shall withdraw it from the history (position event %s)",
				tm.ICAO24, in.TS.UTC().Format(time.RFC3339Nano), reported), reported))
	}
	if s.seen(f, at) {
		res.Outcome = OutcomeDuplicate
		return out
	}
	f.EventCount++
	if tm.ICAO24 != "" && f.ICAO24 == "" {
		f.ICAO24 = tm.ICAO24
	}
	applied, stale := false, false
	var lateness int64
	loseTo := func(a Aspect) {
		stale = true
		lateness = max(lateness, f.Latest[a].TS-t)
	}
	airborne := isAirborne(tm)
	if f.TrackFirst == 0 || t < f.TrackFirst {
		f.TrackFirst = t
	}
	f.TrackLast = max(f.TrackLast, t)
	if tm.Position != nil {
		p := *tm.Position
		if p.TS.IsZero() {
			p.TS = in.TS
		}
		p.TS = p.TS.UTC()
		if p.ICAO24 == "" {
			p.ICAO24 = tm.ICAO24
		}
		e := s.event(f, schemas.EventPositionReported, in, "")
		e.PositionReported = &schemas.PositionReported{Position: p}
		out = append(out, e)
		if l := f.landing(); airborne && l != 0 && t > l+int64(s.cfg.LandingTolerance) {
			// Rule landed_no_airborne: the position is history, but the
			// flight stays landed and its current position does not move.
			res.Outcome, res.Reason = OutcomeInvariantViolated, RuleLandedNoAirborne
			return append(out, s.violation(f, in, RuleLandedNoAirborne,
				fmt.Sprintf("flight landed at %s; an airborne position at %s less than %v later does not make it airborne again (a new leg needs a gap of at least %v)",
					time.Unix(0, l).UTC().Format(time.RFC3339), in.TS.UTC().Format(time.RFC3339), s.cfg.LegGap, s.cfg.LegGap), in.EventID))
		}
		if at.After(f.Latest[AspectPosition]) {
			f.Latest[AspectPosition], f.Position = at, p
			applied = true
		} else {
			loseTo(AspectPosition)
		}
	}
	refold := false
	if tm.Position != nil || tm.OnGround != nil {
		if airborne && tm.Position != nil && (f.FirstAirborne == 0 || t < f.FirstAirborne) {
			f.FirstAirborne, f.FirstAirborneID, refold = t, in.EventID, true
			f.HasFirstAirborneAlt = tm.Position.AltitudeFt != nil
			if f.HasFirstAirborneAlt {
				f.FirstAirborneAlt = *tm.Position.AltitudeFt
			}
			if f.LandedTS != 0 && f.LandedTS <= t {
				f.LandedTS, f.LandedID = 0, ""
			}
		}
		if onGround(tm) && (f.FirstGround == 0 || t < f.FirstGround) {
			f.FirstGround = t
		}
		if onGround(tm) && f.FirstAirborne != 0 && t > f.FirstAirborne && (f.LandedTS == 0 || t < f.LandedTS) {
			f.LandedTS, f.LandedID = t, in.EventID
		}
		if tm.OnGround != nil && tm.Position == nil {
			if at.After(f.Latest[AspectStatus]) {
				f.Latest[AspectStatus], applied = at, true
			} else {
				loseTo(AspectStatus)
			}
		}
	}
	if refold && len(f.Plans) > 0 {
		out = s.refold(f, in, -1, out)
	}
	// The kinematic aspects: last writer wins by Stamp, each on its own.
	k := &f.Kinematics
	win := func(a Aspect, carried bool, set func()) {
		switch {
		case !carried:
		case at.After(f.Latest[a]):
			f.Latest[a], applied = at, true
			set()
		default:
			loseTo(a)
		}
	}
	win(AspectAltitude, tm.AltitudeFt != nil, func() { k.AltitudeFt = copyPtr(tm.AltitudeFt) })
	win(AspectVelocity, tm.hasVelocity(), func() {
		k.GroundSpeedKt, k.TrackDeg, k.VerticalRateFpm = copyPtr(tm.GroundSpeedKt), copyPtr(tm.TrackDeg), copyPtr(tm.VerticalRateFpm)
	})
	win(AspectGround, tm.OnGround != nil, func() {
		g := *tm.OnGround
		k.OnGround = &g
	})
	if tm.Squawk != "" {
		var ok bool
		out, ok = s.squawk(f, in, at, tm.Squawk, out)
		if ok {
			applied = true
		} else {
			loseTo(AspectSquawk)
		}
	}
	out = s.lifecycleEvents(f, in, out)
	switch {
	case applied:
		res.Outcome = OutcomeApplied
	case stale:
		res.Outcome, res.Lateness = OutcomeStale, time.Duration(lateness)
	default:
		res.Outcome = OutcomeApplied
	}
	return out
}

// copyPtr is a pointer to a copy of *p, nil for nil: the state does not
// share values with its inputs.
func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// IsEmergency reports whether a squawk declares an emergency: 7500
// (unlawful interference), 7600 (radio failure), 7700 (general emergency).
func IsEmergency(code string) bool { return code == "7500" || code == "7600" || code == "7700" }

// squawk records one squawk observation: the current squawk is the newest
// by Stamp; an emergency episode is a maximal run of emergency codes in
// Stamp order, declared once. A late observation is placed at its time: an
// emergency code between two non-emergency ones starts an episode, a
// non-emergency code inside an episode splits it in two. Episodes therefore
// count the runs of the whole sequence, whatever the arrival order, as long
// as no observation is more than Horizon late. It reports whether the
// current squawk changed hands (the observation is the newest).
func (s *Step) squawk(f *Flight, in *Input, at Stamp, code string, out []schemas.DomainEvent) ([]schemas.DomainEvent, bool) {
	newest := at.After(f.Latest[AspectSquawk])
	if newest {
		f.Latest[AspectSquawk], f.Squawk = at, code
	}
	if n := len(f.Squawks); n > 0 && at.TS < f.Squawks[n-1].TS-int64(s.cfg.Horizon) {
		return out, newest // too late to judge episodes
	}
	i, found := slices.BinarySearchFunc(f.Squawks, at, func(o SquawkObs, t Stamp) int { return o.Stamp.Compare(t) })
	if found {
		return out, newest
	}
	f.Squawks = slices.Insert(f.Squawks, i, SquawkObs{Stamp: at, Code: code})
	predEm := i > 0 && IsEmergency(f.Squawks[i-1].Code)
	succEm := i+1 < len(f.Squawks) && IsEmergency(f.Squawks[i+1].Code)
	em := IsEmergency(code)
	if (em && !predEm && !succEm) || (!em && predEm && succEm) {
		f.Episodes++
		declared := code
		detail := "squawk " + code + " starts an emergency episode"
		if !em {
			declared = f.Squawks[i+1].Code
			detail = fmt.Sprintf("squawk %s at %s ended an episode; squawk %s after it starts another", code, in.TS.UTC().Format(time.RFC3339), declared)
		}
		e := s.event(f, schemas.EventEmergencyDeclared, in, strconv.Itoa(int(f.Episodes)))
		e.EmergencyDeclared = &schemas.EmergencyDeclared{Squawk: declared, Detail: detail}
		out = append(out, e)
	}
	// Keep the observations within Horizon of the newest and the newest
	// before that (the predecessor of any observation still judged).
	cut := f.Squawks[len(f.Squawks)-1].TS - int64(s.cfg.Horizon)
	k := 0
	for k+1 < len(f.Squawks) && f.Squawks[k+1].TS < cut {
		k++
	}
	if k > 0 {
		f.Squawks = slices.Delete(f.Squawks, 0, k)
	}
	return out, newest
}

// ---- alerts ----

// activeFlight picks the flight an alert or amendment without key refers
// to: by GUFI when given; else the unfinished flight whose track segment
// or EOBT window holds t; else the one with the newest evidence.
func (s *Step) activeFlight(st *State, gufi string, t int64) int {
	if gufi != "" {
		return slices.IndexFunc(st.Flights, func(f Flight) bool { return f.GUFI == gufi })
	}
	best, bestRef := -1, int64(math.MinInt64)
	for i := range st.Flights {
		f := &st.Flights[i]
		if f.finished() {
			continue
		}
		in := f.TrackFirst != 0 && t >= f.TrackFirst-int64(s.cfg.LegGap) && t <= f.TrackLast+int64(s.cfg.LegGap)
		if e := f.Plan.EOBT; !e.IsZero() && t >= e.UnixNano()-int64(s.cfg.Before) && t <= e.UnixNano()+int64(s.cfg.After) {
			in = true
		}
		if in && f.newest() > bestRef {
			best, bestRef = i, f.newest()
		}
	}
	if best >= 0 {
		return best
	}
	for i := range st.Flights {
		if r := st.Flights[i].newest(); r > bestRef {
			best, bestRef = i, r
		}
	}
	return best
}

func (s *Step) applyAlert(st *State, in *Input, at Stamp, out []schemas.DomainEvent, res *Result) []schemas.DomainEvent {
	a := in.Alert
	if a.Role == AlertOrigin && a.OtherCallsign != "" && a.OtherCallsign != a.Callsign {
		// Two flights: find ours and hand the alert to the other's owner,
		// which raises it first (see AlertRole).
		peer := a.Swapped()
		peer.Role, peer.PeerGUFI, peer.SelfGUFI = AlertRequest, "", ""
		if fi := s.activeFlight(st, a.GUFI, at.TS); fi >= 0 {
			peer.PeerGUFI = st.Flights[fi].GUFI
		}
		res.Outcome, res.Pending, res.Peer = OutcomeApplied, true, &peer
		return out
	}
	gufi := a.GUFI
	if a.Role == AlertAck && a.SelfGUFI != "" {
		gufi = a.SelfGUFI
	}
	other := a.OtherGUFI
	if a.PeerGUFI != "" {
		other = a.PeerGUFI
	}
	fi := s.activeFlight(st, gufi, at.TS)
	if a.Role == AlertAck && fi < 0 && a.SelfGUFI != "" {
		fi = s.activeFlight(st, a.GUFI, at.TS) // evicted meanwhile: as at first
	}
	if a.Role == AlertRequest {
		// Hand it back so the first flight is raised naming this one; the
		// outcome is reported there, at the last hop.
		back := a.Swapped()
		back.Role, back.SelfGUFI, back.PeerGUFI = AlertAck, a.PeerGUFI, ""
		if fi >= 0 {
			back.PeerGUFI = st.Flights[fi].GUFI
		}
		res.Pending, res.Peer = true, &back
	}
	if fi < 0 {
		if res.Pending {
			res.Outcome = OutcomeApplied
			return out
		}
		res.Outcome, res.Reason = OutcomeInvalid, ReasonNoFlight
		if a.Role == AlertAck && a.PeerGUFI != "" {
			// Raised on the other flight only.
			res.Outcome, res.Reason, res.GUFI = OutcomeApplied, "", a.PeerGUFI
		}
		return out
	}
	f := &st.Flights[fi]
	res.GUFI = f.GUFI
	if s.seen(f, at) {
		res.Outcome = OutcomeDuplicate
		return out
	}
	f.EventCount++
	res.Outcome = OutcomeApplied
	if at.After(f.Latest[AspectAlert]) {
		f.Latest[AspectAlert] = at
	}
	msg := a.Message
	if msg == "" && a.Severity != "" {
		msg = a.Severity
	}
	if a.Role != AlertOrigin && a.OtherCallsign != "" && a.Severity != "" {
		msg = fmt.Sprintf("%s conflict with %s%s", a.Severity, a.OtherCallsign, a.Detail)
	}
	id := a.AlertID
	if id == "" {
		id = in.EventID
	}
	e := s.event(f, schemas.EventAlertRaised, in, "")
	e.AlertRaised = &schemas.AlertRaised{AlertID: id, Kind: a.Kind, OtherGUFI: other, Message: msg}
	return append(out, e)
}

package flight

import "time"

// Outcome is what became of one input, for metrics and audit.
type Outcome uint8

// The outcomes of Apply.
const (
	// OutcomeApplied: the input changed the state of a flight (or, for an
	// alert, raised an event).
	OutcomeApplied Outcome = iota
	// OutcomeStale: every aspect the input carries already holds newer
	// evidence; Result.Lateness says by how much. A stale position is still
	// reported (PositionReported) for the history.
	OutcomeStale
	// OutcomeDuplicate: the same evidence (timestamp and event id) was seen.
	OutcomeDuplicate
	// OutcomeInvalid: the input cannot be used (Result.Reason says why).
	OutcomeInvalid
	// OutcomeInvariantViolated: a Given/When/Shall rule rejected the input
	// (Result.Reason is the rule id, see docs/invariants.md).
	OutcomeInvariantViolated
	// OutcomeBuffered: a plan message that names no known flight and
	// cannot found one (DEP, ARR, CHG, ... before the filing) is held until
	// its flight appears (State.Pending).
	OutcomeBuffered
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"applied", "stale", "duplicate", "invalid", "invariant_violated", "buffered"}

func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// Result reports what Apply did with one input.
type Result struct {
	EventID string
	Feed    string
	Outcome Outcome
	// Lateness is how far the input was behind the newest evidence of the
	// aspect it lost against (OutcomeStale; zero on a lost tie).
	Lateness time.Duration
	// Reason is a machine-readable reason for OutcomeInvalid (e.g.
	// "flight.no_flight") or the rule id for OutcomeInvariantViolated.
	Reason string
	// GUFI is the flight the input was attributed to; empty when none.
	GUFI string
	// Revoked says the input withdrew a position from GUFI's history
	// (TrackMsg.Revoked); the positions view deletes it.
	Revoked bool
	// Peer, when set, is an alert the runner must hand to the flight step
	// of another callsign (an alert naming two flights, see AlertRole). Its
	// outcome is reported only at the last hop: until then Outcome is
	// OutcomeApplied with Pending true, and nothing is to be written.
	Peer    *AlertMsg
	Pending bool
}

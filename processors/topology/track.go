package topology

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/processors/runtime"
	"github.com/contrail-atm/contrail/processors/track"
	"github.com/contrail-atm/contrail/schemas"
)

// Header names on the flight step's input topic.
const (
	// KindHeader says what a flights.input record carries: KindEnvelope
	// (a raw plan or system-event envelope, forwarded byte for byte) or
	// KindTrack (a schemas.TrackEvent from the track step).
	KindHeader   = "contrail-kind"
	KindEnvelope = "envelope"
	KindTrack    = "track"
	// KindAlertPeer is an alert naming two flights on its way between the
	// two callsigns' owners (flight.AlertRole): the envelope byte for byte,
	// with AlertRoleHeader, AlertPeerHeader and AlertSelfHeader.
	KindAlertPeer   = "alert-peer"
	AlertRoleHeader = "contrail-alert-role" // "request" or "ack"
	AlertPeerHeader = "contrail-alert-peer" // the other flight's GUFI, when it has one
	AlertSelfHeader = "contrail-alert-self" // ack: the first flight's GUFI
)

// TrackStep is the track step (ARCHITECTURE.md §4, step 1) on the runtime:
// it reads raw SBS envelopes keyed by ICAO address and applies them with the
// pure core in processors/track. It publishes
//   - to the flight step, keyed by callsign, the evidence it needs: every
//     position entering the history, every change of the altitude,
//     velocity, squawk and ground aspects, and on identification (or a
//     callsign change) the aircraft's whole current picture, each value
//     stamped with the evidence it came from, one track event per stamp;
//   - the aircraft's own history, identified or not, keyed by ICAO address:
//     positions (and revocations) and velocity reports;
//   - at the end of each batch, the current picture of every aircraft the
//     batch changed to the compacted aircraft state topic.
//
// Plan and system-event envelopes read by the same runner are re-keyed by
// callsign unchanged (Route).
type TrackStep struct {
	t    *Topology
	core *track.Step
	out  []track.Output
	evs  []*schemas.TrackEvent
	// touched holds the aircraft whose state the batch changed, for
	// EndBatch.
	touched map[string]*track.State
}

var (
	_ runtime.Step[track.State] = (*TrackStep)(nil)
	_ runtime.BatchEnder        = (*TrackStep)(nil)
	_ runtime.Quarantiner       = (*TrackStep)(nil)
)

// Quarantine implements runtime.Quarantiner.
func (s *TrackStep) Quarantine(c *runtime.Context, r *kgo.Record, cause error) error {
	return s.t.quarantine(c, r, cause)
}

// Process implements runtime.Step.
func (s *TrackStep) Process(c *runtime.Context, r *kgo.Record, st *track.State) (*track.State, error) {
	var env schemas.Envelope
	if err := s.t.codec.Decode(context.Background(), r.Value, &env); err != nil {
		if !c.Replaying() {
			if err := s.t.reject(c, r, "", "processor.undecodable", fmt.Sprintf("track step: %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)); err != nil {
				return st, err
			}
		}
		return st, nil
	}
	if st == nil {
		st = &track.State{}
	}
	out := s.out[:0]
	next, out, err := s.core.ApplyLine(*st, env.Raw, env.ProducerTS, env.ID, out)
	if errors.Is(err, track.ErrWrongKey) {
		return st, s.t.outcome(c, &env, "track", schemas.OutcomeInvalid, "track.wrong_key", 0, "")
	} else if err != nil {
		return st, err
	}
	prev, prevMessages := st.Current, st.Messages
	*st = next
	s.out = out
	if c.Replaying() {
		return st, nil
	}
	verdict := schemas.OutcomeApplied
	var reason string
	var lateness time.Duration
	seen := false
	judge := func(o, why string, late time.Duration) {
		if !seen || verdictRank(o) > verdictRank(verdict) {
			verdict, reason, lateness, seen = o, why, late, true
		}
	}
	cur := &st.Current
	s.evs = s.evs[:0]
	// The verdict on each aspect of this message, kept when one is not
	// applied: a message whose altitude was stale and whose position was
	// dropped says both.
	var av aspectVerdicts
	for _, o := range out {
		switch o := o.(type) {
		case track.CallsignLearned:
			// The new flight gets the whole picture, each value at the
			// stamp of its own evidence, so what was learned before
			// identification is not lost and a late value still loses.
			for _, a := range handedOver {
				if at := cur.Latest[a]; !at.IsZero() {
					setAspect(s.evidence(at, o.ICAO, o.Callsign), cur, a)
				}
			}
		case track.TrackUpdate:
			if o.EventID == env.ID {
				judge(schemas.OutcomeApplied, "", 0)
				for a := range track.NumAspects {
					if a != track.AspectPosition && o.Applied.Has(a) {
						av.set(a.String(), schemas.OutcomeApplied, "", 0)
					}
				}
			}
			if cur.Callsign == "" || cur.Callsign != prev.Callsign {
				continue // unidentified, or the whole picture went above
			}
			at := track.Stamp{TS: o.TS.UnixNano(), EventID: o.EventID}
			for _, a := range handedOver {
				if o.Applied.Has(a) && aspectChanged(&prev, cur, a) {
					setAspect(s.evidence(at, o.ICAO, cur.Callsign), cur, a)
				}
			}
		case track.PositionRecorded:
			if o.EventID == env.ID {
				judge(schemas.OutcomeApplied, "", 0)
			}
			if o.Point.EventID == env.ID && !o.Released {
				av.set("position", schemas.OutcomeApplied, "", 0)
			}
			pos := position(o.ICAO, o.Point)
			if !o.Released {
				if err := s.emitAircraft(c, &schemas.TrackEvent{EventID: o.Point.EventID, ICAO24: o.ICAO, Callsign: o.Callsign, TS: o.Point.Time(), Position: pos}); err != nil {
					return st, err
				}
			}
			if o.Callsign != "" {
				s.evidence(o.Point.Stamp, o.ICAO, o.Callsign).Position = pos
			}
		case track.Buffered:
			judge(schemas.OutcomeBuffered, "track.no_callsign_yet", 0)
			if o.Point.EventID == env.ID {
				av.set("position", schemas.OutcomeBuffered, "track.no_callsign_yet", 0)
			}
			if err := s.emitAircraft(c, &schemas.TrackEvent{EventID: o.Point.EventID, ICAO24: o.ICAO, TS: o.Point.Time(), Position: position(o.ICAO, o.Point)}); err != nil {
				return st, err
			}
		case track.VelocityReported:
			te := &schemas.TrackEvent{EventID: o.Stamp.EventID, ICAO24: o.ICAO, Callsign: cur.Callsign, TS: o.Stamp.Time()}
			te.GroundSpeedKt, te.TrackDeg, te.VerticalRateFpm = o.Velocity.Fields()
			if err := s.emitAircraft(c, te); err != nil {
				return st, err
			}
		case track.Stale:
			judge(schemas.OutcomeStale, o.Aspect.String(), o.Lateness)
			av.set(o.Aspect.String(), schemas.OutcomeStale, "", o.Lateness)
		case track.Invalid:
			if o.Revised {
				if err := s.emitAircraft(c, &schemas.TrackEvent{EventID: o.EventID, ICAO24: o.ICAO, Callsign: cur.Callsign, TS: o.TS, Revoked: true}); err != nil {
					return st, err
				}
				if cs := cur.Callsign; cs != "" && o.Was == track.StatusRecorded {
					if err := s.emitTrack(c, &schemas.TrackEvent{EventID: o.EventID, ICAO24: o.ICAO, Callsign: cs, TS: o.TS, Revoked: true}); err != nil {
						return st, err
					}
				}
				continue
			}
			judge(schemas.OutcomeInvalid, o.Reason, 0)
			if o.Reason == "track.implied_speed" {
				av.set("position", schemas.OutcomeInvalid, o.Reason, 0)
			}
		case track.Discarded:
			if o.Reason == track.ReasonDuplicate {
				judge(schemas.OutcomeDuplicate, o.Reason, 0)
			} else if o.EventID == env.ID {
				judge(schemas.OutcomeDiscarded, o.Reason, 0)
				if o.Reason == track.ReasonTooLate || o.Reason == track.ReasonBufferFull {
					av.set("position", schemas.OutcomeDiscarded, o.Reason, 0)
				}
			}
		}
	}
	for _, te := range s.evs {
		if err := s.emitTrack(c, te); err != nil {
			return st, err
		}
	}
	if st.Messages != prevMessages { // every message read, duplicates aside, changes the picture's counts
		if s.touched == nil {
			s.touched = map[string]*track.State{}
		}
		s.touched[st.ICAO] = st
	}
	return st, s.t.outcomeOf(c, &env, "track", verdict, reason, lateness, "", av.mixed())
}

// aspectVerdicts collects the verdict on each aspect of one message. A later
// verdict on the same aspect replaces an earlier one unless that was worse
// for the current state: a position recorded in the history but older than
// the current one is stale, one buffered then dropped is discarded.
type aspectVerdicts struct{ list []schemas.AspectOutcome }

func (v *aspectVerdicts) set(aspect, outcome, reason string, late time.Duration) {
	for i := range v.list {
		if v.list[i].Aspect == aspect {
			if v.list[i].Outcome == schemas.OutcomeApplied || outcome == schemas.OutcomeDiscarded {
				v.list[i] = schemas.AspectOutcome{Aspect: aspect, Outcome: outcome, Reason: reason, Lateness: late}
			}
			return
		}
	}
	v.list = append(v.list, schemas.AspectOutcome{Aspect: aspect, Outcome: outcome, Reason: reason, Lateness: late})
}

// mixed returns the verdicts when some aspect was not applied, sorted by
// aspect, and nil when every one was (or there was a single aspect: the
// event's verdict says it all).
func (v *aspectVerdicts) mixed() []schemas.AspectOutcome {
	if len(v.list) < 2 {
		return nil
	}
	for _, a := range v.list {
		if a.Outcome != schemas.OutcomeApplied {
			slices.SortFunc(v.list, func(a, b schemas.AspectOutcome) int { return strings.Compare(a.Aspect, b.Aspect) })
			return v.list
		}
	}
	return nil
}

// handedOver are the aspects the track step passes to the flight step as
// values of their own; positions go as positions, identity as the key.
var handedOver = [...]track.Aspect{track.AspectAltitude, track.AspectVelocity, track.AspectSquawk, track.AspectGround}

// evidence returns the track event of this observation for stamp at,
// creating it: one event per stamp, so the flight step, which recognises
// duplicates by stamp, sees each piece of evidence once.
func (s *TrackStep) evidence(at track.Stamp, icao, callsign string) *schemas.TrackEvent {
	for _, te := range s.evs {
		if te.EventID == at.EventID && te.TS.UnixNano() == at.TS && te.Callsign == callsign {
			return te
		}
	}
	te := &schemas.TrackEvent{EventID: at.EventID, ICAO24: icao, Callsign: callsign, TS: at.Time()}
	s.evs = append(s.evs, te)
	return te
}

// aspectChanged reports whether aspect a has another value in cur than in
// prev.
func aspectChanged(prev, cur *track.Current, a track.Aspect) bool {
	switch a {
	case track.AspectAltitude:
		return prev.Latest[a].IsZero() || prev.AltitudeFt != cur.AltitudeFt
	case track.AspectVelocity:
		return prev.Latest[a].IsZero() || prev.Velocity != cur.Velocity
	case track.AspectSquawk:
		return prev.Squawk != cur.Squawk
	case track.AspectGround:
		return prev.Latest[a].IsZero() || prev.OnGround != cur.OnGround
	}
	return false
}

// setAspect copies the current value of aspect a into te.
func setAspect(te *schemas.TrackEvent, cur *track.Current, a track.Aspect) {
	switch a {
	case track.AspectAltitude:
		v := cur.AltitudeFt
		te.AltitudeFt = &v
	case track.AspectVelocity:
		te.GroundSpeedKt, te.TrackDeg, te.VerticalRateFpm = cur.Velocity.Fields()
	case track.AspectSquawk:
		te.Squawk = cur.Squawk
	case track.AspectGround:
		g := cur.OnGround
		te.OnGround = &g
	}
}

// position converts a recorded point: what its own message carried, nothing
// taken from other messages, so a position's row is the same whatever
// arrived before it.
func position(icao string, p track.Point) *schemas.Position {
	pos := &schemas.Position{TS: p.Time(), ICAO24: icao, Lat: p.Lat, Lon: p.Lon}
	if p.HasAltitude {
		a := p.AltitudeFt
		pos.AltitudeFt = &a
	}
	if p.HasOnGround {
		g := p.OnGround
		pos.OnGround = &g
	}
	return pos
}

// emitTrack publishes evidence for the flight step. An encoding failure is
// returned, so the transaction aborts instead of committing without it.
func (s *TrackStep) emitTrack(c *runtime.Context, te *schemas.TrackEvent) error {
	b, err := s.t.codec.Encode(context.Background(), nil, s.t.names.FlightInput(), te)
	if err != nil {
		return fmt.Errorf("track step: encode track event %s of %s: %w: %w", te.EventID, te.ICAO24, runtime.ErrOutput, err)
	}
	c.Emit(&kgo.Record{Topic: s.t.names.FlightInput(), Key: []byte(te.Callsign), Value: b,
		Headers: []kgo.RecordHeader{{Key: KindHeader, Value: []byte(KindTrack)}}})
	return nil
}

// emitAircraft publishes a position (or revocation) to the aircraft's own
// history.
func (s *TrackStep) emitAircraft(c *runtime.Context, te *schemas.TrackEvent) error {
	b, err := s.t.codec.Encode(context.Background(), nil, s.t.names.AircraftPositions(), te)
	if err != nil {
		return fmt.Errorf("track step: encode aircraft position %s of %s: %w: %w", te.EventID, te.ICAO24, runtime.ErrOutput, err)
	}
	c.Emit(&kgo.Record{Topic: s.t.names.AircraftPositions(), Key: []byte(te.ICAO24), Value: b})
	return nil
}

// EndBatch implements runtime.BatchEnder: it publishes the current picture
// of every aircraft the batch changed.
func (s *TrackStep) EndBatch(c *runtime.Context) error {
	defer clear(s.touched)
	for icao, st := range s.touched {
		a, ok := st.Aircraft()
		if !ok {
			continue
		}
		a.UpdatedTS = c.Now()
		b, err := s.t.codec.Encode(context.Background(), nil, s.t.names.AircraftState(), &a)
		if err != nil {
			return fmt.Errorf("track step: encode aircraft state of %s: %w: %w", icao, runtime.ErrOutput, err)
		}
		c.Emit(&kgo.Record{Topic: s.t.names.AircraftState(), Key: []byte(icao), Value: b})
	}
	return nil
}

// Route re-keys a plan or system-event envelope by callsign for the flight
// step, forwarding its bytes unchanged.
func (s *TrackStep) Route(c *runtime.Context, r *kgo.Record) error {
	var env schemas.Envelope
	if err := s.t.codec.Decode(context.Background(), r.Value, &env); err != nil {
		return s.t.reject(c, r, "", "processor.undecodable", fmt.Sprintf("router: %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err))
	}
	key, err := s.t.key(&env)
	if err != nil || key == "" {
		if err == nil {
			err = errors.New("no callsign")
		}
		// Accepted by ingest, so not a reject: the flight step cannot use
		// it (a message type it does not read, no aircraft named).
		code, verdict := "processor.no_flight_key", schemas.OutcomeInvalid
		var pe *flight.ParseError
		if errors.As(err, &pe) {
			code = pe.Code
			if code == flight.CodeTitle {
				verdict = schemas.OutcomeDiscarded
			}
		}
		return s.t.outcome(c, &env, "flight", verdict, code, 0, "")
	}
	c.Emit(&kgo.Record{Topic: s.t.names.FlightInput(), Key: []byte(key), Value: r.Value,
		Headers: []kgo.RecordHeader{{Key: KindHeader, Value: []byte(KindEnvelope)}}})
	return nil
}

// AppendState implements runtime.Step.
func (s *TrackStep) AppendState(b []byte, st *track.State) ([]byte, error) { return st.AppendBinary(b) }

// DecodeState implements runtime.Step.
func (s *TrackStep) DecodeState(b []byte) (*track.State, error) {
	var st track.State
	if err := st.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return &st, nil
}

// verdictRank orders the verdicts one SBS line can get from its outputs: the
// line's outcome is the best of them (a line that moved one aspect was
// applied, even if another of its aspects was stale).
func verdictRank(o string) int {
	switch o {
	case schemas.OutcomeApplied:
		return 6
	case schemas.OutcomeBuffered:
		return 5
	case schemas.OutcomeStale:
		return 4
	case schemas.OutcomeDuplicate:
		return 3
	case schemas.OutcomeInvalid:
		return 2
	}
	return 1
}

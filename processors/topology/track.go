package topology

import (
	"context"
	"errors"
	"fmt"
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
)

// velocityMatch is how close in producer time the aircraft's current
// velocity must be to a position for the position to carry it.
const velocityMatch = 10 * time.Second

// TrackStep is the track step (ARCHITECTURE.md §4, step 1) on the runtime:
// it reads raw SBS envelopes keyed by ICAO address, applies them with the
// pure core in processors/track and publishes, keyed by callsign, the
// evidence the flight step needs (positions, status changes, revocations).
// Plan and system-event envelopes read by the same runner are re-keyed by
// callsign unchanged (Route).
type TrackStep struct {
	t    *Topology
	core *track.Step
	out  []track.Output
	buf  []byte
}

var _ runtime.Step[track.State] = (*TrackStep)(nil)

// Process implements runtime.Step.
func (s *TrackStep) Process(c *runtime.Context, r *kgo.Record, st *track.State) (*track.State, error) {
	var env schemas.Envelope
	if err := s.t.codec.Decode(context.Background(), r.Value, &env); err != nil {
		if !c.Replaying() {
			s.t.reject(c, r, "", "processor.undecodable", fmt.Sprintf("track step: %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err))
		}
		return st, nil
	}
	if st == nil {
		st = &track.State{}
	}
	out := s.out[:0]
	next, out, err := s.core.ApplyLine(*st, env.Raw, env.ProducerTS, env.ID, out)
	if errors.Is(err, track.ErrWrongKey) {
		s.t.outcome(c, &env, "track", schemas.OutcomeInvalid, "track.wrong_key", 0, "")
		return st, nil
	} else if err != nil {
		return st, err
	}
	prev := st.Current
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
	for _, o := range out {
		switch o := o.(type) {
		case track.TrackUpdate:
			if o.EventID == env.ID {
				judge(schemas.OutcomeApplied, "", 0)
			}
			cur := o.Track
			sq, gr := cur.Squawk != prev.Squawk, cur.OnGround != prev.OnGround
			if cur.Callsign != "" && (sq || gr) {
				te := &schemas.TrackEvent{EventID: env.ID, ICAO24: o.ICAO, Callsign: cur.Callsign, TS: o.TS}
				if sq {
					te.Squawk = cur.Squawk
				}
				if gr {
					g := cur.OnGround
					te.OnGround = &g
				}
				s.emitTrack(c, te)
			}
		case track.PositionRecorded:
			if o.EventID == env.ID {
				judge(schemas.OutcomeApplied, "", 0)
			}
			s.emitTrack(c, &schemas.TrackEvent{EventID: o.Point.EventID, ICAO24: o.ICAO, Callsign: o.Callsign,
				TS: o.Point.Time(), Position: position(o.ICAO, o.Point, &st.Current)})
		case track.Buffered:
			judge(schemas.OutcomeBuffered, "track.no_callsign_yet", 0)
		case track.Stale:
			judge(schemas.OutcomeStale, o.Aspect.String(), o.Lateness)
		case track.Invalid:
			if o.Revised {
				if cs := st.Current.Callsign; cs != "" {
					s.emitTrack(c, &schemas.TrackEvent{EventID: o.EventID, ICAO24: o.ICAO, Callsign: cs, TS: o.TS, Revoked: true})
				}
				continue
			}
			judge(schemas.OutcomeInvalid, o.Reason, 0)
		case track.Discarded:
			if o.Reason == track.ReasonDuplicate {
				judge(schemas.OutcomeDuplicate, o.Reason, 0)
			} else if o.EventID == env.ID {
				judge(schemas.OutcomeDiscarded, o.Reason, 0)
			}
		}
	}
	s.t.outcome(c, &env, "track", verdict, reason, lateness, "")
	return st, nil
}

// position converts a recorded point, with the aircraft's current velocity
// when it was reported close enough in time to the point.
func position(icao string, p track.Point, cur *track.Current) *schemas.Position {
	pos := &schemas.Position{TS: p.Time(), ICAO24: icao, Lat: p.Lat, Lon: p.Lon}
	if p.HasAltitude {
		a := p.AltitudeFt
		pos.AltitudeFt = &a
	}
	vs := cur.Latest[track.AspectVelocity]
	if d := vs.TS - p.TS; !vs.IsZero() && d <= int64(velocityMatch) && d >= -int64(velocityMatch) {
		v := cur.Velocity
		if v.Has&track.HasGroundSpeed != 0 {
			g := v.GroundSpeedKt
			pos.GroundSpeedKt = &g
		}
		if v.Has&track.HasTrack != 0 {
			t := v.TrackDeg
			pos.TrackDeg = &t
		}
		if v.Has&track.HasVerticalRate != 0 {
			vr := v.VerticalRateFpm
			pos.VerticalRateFpm = &vr
		}
	}
	gs := cur.Latest[track.AspectGround]
	if d := gs.TS - p.TS; !gs.IsZero() && d <= int64(velocityMatch) && d >= -int64(velocityMatch) {
		g := cur.OnGround
		pos.OnGround = &g
	}
	return pos
}

func (s *TrackStep) emitTrack(c *runtime.Context, te *schemas.TrackEvent) {
	b, err := s.t.codec.Encode(context.Background(), nil, s.t.names.FlightInput(), te)
	if err != nil {
		s.t.log.Error("encode track event", "icao", te.ICAO24, "err", err)
		return
	}
	c.Emit(&kgo.Record{Topic: s.t.names.FlightInput(), Key: []byte(te.Callsign), Value: b,
		Headers: []kgo.RecordHeader{{Key: KindHeader, Value: []byte(KindTrack)}}})
}

// Route re-keys a plan or system-event envelope by callsign for the flight
// step, forwarding its bytes unchanged.
func (s *TrackStep) Route(c *runtime.Context, r *kgo.Record) error {
	var env schemas.Envelope
	if err := s.t.codec.Decode(context.Background(), r.Value, &env); err != nil {
		s.t.reject(c, r, "", "processor.undecodable", fmt.Sprintf("router: %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err))
		return nil
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
		s.t.outcome(c, &env, "flight", verdict, code, 0, "")
		return nil
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

package topology

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/processors/runtime"
	"github.com/contrail-atm/contrail/schemas"
)

// flightKey is the re-keying function of the router: the callsign a plan or
// system event belongs to.
func flightKey(env *schemas.Envelope) (string, error) { return flight.Key(env) }

// FlightStep is the flight step (ARCHITECTURE.md §4, step 2) on the runtime:
// it reads the flight input topic keyed by callsign, applies each record with
// the pure core in processors/flight, and publishes domain events keyed by
// GUFI, one state snapshot per changed flight per transaction, outcomes, and
// invariant violations to the rejected topic.
type FlightStep struct {
	t       *Topology
	core    *flight.Step
	events  []schemas.DomainEvent
	touched map[string]touched // GUFI -> where its latest state is
}

type touched struct {
	st  *flight.State
	pos schemas.LogPosition
}

var (
	_ runtime.Step[flight.State] = (*FlightStep)(nil)
	_ runtime.Quarantiner        = (*FlightStep)(nil)
)

// FlightStep returns the flight step handler with its core configured by cfg.
func (t *Topology) FlightStep(cfg flight.Config) (*FlightStep, error) {
	core, err := flight.New(cfg)
	if err != nil {
		return nil, err
	}
	return &FlightStep{t: t, core: core, touched: map[string]touched{}}, nil
}

// input decodes one flights.input record. A record it cannot read is
// rejected (with its reason) and yields ok=false; the error is a failure to
// write that verdict.
func (s *FlightStep) input(c *runtime.Context, r *kgo.Record) (flight.Input, *schemas.Envelope, bool, error) {
	in, env, err := DecodeFlightInput(s.t.codec, r)
	if err == nil {
		return in, env, true, nil
	}
	var ie *InputError
	if errors.As(err, &ie) {
		if ie.Env != nil {
			// It passed ingest's syntax check, so it is no reject: the
			// flight step just does not use it (a message type it does not
			// read, a message naming no aircraft). The outcome says why.
			verdict := schemas.OutcomeInvalid
			if ie.Code == flight.CodeTitle {
				verdict = schemas.OutcomeDiscarded
			}
			return in, nil, false, s.outcome(c, ie.Env, verdict, ie.Code, 0, "")
		}
		return in, nil, false, s.reject(c, r, ie.Feed, ie.Code, err.Error())
	}
	return in, nil, false, s.reject(c, r, "", "processor.undecodable", err.Error())
}

// InputError says why a flights.input record cannot be read: Code is the
// machine-readable reason, Env the envelope when it decoded.
type InputError struct {
	Code, Feed string
	Env        *schemas.Envelope
	Err        error
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// DecodeFlightInput reads one record of the flight step's input topic into
// the core's Input, with the envelope it came from (for track evidence, a
// stand-in with its id, feed and time). Errors are *InputError.
func DecodeFlightInput(codec *schemas.Codec, r *kgo.Record) (flight.Input, *schemas.Envelope, error) {
	ctx := context.Background()
	kind := ""
	for _, h := range r.Headers {
		if h.Key == KindHeader {
			kind = string(h.Value)
		}
	}
	switch kind {
	case KindTrack:
		var te schemas.TrackEvent
		if err := codec.Decode(ctx, r.Value, &te); err != nil {
			return flight.Input{}, nil, &InputError{Code: "processor.undecodable", Feed: "sbs",
				Err: fmt.Errorf("flight step: track event %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)}
		}
		env := &schemas.Envelope{ID: te.EventID, Feed: "sbs", ProducerTS: te.TS}
		return flight.Input{EventID: te.EventID, Feed: "sbs", TS: te.TS, Track: &flight.TrackMsg{
			ICAO24: te.ICAO24, Callsign: te.Callsign, Position: te.Position, Squawk: te.Squawk, OnGround: te.OnGround, Revoked: te.Revoked,
			AltitudeFt: te.AltitudeFt, GroundSpeedKt: te.GroundSpeedKt, TrackDeg: te.TrackDeg, VerticalRateFpm: te.VerticalRateFpm,
		}}, env, nil
	case KindEnvelope, KindAlertPeer:
		env := &schemas.Envelope{}
		if err := codec.Decode(ctx, r.Value, env); err != nil {
			return flight.Input{}, nil, &InputError{Code: "processor.undecodable",
				Err: fmt.Errorf("flight step: envelope %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)}
		}
		in, err := flight.FromEnvelope(env)
		if err != nil {
			code := "flight.unreadable"
			var pe *flight.ParseError
			if errors.As(err, &pe) {
				code = pe.Code
			}
			return in, nil, &InputError{Code: code, Feed: env.Feed, Env: env,
				Err: fmt.Errorf("flight step: %s record %s: %w", env.Feed, env.ID, err)}
		}
		if kind == KindAlertPeer {
			if err := alertPeer(&in, r); err != nil {
				return in, nil, &InputError{Code: "processor.alert_peer", Feed: env.Feed,
					Err: fmt.Errorf("flight step: record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)}
			}
		}
		return in, env, nil
	}
	return flight.Input{}, nil, &InputError{Code: "processor.unknown_kind", Err: fmt.Errorf("flight step: record %s/%d@%d has %s header %q, want %q or %q",
		r.Topic, r.Partition, r.Offset, KindHeader, kind, KindTrack, KindEnvelope)}
}

// alertPeer turns the alert of in into the hop its headers name.
func alertPeer(in *flight.Input, r *kgo.Record) error {
	if in.Alert == nil {
		return errors.New("alert exchange record does not hold an alert")
	}
	var role, peer, self string
	for _, h := range r.Headers {
		switch h.Key {
		case AlertRoleHeader:
			role = string(h.Value)
		case AlertPeerHeader:
			peer = string(h.Value)
		case AlertSelfHeader:
			self = string(h.Value)
		}
	}
	a := *in.Alert
	switch role {
	case "request":
		a = a.Swapped()
		a.Role = flight.AlertRequest
	case "ack":
		a.Role = flight.AlertAck
	default:
		return fmt.Errorf("%s header %q, want request or ack", AlertRoleHeader, role)
	}
	a.PeerGUFI, a.SelfGUFI = peer, self
	in.Alert = &a
	return nil
}

// emitPeer hands an alert naming two flights to the other callsign's owner.
func (s *FlightStep) emitPeer(c *runtime.Context, r *kgo.Record, a *flight.AlertMsg) {
	role := "request"
	if a.Role == flight.AlertAck {
		role = "ack"
	}
	c.Emit(&kgo.Record{Topic: s.t.names.FlightInput(), Key: []byte(a.Callsign), Value: r.Value, Headers: []kgo.RecordHeader{
		{Key: KindHeader, Value: []byte(KindAlertPeer)},
		{Key: AlertRoleHeader, Value: []byte(role)},
		{Key: AlertPeerHeader, Value: []byte(a.PeerGUFI)},
		{Key: AlertSelfHeader, Value: []byte(a.SelfGUFI)},
	}})
}

func (s *FlightStep) reject(c *runtime.Context, r *kgo.Record, feed, code, reason string) error {
	if c.Replaying() {
		return nil
	}
	return s.t.reject(c, r, feed, code, reason)
}

func (s *FlightStep) outcome(c *runtime.Context, env *schemas.Envelope, verdict, reason string, late time.Duration, gufi string) error {
	if c.Replaying() {
		return nil
	}
	return s.t.outcome(c, env, "flight", verdict, reason, late, gufi)
}

// Process implements runtime.Step.
func (s *FlightStep) Process(c *runtime.Context, r *kgo.Record, st *flight.State) (*flight.State, error) {
	in, env, ok, err := s.input(c, r)
	if err != nil || !ok {
		return st, err
	}
	if st == nil {
		st = &flight.State{}
	}
	next, events, res, err := s.core.Apply(*st, in, s.events[:0])
	if err != nil {
		return st, fmt.Errorf("flight step: apply %s: %w", in.EventID, err)
	}
	*st = next
	s.events = events
	if c.Replaying() {
		return st, nil
	}
	pos := schemas.LogPosition{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset + 1}
	for i := range events {
		e := &events[i]
		e.EmittedTS = c.Now()
		b, err := s.t.codec.Encode(context.Background(), nil, s.t.names.FlightEvents(), e)
		if err != nil {
			return st, fmt.Errorf("flight step: encode %s event %s: %w: %w", e.Type, e.EventID, runtime.ErrOutput, err)
		}
		c.Emit(&kgo.Record{Topic: s.t.names.FlightEvents(), Key: []byte(e.GUFI), Value: b})
		s.touched[e.GUFI] = touched{st: st, pos: pos}
		if v := e.InvariantViolated; v != nil {
			if err := s.t.reject(c, r, in.Feed, "invariant."+v.Rule, fmt.Sprintf("flight %s: %s", e.GUFI, v.Detail)); err != nil {
				return st, err
			}
		}
	}
	if res.GUFI != "" {
		// A flight's state can change without an event (a squawk change,
		// a stale position's history): publish it too.
		s.touched[res.GUFI] = touched{st: st, pos: pos}
	}
	if res.Peer != nil {
		s.emitPeer(c, r, res.Peer)
	}
	if res.Pending {
		return st, nil // its outcome is reported at the last hop
	}
	return st, s.outcome(c, env, res.Outcome.String(), res.Reason, res.Lateness, res.GUFI)
}

// EndBatch publishes one snapshot per flight the batch changed to the
// compacted state topic.
func (s *FlightStep) EndBatch(c *runtime.Context) error {
	defer clear(s.touched)
	for gufi, t := range s.touched {
		fs, ok := t.st.Snapshot(gufi)
		if !ok {
			continue // evicted in this batch
		}
		fs.Covers = []schemas.LogPosition{t.pos}
		fs.UpdatedTS = c.Now()
		b, err := s.t.codec.Encode(context.Background(), nil, s.t.names.FlightState(), &fs)
		if err != nil {
			return fmt.Errorf("flight step: encode state of %s: %w: %w", gufi, runtime.ErrOutput, err)
		}
		c.Emit(&kgo.Record{Topic: s.t.names.FlightState(), Key: []byte(gufi), Value: b})
	}
	return nil
}

// Quarantine implements runtime.Quarantiner.
func (s *FlightStep) Quarantine(c *runtime.Context, r *kgo.Record, cause error) error {
	return s.t.quarantine(c, r, cause)
}

// Route implements runtime.Step; the flight step has no stateless inputs.
func (s *FlightStep) Route(c *runtime.Context, r *kgo.Record) error {
	return s.reject(c, r, "", "processor.unexpected_topic", fmt.Sprintf("flight step does not read %s", r.Topic))
}

// AppendState implements runtime.Step.
func (s *FlightStep) AppendState(b []byte, st *flight.State) ([]byte, error) {
	return st.AppendBinary(b)
}

// DecodeState implements runtime.Step.
func (s *FlightStep) DecodeState(b []byte) (*flight.State, error) {
	var st flight.State
	if err := st.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return &st, nil
}

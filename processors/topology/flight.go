package topology

import (
	"context"
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

var _ runtime.Step[flight.State] = (*FlightStep)(nil)

// FlightStep returns the flight step handler with its core configured by cfg.
func (t *Topology) FlightStep(cfg flight.Config) (*FlightStep, error) {
	core, err := flight.New(cfg)
	if err != nil {
		return nil, err
	}
	return &FlightStep{t: t, core: core, touched: map[string]touched{}}, nil
}

// input decodes one flights.input record. A record it cannot read is
// rejected (with its reason) and yields ok=false.
func (s *FlightStep) input(c *runtime.Context, r *kgo.Record) (in flight.Input, env *schemas.Envelope, ok bool) {
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
		if err := s.t.codec.Decode(ctx, r.Value, &te); err != nil {
			s.reject(c, r, "sbs", "processor.undecodable", fmt.Sprintf("flight step: track event %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err))
			return in, nil, false
		}
		env = &schemas.Envelope{ID: te.EventID, Feed: "sbs", ProducerTS: te.TS}
		return flight.Input{EventID: te.EventID, Feed: "sbs", TS: te.TS, Track: &flight.TrackMsg{
			ICAO24: te.ICAO24, Callsign: te.Callsign, Position: te.Position, Squawk: te.Squawk, OnGround: te.OnGround, Revoked: te.Revoked,
		}}, env, true
	case KindEnvelope:
		env = &schemas.Envelope{}
		if err := s.t.codec.Decode(ctx, r.Value, env); err != nil {
			s.reject(c, r, "", "processor.undecodable", fmt.Sprintf("flight step: envelope %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err))
			return in, nil, false
		}
		in, err := flight.FromEnvelope(env)
		if err != nil {
			s.reject(c, r, env.Feed, "flight.unreadable", fmt.Sprintf("flight step: %s record %s: %v", env.Feed, env.ID, err))
			s.outcome(c, env, schemas.OutcomeInvalid, "flight.unreadable", 0, "")
			return in, nil, false
		}
		return in, env, true
	}
	s.reject(c, r, "", "processor.unknown_kind", fmt.Sprintf("flight step: record %s/%d@%d has %s header %q, want %q or %q",
		r.Topic, r.Partition, r.Offset, KindHeader, kind, KindTrack, KindEnvelope))
	return in, nil, false
}

func (s *FlightStep) reject(c *runtime.Context, r *kgo.Record, feed, code, reason string) {
	if !c.Replaying() {
		s.t.reject(c, r, feed, code, reason)
	}
}

func (s *FlightStep) outcome(c *runtime.Context, env *schemas.Envelope, verdict, reason string, late time.Duration, gufi string) {
	if !c.Replaying() {
		s.t.outcome(c, env, "flight", verdict, reason, late, gufi)
	}
}

// Process implements runtime.Step.
func (s *FlightStep) Process(c *runtime.Context, r *kgo.Record, st *flight.State) (*flight.State, error) {
	in, env, ok := s.input(c, r)
	if !ok {
		return st, nil
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
			return st, fmt.Errorf("flight step: encode %s event %s: %w", e.Type, e.EventID, err)
		}
		c.Emit(&kgo.Record{Topic: s.t.names.FlightEvents(), Key: []byte(e.GUFI), Value: b})
		s.touched[e.GUFI] = touched{st: st, pos: pos}
		if v := e.InvariantViolated; v != nil {
			s.t.reject(c, r, in.Feed, "invariant."+v.Rule, fmt.Sprintf("flight %s: %s", e.GUFI, v.Detail))
		}
	}
	s.outcome(c, env, res.Outcome.String(), res.Reason, res.Lateness, res.GUFI)
	return st, nil
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
			return fmt.Errorf("flight step: encode state of %s: %w", gufi, err)
		}
		c.Emit(&kgo.Record{Topic: s.t.names.FlightState(), Key: []byte(gufi), Value: b})
	}
	return nil
}

// Route implements runtime.Step; the flight step has no stateless inputs.
func (s *FlightStep) Route(c *runtime.Context, r *kgo.Record) error {
	s.reject(c, r, "", "processor.unexpected_topic", fmt.Sprintf("flight step does not read %s", r.Topic))
	return nil
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

// Package topology wires the pure step cores (processors/track,
// processors/flight) onto the transactional runtime (processors/runtime)
// with Contrail's topics (ARCHITECTURE.md §3, §4):
//
//	contrail.raw.sbs ──track step (key ICAO)──┐
//	contrail.raw.adexp/ats/json ──route───────┴─> contrail.flights.input (key callsign)
//	contrail.flights.input ──flight step (key callsign)──> contrail.flights.events (key GUFI)
//	                                                      contrail.flights.state  (key GUFI, compacted)
//	both steps ──> contrail.outcomes (non-applied verdicts), contrail.rejected (undecodable input, invariant violations)
//
// The route half runs in the track step's runner, so one transaction covers
// the re-keying of plans and the track outputs of the same poll.
//
// Each hop decodes its input once and encodes its outputs once: plan
// envelopes are forwarded to the flight step byte for byte, and only
// outcomes that are not "applied" are written (applied is the default: an
// input with no outcome record was applied), which keeps the outcome topic
// small.
package topology

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/processors/runtime"
	"github.com/contrail-atm/contrail/processors/track"
	"github.com/contrail-atm/contrail/schemas"
)

// Topology holds what both steps share.
type Topology struct {
	names   topics.Names
	codec   *schemas.Codec
	log     *slog.Logger
	metrics *runtime.Metrics
	key     func(*schemas.Envelope) (string, error)
}

// Options configure a Topology.
type Options struct {
	// Prefix of every topic name (default "contrail").
	Prefix string
	// Codec encodes outputs and decodes inputs in either framing.
	Codec *schemas.Codec
	// Log and Metrics may be nil.
	Log     *slog.Logger
	Metrics *runtime.Metrics
	// PlanFeeds are the feeds whose raw topics the router re-keys for the
	// flight step. Default adexp, ats, json.
	PlanFeeds []string
}

// New builds a topology.
func New(o Options) (*Topology, error) {
	if o.Codec == nil {
		return nil, fmt.Errorf("topology: a Codec is required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Topology{names: topics.Names{Prefix: o.Prefix}, codec: o.Codec, log: o.Log, metrics: o.Metrics, key: flightKey}, nil
}

// Names are the topic names the topology uses.
func (t *Topology) Names() topics.Names { return t.names }

// TrackStep returns the track step handler with its core configured by cfg.
func (t *Topology) TrackStep(cfg track.Config) (*TrackStep, error) {
	core, err := track.New(cfg)
	if err != nil {
		return nil, err
	}
	return &TrackStep{t: t, core: core}, nil
}

// TrackConfig is the runtime configuration of the track step for the given
// plan feeds (whose raw topics it routes).
func (t *Topology) TrackConfig(planFeeds []string) runtime.Config {
	inputs := []string{t.names.Raw("sbs")}
	for _, f := range planFeeds {
		if f != "sbs" {
			inputs = append(inputs, t.names.Raw(f))
		}
	}
	return runtime.Config{Name: "track", Inputs: inputs, StateTopic: t.names.Raw("sbs"),
		Changelog: t.names.Changelog("track"), Metrics: t.metrics}
}

// FlightConfig is the runtime configuration of the flight step.
func (t *Topology) FlightConfig() runtime.Config {
	return runtime.Config{Name: "flight", Inputs: []string{t.names.FlightInput()}, StateTopic: t.names.FlightInput(),
		Changelog: t.names.Changelog("flight"), Metrics: t.metrics}
}

// outcome records a step's verdict on one input: always in the metrics,
// and on the outcomes topic unless it is "applied" or "duplicate".
// (Applied is the default: an input with no outcome record was applied.) A
// duplicate is a second delivery of an event id the step has judged before
// (a re-ingested file, a replayed landing topic): the first verdict stands,
// so the view of verdicts is the same however often the input was read.
// An encoding failure is returned so the transaction aborts.
func (t *Topology) outcome(c *runtime.Context, env *schemas.Envelope, step, verdict, reason string, lateness time.Duration, gufi string) error {
	return t.outcomeOf(c, env, step, verdict, reason, lateness, gufi, nil)
}

// outcomeOf is outcome with the verdicts on each aspect of the event: an
// applied event one of whose aspects was not applied is written too.
func (t *Topology) outcomeOf(c *runtime.Context, env *schemas.Envelope, step, verdict, reason string, lateness time.Duration, gufi string, aspects []schemas.AspectOutcome) error {
	t.metrics.Outcome(step, env.Feed, verdict, lateness)
	if verdict == schemas.OutcomeDuplicate || (verdict == schemas.OutcomeApplied && len(aspects) == 0) {
		return nil
	}
	o := &schemas.Outcome{EventID: env.ID, Feed: env.Feed, Step: step, Outcome: verdict, Reason: reason,
		ProducerTS: env.ProducerTS, Lateness: lateness, GUFI: gufi, ProcessedTS: c.Now(), Aspects: aspects}
	b, err := t.codec.Encode(context.Background(), nil, t.names.Outcomes(), o)
	if err != nil {
		return fmt.Errorf("%s step: encode outcome of %s: %w: %w", step, env.ID, runtime.ErrOutput, err)
	}
	c.Emit(&kgo.Record{Topic: t.names.Outcomes(), Key: []byte(env.ID), Value: b})
	return nil
}

// quarantine rejects a record whose outputs could not be produced (see
// runtime.ErrOutput), with the error as the reason.
func (t *Topology) quarantine(c *runtime.Context, r *kgo.Record, cause error) error {
	return t.reject(c, r, "", "processor.output", fmt.Sprintf("outputs of %s/%d@%d could not be produced, the record is set aside: %v", r.Topic, r.Partition, r.Offset, cause))
}

// reject writes a record the step cannot use to the rejected topic, with the
// reason and the bytes as read, so nothing is dropped silently.
// An encoding failure is returned so the transaction aborts.
func (t *Topology) reject(c *runtime.Context, r *kgo.Record, feed, code, reason string) error {
	t.log.Warn("record rejected by processor", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "reason", reason)
	x := &schemas.Rejected{ID: fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset), Feed: feed, ReasonCode: code,
		Reason: reason, IngestTS: c.Now(), Adapter: "processor", Origin: fmt.Sprintf("kafka://%s/%d@%d", r.Topic, r.Partition, r.Offset), Raw: r.Value}
	b, err := t.codec.Encode(context.Background(), nil, t.names.Rejected(), x)
	if err != nil {
		return fmt.Errorf("encode rejected record %s/%d@%d: %w: %w", r.Topic, r.Partition, r.Offset, runtime.ErrOutput, err)
	}
	c.Emit(&kgo.Record{Topic: t.names.Rejected(), Key: r.Key, Value: b})
	return nil
}

// Package topics knows the Kafka topics of ARCHITECTURE.md §3 and provisions
// them idempotently with kadm: missing topics are created, existing ones are
// compared with the plan and any drift (partition count, configs) is reported
// rather than silently changed, because repartitioning a keyed topic moves keys
// between partitions and breaks per-key ordering.
package topics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Spec is one topic as the plan wants it.
type Spec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16 // -1: the broker's default.replication.factor
	Configs           map[string]string
}

// Options shape the plan. Zero values take the documented defaults.
type Options struct {
	// Prefix of every topic name. Default "contrail".
	Prefix string
	// Feeds get an ingest landing topic and a raw log topic each. Default: sbs, adexp, ats, json.
	Feeds []string
	// Partitions of keyed topics. Default 3.
	Partitions int32
	// ReplicationFactor of every topic. Default -1, the broker's default.
	ReplicationFactor int16
	// RawRetention of the raw log and domain events. Default 0: keep forever,
	// since the log is the source every view is rebuilt from.
	RawRetention time.Duration
	// IngestRetention of landing topics and rejects. Default 7 days.
	IngestRetention time.Duration
}

// DefaultFeeds are the feeds of ARCHITECTURE.md §2.
var DefaultFeeds = []string{"sbs", "adexp", "ats", "json"}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = "contrail"
	}
	if len(o.Feeds) == 0 {
		o.Feeds = DefaultFeeds
	}
	if o.Partitions == 0 {
		o.Partitions = 3
	}
	if o.ReplicationFactor == 0 {
		o.ReplicationFactor = -1
	}
	if o.IngestRetention == 0 {
		o.IngestRetention = 7 * 24 * time.Hour
	}
	return o
}

// Names are the topic names derived from a prefix.
type Names struct{ Prefix string }

// Raw is the raw event log topic of a feed.
func (n Names) Raw(feed string) string { return n.p() + ".raw." + feed }

// Ingest is the landing topic of a feed for external producers.
func (n Names) Ingest(feed string) string { return n.p() + ".ingest." + feed }

// Rejected is the topic of syntax failures and invariant violations.
func (n Names) Rejected() string { return n.p() + ".rejected" }

// FlightEvents is the domain event topic, keyed by GUFI.
func (n Names) FlightEvents() string { return n.p() + ".flights.events" }

// FlightState is the compacted snapshot topic, keyed by GUFI.
func (n Names) FlightState() string { return n.p() + ".flights.state" }

// FlightInput is the internal repartition topic of the flight step: track
// step outputs and plan/system envelopes, keyed by callsign.
func (n Names) FlightInput() string { return n.p() + ".flights.input" }

// AircraftState is the compacted topic of the track step's current picture
// of every aircraft heard, keyed by ICAO address.
func (n Names) AircraftState() string { return n.p() + ".aircraft.state" }

// AircraftPositions is the track history of every aircraft heard,
// identified or not, keyed by ICAO address.
func (n Names) AircraftPositions() string { return n.p() + ".aircraft.positions" }

// Outcomes is the per-event processing verdict topic (applied, stale, ...).
func (n Names) Outcomes() string { return n.p() + ".outcomes" }

// Changelog is the compacted state topic of a processor step; partition p
// holds the state of the step's input partition p.
func (n Names) Changelog(step string) string { return n.p() + "." + step + ".changelog" }

// Steps are the stateful processor steps, each owning a changelog topic.
var Steps = []string{"track", "flight"}

func (n Names) p() string {
	if n.Prefix == "" {
		return "contrail"
	}
	return n.Prefix
}

func retentionMS(d time.Duration) string {
	if d <= 0 {
		return "-1"
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// Plan lists the topics Contrail needs, in a stable order.
func Plan(o Options) []Spec {
	o = o.withDefaults()
	n := Names{Prefix: o.Prefix}
	del := func(ret time.Duration) map[string]string {
		return map[string]string{"cleanup.policy": "delete", "retention.ms": retentionMS(ret)}
	}
	var specs []Spec
	for _, f := range o.Feeds {
		specs = append(specs,
			Spec{Name: n.Ingest(f), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: del(o.IngestRetention)},
			Spec{Name: n.Raw(f), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: del(o.RawRetention)},
		)
	}
	specs = append(specs,
		Spec{Name: n.Rejected(), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: del(o.IngestRetention)},
		Spec{Name: n.FlightEvents(), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: del(o.RawRetention)},
		Spec{Name: n.FlightState(), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: map[string]string{"cleanup.policy": "compact"}},
		Spec{Name: n.FlightInput(), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: del(o.IngestRetention)},
		Spec{Name: n.Outcomes(), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: del(o.RawRetention)},
		Spec{Name: n.AircraftState(), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: map[string]string{"cleanup.policy": "compact"}},
		Spec{Name: n.AircraftPositions(), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Configs: del(o.RawRetention)},
	)
	for _, step := range Steps {
		specs = append(specs, Spec{Name: n.Changelog(step), Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor,
			Configs: map[string]string{"cleanup.policy": "compact"}})
	}
	return specs
}

// Status is what Ensure found or did for one topic.
type Status string

// Outcomes of Ensure per topic.
const (
	Created Status = "created"
	OK      Status = "ok"
	Drift   Status = "drift"
)

// Result is Ensure's verdict on one topic.
type Result struct {
	Topic  string
	Status Status
	// Drift lists human-readable differences from the plan, e.g.
	// "partitions: have 1, plan 3".
	Drift []string
}

// Ensure creates missing topics and reports drift of existing ones. Running it
// twice changes nothing the second time.
func Ensure(ctx context.Context, adm *kadm.Client, specs []Spec) ([]Result, error) {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	// A direct metadata request, not the client's cache: a topic created a
	// moment ago by this client must be seen as existing.
	existing, err := adm.ListTopics(kadm.WithAuthorizedOps(ctx), names...)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var results []Result
	var present []string
	for _, s := range specs {
		td, ok := existing[s.Name]
		if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			resp, err := adm.CreateTopic(ctx, s.Partitions, s.ReplicationFactor, ptrs(s.Configs), s.Name)
			if err == nil {
				err = resp.Err
			}
			switch {
			case errors.Is(err, kerr.TopicAlreadyExists):
				// Created a moment ago (by us or a concurrent run) and not
				// yet in the metadata we read: it exists, so it is not
				// "created" now; its configs are still checked below.
				results = append(results, Result{Topic: s.Name, Status: OK})
				present = append(present, s.Name)
			case err != nil:
				return results, fmt.Errorf("create topic %s: %w", s.Name, err)
			default:
				results = append(results, Result{Topic: s.Name, Status: Created})
			}
			continue
		}
		if td.Err != nil {
			return results, fmt.Errorf("describe topic %s: %w", s.Name, td.Err)
		}
		var drift []string
		if have := int32(len(td.Partitions)); have != s.Partitions {
			drift = append(drift, fmt.Sprintf("partitions: have %d, plan %d", have, s.Partitions))
		}
		results = append(results, Result{Topic: s.Name, Status: OK, Drift: drift})
		present = append(present, s.Name)
	}
	if len(present) > 0 {
		rcs, err := adm.DescribeTopicConfigs(ctx, present...)
		if err != nil {
			return results, fmt.Errorf("describe topic configs: %w", err)
		}
		bySpec := make(map[string]Spec, len(specs))
		for _, s := range specs {
			bySpec[s.Name] = s
		}
		for _, rc := range rcs {
			if rc.Err != nil {
				return results, fmt.Errorf("describe configs of topic %s: %w", rc.Name, rc.Err)
			}
			have := make(map[string]string, len(rc.Configs))
			for _, c := range rc.Configs {
				if c.Value != nil {
					have[c.Key] = *c.Value
				}
			}
			spec := bySpec[rc.Name]
			keys := make([]string, 0, len(spec.Configs))
			for k := range spec.Configs {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			i := slices.IndexFunc(results, func(r Result) bool { return r.Topic == rc.Name })
			for _, k := range keys {
				if v, ok := have[k]; ok && v != spec.Configs[k] {
					results[i].Drift = append(results[i].Drift, fmt.Sprintf("%s: have %s, plan %s", k, v, spec.Configs[k]))
				}
			}
		}
	}
	for i := range results {
		if len(results[i].Drift) > 0 {
			results[i].Status = Drift
		}
	}
	return results, nil
}

// Summary is a one-line count of Ensure's results, for logs.
func Summary(rs []Result) string {
	var c, o, d int
	for _, r := range rs {
		switch r.Status {
		case Created:
			c++
		case OK:
			o++
		case Drift:
			d++
		}
	}
	return fmt.Sprintf("%d created, %d ok, %d drifted", c, o, d)
}

// Format renders results as an aligned table.
func Format(rs []Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%-28s %s", r.Topic, r.Status)
		if len(r.Drift) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(r.Drift, "; "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func ptrs(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = &v
	}
	return out
}

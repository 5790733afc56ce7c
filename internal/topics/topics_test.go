package topics_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/topics"
)

func specNames(specs []topics.Spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

func byName(specs []topics.Spec) map[string]topics.Spec {
	m := make(map[string]topics.Spec, len(specs))
	for _, s := range specs {
		m[s.Name] = s
	}
	return m
}

func TestPlanDefaults(t *testing.T) {
	specs := topics.Plan(topics.Options{})
	want := []string{
		"contrail.ingest.sbs", "contrail.raw.sbs",
		"contrail.ingest.adexp", "contrail.raw.adexp",
		"contrail.ingest.ats", "contrail.raw.ats",
		"contrail.ingest.json", "contrail.raw.json",
		"contrail.rejected", "contrail.flights.events", "contrail.flights.state",
		"contrail.flights.input", "contrail.outcomes", "contrail.aircraft.state", "contrail.aircraft.positions", "contrail.track.changelog", "contrail.flight.changelog",
	}
	if got := specNames(specs); !slices.Equal(got, want) {
		t.Fatalf("Plan names = %q\nwant %q", got, want)
	}
	week := "604800000"
	tests := []struct {
		topic   string
		configs map[string]string
	}{
		{"contrail.ingest.sbs", map[string]string{"cleanup.policy": "delete", "retention.ms": week}},
		{"contrail.raw.sbs", map[string]string{"cleanup.policy": "delete", "retention.ms": "-1"}},
		{"contrail.raw.json", map[string]string{"cleanup.policy": "delete", "retention.ms": "-1"}},
		{"contrail.rejected", map[string]string{"cleanup.policy": "delete", "retention.ms": week}},
		{"contrail.flights.events", map[string]string{"cleanup.policy": "delete", "retention.ms": "-1"}},
		{"contrail.flights.state", map[string]string{"cleanup.policy": "compact"}},
		{"contrail.flights.input", map[string]string{"cleanup.policy": "delete", "retention.ms": week}},
		{"contrail.outcomes", map[string]string{"cleanup.policy": "delete", "retention.ms": "-1"}},
		{"contrail.track.changelog", map[string]string{"cleanup.policy": "compact"}},
		{"contrail.flight.changelog", map[string]string{"cleanup.policy": "compact"}},
	}
	plan := byName(specs)
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			s := plan[tt.topic]
			if !maps.Equal(s.Configs, tt.configs) {
				t.Errorf("configs %v, want %v", s.Configs, tt.configs)
			}
			if s.Partitions != 3 || s.ReplicationFactor != -1 {
				t.Errorf("partitions %d, replication %d; want 3 and -1 (broker default)", s.Partitions, s.ReplicationFactor)
			}
		})
	}
}

func TestPlanOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  topics.Options
		check func(t *testing.T, plan map[string]topics.Spec, names []string)
	}{
		{"custom prefix", topics.Options{Prefix: "atm"}, func(t *testing.T, plan map[string]topics.Spec, names []string) {
			for _, n := range names {
				if !strings.HasPrefix(n, "atm.") {
					t.Errorf("topic %q does not use the prefix", n)
				}
			}
			for _, n := range []string{"atm.raw.sbs", "atm.ingest.json", "atm.rejected", "atm.flights.state"} {
				if _, ok := plan[n]; !ok {
					t.Errorf("plan lacks %s: %q", n, names)
				}
			}
		}},
		{"custom feeds", topics.Options{Feeds: []string{"sbs"}}, func(t *testing.T, plan map[string]topics.Spec, names []string) {
			want := []string{"contrail.ingest.sbs", "contrail.raw.sbs", "contrail.rejected", "contrail.flights.events", "contrail.flights.state",
				"contrail.flights.input", "contrail.outcomes", "contrail.aircraft.state", "contrail.aircraft.positions", "contrail.track.changelog", "contrail.flight.changelog"}
			if !slices.Equal(names, want) {
				t.Errorf("names %q, want %q", names, want)
			}
		}},
		{"raw retention 0 keeps forever", topics.Options{RawRetention: 0}, func(t *testing.T, plan map[string]topics.Spec, _ []string) {
			if got := plan["contrail.raw.sbs"].Configs["retention.ms"]; got != "-1" {
				t.Errorf("raw retention.ms = %q, want -1", got)
			}
		}},
		{"raw retention set", topics.Options{RawRetention: 90 * 24 * time.Hour}, func(t *testing.T, plan map[string]topics.Spec, _ []string) {
			for _, n := range []string{"contrail.raw.sbs", "contrail.flights.events"} {
				if got := plan[n].Configs["retention.ms"]; got != "7776000000" {
					t.Errorf("%s retention.ms = %q, want 7776000000", n, got)
				}
			}
			if got := plan["contrail.ingest.sbs"].Configs["retention.ms"]; got != "604800000" {
				t.Errorf("ingest retention.ms = %q, want the 7-day default", got)
			}
		}},
		{"ingest retention set", topics.Options{IngestRetention: 36 * time.Hour}, func(t *testing.T, plan map[string]topics.Spec, _ []string) {
			for _, n := range []string{"contrail.ingest.ats", "contrail.rejected"} {
				if got := plan[n].Configs["retention.ms"]; got != "129600000" {
					t.Errorf("%s retention.ms = %q, want 129600000", n, got)
				}
			}
		}},
		{"partitions and replication", topics.Options{Partitions: 12, ReplicationFactor: 3}, func(t *testing.T, plan map[string]topics.Spec, _ []string) {
			for n, s := range plan {
				if s.Partitions != 12 || s.ReplicationFactor != 3 {
					t.Errorf("%s: partitions %d, replication %d; want 12 and 3", n, s.Partitions, s.ReplicationFactor)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs := topics.Plan(tt.opts)
			tt.check(t, byName(specs), specNames(specs))
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{topics.Names{}.Raw("sbs"), "contrail.raw.sbs"},
		{topics.Names{Prefix: "x"}.Raw("sbs"), "x.raw.sbs"},
		{topics.Names{Prefix: "x"}.Ingest("adexp"), "x.ingest.adexp"},
		{topics.Names{}.Rejected(), "contrail.rejected"},
		{topics.Names{Prefix: "x"}.FlightEvents(), "x.flights.events"},
		{topics.Names{Prefix: "x"}.FlightState(), "x.flights.state"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// newAdmin returns an admin client with its own metadata cache, as each
// 'contrail topics' process has.
func newAdmin(t *testing.T, c *kfake.Cluster) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func statuses(rs []topics.Result) map[string]topics.Result {
	m := make(map[string]topics.Result, len(rs))
	for _, r := range rs {
		m[r.Topic] = r
	}
	return m
}

func TestEnsureIdempotent(t *testing.T) {
	c := newCluster(t)
	plan := topics.Plan(topics.Options{})

	first, err := topics.Ensure(t.Context(), newAdmin(t, c), plan)
	if err != nil {
		t.Fatalf("first Ensure: %v", err)
	}
	if len(first) != len(plan) {
		t.Fatalf("first Ensure: %d results for %d topics", len(first), len(plan))
	}
	for _, r := range first {
		if r.Status != topics.Created || len(r.Drift) > 0 {
			t.Errorf("first Ensure: %s %s %q, want created", r.Topic, r.Status, r.Drift)
		}
	}
	if got, want := topics.Summary(first), "17 created, 0 ok, 0 drifted"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}

	// What was created is what the plan asked for.
	adm := newAdmin(t, c)
	details, err := adm.ListTopics(t.Context(), specNames(plan)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plan {
		if n := len(details[s.Name].Partitions); n != int(s.Partitions) {
			t.Errorf("%s has %d partitions, want %d", s.Name, n, s.Partitions)
		}
	}
	rcs, err := adm.DescribeTopicConfigs(t.Context(), "contrail.flights.state", "contrail.raw.sbs")
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			t.Fatalf("describe %s: %v", rc.Name, rc.Err)
		}
		have := map[string]string{}
		for _, c := range rc.Configs {
			have[c.Key] = c.MaybeValue()
		}
		for k, want := range byName(plan)[rc.Name].Configs {
			if have[k] != want {
				t.Errorf("%s config %s = %q, want %q", rc.Name, k, have[k], want)
			}
		}
	}

	second, err := topics.Ensure(t.Context(), newAdmin(t, c), plan)
	if err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	for _, r := range second {
		if r.Status != topics.OK || len(r.Drift) > 0 {
			t.Errorf("second Ensure: %s %s %q, want ok with no drift", r.Topic, r.Status, r.Drift)
		}
	}
	if got, want := topics.Summary(second), "0 created, 17 ok, 0 drifted"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if !slices.Equal(specNames(plan), func() []string {
		var n []string
		for _, r := range second {
			n = append(n, r.Topic)
		}
		return n
	}()) {
		t.Errorf("results are not in plan order")
	}
}

func TestEnsureReportsDrift(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "contrail.raw.sbs"))
	plan := topics.Plan(topics.Options{})
	res, err := topics.Ensure(t.Context(), newAdmin(t, c), plan)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	got := statuses(res)
	raw := got["contrail.raw.sbs"]
	if raw.Status != topics.Drift {
		t.Errorf("contrail.raw.sbs status %s, want drift", raw.Status)
	}
	if !slices.ContainsFunc(raw.Drift, func(d string) bool { return strings.Contains(d, "partitions") && strings.Contains(d, "have 1, plan 3") }) {
		t.Errorf("contrail.raw.sbs drift %q, want the partition count", raw.Drift)
	}
	for name, r := range got {
		if name != "contrail.raw.sbs" && r.Status != topics.Created {
			t.Errorf("%s status %s, want created", name, r.Status)
		}
	}
	if !strings.Contains(topics.Format(res), "contrail.raw.sbs") || !strings.Contains(topics.Format(res), "drift (") {
		t.Errorf("Format does not show the drift:\n%s", topics.Format(res))
	}

	// Ensure never alters an existing topic.
	details, err := newAdmin(t, c).ListTopics(t.Context(), "contrail.raw.sbs")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(details["contrail.raw.sbs"].Partitions); n != 1 {
		t.Errorf("contrail.raw.sbs now has %d partitions, want the 1 it had", n)
	}
}

func TestEnsureReportsConfigDrift(t *testing.T) {
	c := newCluster(t)
	if _, err := topics.Ensure(t.Context(), newAdmin(t, c), topics.Plan(topics.Options{})); err != nil {
		t.Fatal(err)
	}
	// The operator later asks for 30-day raw retention; the existing topics
	// keep forever, which Ensure reports rather than changes.
	res, err := topics.Ensure(t.Context(), newAdmin(t, c), topics.Plan(topics.Options{RawRetention: 30 * 24 * time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	got := statuses(res)
	for _, n := range []string{"contrail.raw.sbs", "contrail.flights.events"} {
		if got[n].Status != topics.Drift || !slices.Contains(got[n].Drift, "retention.ms: have -1, plan 2592000000") {
			t.Errorf("%s: %s %q, want drift on retention.ms", n, got[n].Status, got[n].Drift)
		}
	}
	if got["contrail.ingest.sbs"].Status != topics.OK {
		t.Errorf("contrail.ingest.sbs: %s %q, want ok", got["contrail.ingest.sbs"].Status, got["contrail.ingest.sbs"].Drift)
	}
}

// TestEnsureTwiceOnOneClient runs Ensure twice on the same client, as a
// long-running process re-checking its topics would.
func TestEnsureTwiceOnOneClient(t *testing.T) {
	adm := newAdmin(t, newCluster(t))
	plan := topics.Plan(topics.Options{})
	if _, err := topics.Ensure(t.Context(), adm, plan); err != nil {
		t.Fatal(err)
	}
	res, err := topics.Ensure(t.Context(), adm, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := topics.Summary(res), "0 created, 17 ok, 0 drifted"; got != want {
		t.Errorf("second Ensure on the same client: %s, want %s", got, want)
	}
}

package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"golang.org/x/sync/errgroup"

	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/processors/runtime"
	"github.com/contrail-atm/contrail/processors/topology"
	"github.com/contrail-atm/contrail/processors/track"
	"github.com/contrail-atm/contrail/schemas"
)

const processSynopsis = `Usage: contrail process [flags]

Runs the processor steps (ARCHITECTURE.md §4) as Kafka transactions:
the track step reads contrail.raw.sbs (keyed by ICAO address) and re-keys
plans and system events by callsign onto contrail.flights.input; the flight
step reads that topic, assigns GUFIs, applies the invariants and writes
domain events to contrail.flights.events and flight snapshots to
contrail.flights.state. Outputs, state snapshots and consumed offsets commit
atomically; state is restored from compacted changelog topics when
partitions are assigned (/readyz is false meanwhile). Run several instances
to share the partitions; each needs its own --instance-id (the default,
host name and process id, is unique).`

// processSettings are the flags of the processor stage.
type processSettings struct {
	steps           []string
	groupPrefix     string
	instance        string
	static          bool // --instance-id given: a stable identity, so static membership
	starsFile       string
	snapshotEvery   int
	checkpointEvery int
}

func (p *processSettings) add(fs *flag.FlagSet) {
	p.steps = []string{"track", "flight"}
	host, _ := os.Hostname()
	p.instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	p.snapshotEvery, p.checkpointEvery = 100, 50_000
	fs.Var(&listValue{l: &p.steps}, "steps", "processor steps to run: track, flight or both")
	fs.StringVar(&p.groupPrefix, "process-group-prefix", "", "consumer groups are <prefix>-track and <prefix>-flight (default: the topic prefix)")
	fs.Var(staticIDValue{&p.instance, &p.static}, "instance-id", "unique, stable id of this instance (e.g. the pod name): part of its transactional ids and, when set, its static group membership, so a restarted instance resumes at once (default: host name and process id)")
	fs.StringVar(&p.starsFile, "stars", "", "reference data: valid STARs per destination, one line per aerodrome (\"EGLL OCK1A BIG2B\"); without it a destination change must still carry a STAR, which cannot be checked")
	fs.Var(intValue{&p.snapshotEvery, 1, 1 << 30}, "snapshot-every", "snapshot a key's state after this many applied records")
	fs.Var(intValue{&p.checkpointEvery, 1, 1 << 30}, "checkpoint-every", "checkpoint a partition's state after this many records (bounds restore time)")
}

func (p *processSettings) validate() error {
	for _, s := range p.steps {
		if s != "track" && s != "flight" {
			return configErr("--steps: unknown step %q (want track, flight)", s)
		}
	}
	if len(p.steps) == 0 {
		return configErr("--steps is empty")
	}
	return nil
}

func (p *processSettings) stars() (flight.Stars, error) {
	if p.starsFile == "" {
		return nil, nil
	}
	f, err := os.Open(p.starsFile)
	if err != nil {
		return nil, configErr("--stars: %v", err)
	}
	defer f.Close()
	s, err := flight.LoadStars(f)
	if err != nil {
		return nil, configErr("--stars %s: %v", p.starsFile, err)
	}
	return s, nil
}

func processCmd(ctx context.Context, env Env, args []string) error {
	var (
		o  obsSettings
		k  kafkaSettings
		p  processSettings
		fd = append([]string(nil), topics.DefaultFeeds...)
	)
	fs := newFlagSet("process", processSynopsis, env, &o)
	o.addListen(fs)
	k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	p.add(fs)
	fs.Var(&listValue{l: &fd}, "feeds", "feeds whose raw topics are read")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	if len(k.brokers) == 0 {
		return configErr("--brokers is required (or CONTRAIL_BROKERS)")
	}
	st, err := newStage(ctx, env, &o)
	if err != nil {
		return err
	}
	defer st.close()
	admin, err := connectKafka(ctx, k, "admin", st.log, st)
	if err != nil {
		return err
	}
	defer admin.Close()
	g, gctx := errgroup.WithContext(ctx)
	if err := startProcessors(gctx, g, k, p, fd, kadm.NewClient(admin), st); err != nil {
		return err
	}
	return g.Wait()
}

// startProcessors starts the configured steps in g. Each step has its own
// readiness entry, false until it has restored its partitions.
func startProcessors(ctx context.Context, g *errgroup.Group, k kafkaSettings, p processSettings, feeds []string, adm *kadm.Client, st *stage) error {
	codec, err := k.registry.codec(schemas.MustRegistry())
	if err != nil {
		return &ConfigError{Err: err}
	}
	m := runtime.NewMetrics(st.reg)
	topo, err := topology.New(topology.Options{Prefix: k.prefix, Codec: codec, Log: st.log, Metrics: m})
	if err != nil {
		return err
	}
	stars, err := p.stars()
	if err != nil {
		return err
	}
	var planFeeds []string
	for _, f := range feeds {
		if f != "sbs" {
			planFeeds = append(planFeeds, f)
		}
	}
	if err := checkProcessTopics(ctx, adm, topo, planFeeds, p.steps, st); err != nil {
		return err
	}
	for _, name := range p.steps {
		role := "process_" + name
		opts, err := kafka.Options(k.config(), role, st.log, st.reg)
		if err != nil {
			return &ConfigError{Err: err}
		}
		ropts, err := kafka.Options(k.config(), role+"_restore", st.log, nil)
		if err != nil {
			return &ConfigError{Err: err}
		}
		cfg := stepConfig(topo, name, planFeeds)
		cfg.Group = p.group(k, name)
		cfg.TransactionalID = fmt.Sprintf("%s-%s", cfg.Group, p.instance)
		if p.static {
			cfg.InstanceID = cfg.TransactionalID
		}
		cfg.ClientOpts, cfg.ReaderOpts = opts, ropts
		cfg.SnapshotEvery, cfg.CheckpointEvery = p.snapshotEvery, p.checkpointEvery
		cfg.Log = st.log.With("stage", "process")
		health := "process-" + name
		cfg.Health = func(ok bool, reason string) {
			if ok {
				st.health.Ready(health)
			} else {
				st.health.NotReady(health, reason)
			}
		}
		switch name {
		case "track":
			step, err := topo.TrackStep(track.Config{})
			if err != nil {
				return &ConfigError{Err: err}
			}
			r, err := runtime.New(cfg, step, adm)
			if err != nil {
				return &ConfigError{Err: err}
			}
			g.Go(func() error { return r.Run(ctx) })
		case "flight":
			step, err := topo.FlightStep(flight.Config{Stars: stars})
			if err != nil {
				return &ConfigError{Err: err}
			}
			r, err := runtime.New(cfg, step, adm)
			if err != nil {
				return &ConfigError{Err: err}
			}
			g.Go(func() error { return r.Run(ctx) })
		}
		st.log.Info("processor step started", "step", name, "group", cfg.Group, "inputs", strings.Join(cfg.Inputs, ","))
	}
	return nil
}

// group is the consumer group of a step.
func (p *processSettings) group(k kafkaSettings, step string) string {
	prefix := p.groupPrefix
	if prefix == "" {
		prefix = k.prefix
	}
	return prefix + "-" + step
}

// processTopics are the topics whose consumption by the processor groups
// measures their lag.
func processTopics(k kafkaSettings, feeds []string) map[string][]string {
	n := k.names()
	var trackIn []string
	for _, f := range feeds {
		trackIn = append(trackIn, n.Raw(f))
	}
	return map[string][]string{"track": trackIn, "flight": {n.FlightInput()}}
}

// staticIDValue is the --instance-id flag: setting it also records that the
// id is stable.
type staticIDValue struct {
	s      *string
	static *bool
}

func (v staticIDValue) String() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

func (v staticIDValue) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty instance id")
	}
	*v.s, *v.static = s, true
	return nil
}

// checkProcessTopics waits, saying so in the log and on /readyz, until a
// step's topics exist (a stage may start before 'contrail topics' ran), and
// fails fast when a changelog's partition count differs from its input's
// (state would be restored from the wrong partition).
func checkProcessTopics(ctx context.Context, adm *kadm.Client, topo *topology.Topology, planFeeds, steps []string, st *stage) error {
	var cfgs []runtime.Config
	for _, s := range steps {
		cfgs = append(cfgs, stepConfig(topo, s, planFeeds))
	}
	var names []string
	for _, c := range cfgs {
		names = append(names, append(c.Inputs, c.Changelog)...)
	}
	logged := false
	for {
		// A direct metadata request, not the client's cache: topics
		// created a moment ago must be seen.
		td, err := adm.ListTopics(kadm.WithAuthorizedOps(ctx), names...)
		if err != nil {
			return fmt.Errorf("list the processor topics: %w", err)
		}
		var missing []string
		for _, n := range names {
			if d, ok := td[n]; !ok || d.Err != nil {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			st.health.Ready("process-topics")
			for _, c := range cfgs {
				in, cl := len(td[c.StateTopic].Partitions), len(td[c.Changelog].Partitions)
				if in != cl {
					return configErr("%s has %d partitions but its changelog %s has %d: they must match (partition p of the changelog holds the state of input partition p)",
						c.StateTopic, in, c.Changelog, cl)
				}
			}
			return nil
		}
		reason := fmt.Sprintf("waiting for topics %s: run 'contrail topics' with the same --topic-prefix", strings.Join(missing, ", "))
		st.health.NotReady("process-topics", reason)
		if !logged {
			st.log.Warn(reason)
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// stepConfig is the runtime configuration of a step ("track" or "flight").
func stepConfig(topo *topology.Topology, step string, planFeeds []string) runtime.Config {
	if step == "track" {
		return topo.TrackConfig(planFeeds)
	}
	return topo.FlightConfig()
}

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"golang.org/x/sync/errgroup"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

const runSynopsis = `Usage: contrail run [flags]

Runs the whole pipeline in one process: provisions topics, migrates ClickHouse,
ingests the --input files, runs the processor steps (track and flight, as
Kafka transactions) and sinks raw events, domain events, flight state,
outcomes and rejects into ClickHouse. Without --brokers it starts an embedded Kafka-protocol broker
(franz-go kfake) persisted under --data-dir. With --once it exits after the
inputs are ingested and the sink has caught up; otherwise it runs until
SIGTERM or Ctrl-C.

Example:
  contrail run --clickhouse 127.0.0.1:9000 --input sbs:capture.sbs --once`

func runCmd(ctx context.Context, env Env, args []string) error {
	var (
		o       obsSettings
		k       kafkaSettings
		c       chSettings
		s       sinkSettings
		ts      topicSettings
		p       processSettings
		inputs  []string
		once    bool
		dataDir = defaultDataDir()
		port    int
		loc     = time.UTC
	)
	fs := newFlagSet("run", runSynopsis, env, &o)
	o.addListen(fs)
	k.add(fs, "Kafka seed brokers, host:port[,host:port]; empty starts the embedded broker")
	c.add(fs, "127.0.0.1:9000")
	s.add(fs)
	ts.add(fs)
	p.add(fs)
	fs.Var(&listValue{l: &inputs}, "input", "file to ingest as feed:path (repeatable), e.g. sbs:capture.sbs")
	fs.BoolVar(&once, "once", false, "exit once the inputs are ingested and the sink has caught up")
	fs.StringVar(&dataDir, "data-dir", dataDir, "directory of the embedded broker's data")
	fs.Var(intValue{&port, 0, 65535}, "embedded-port", "port of the embedded broker (0 picks a free one)")
	fs.Var(locationValue{&loc}, "timezone", "time zone of SBS timestamps (receiver local time)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	if len(k.brokers) == 0 && (k.tls.on || k.sasl.Mechanism != "") {
		return configErr("--kafka-tls and --kafka-sasl-* need --brokers: the embedded broker speaks plaintext only")
	}
	fo := ingest.FeedOptions{Location: loc}
	ins, err := parseInputs(inputs, fo)
	if err != nil {
		return err
	}
	st, err := newStage(ctx, env, &o)
	if err != nil {
		return err
	}
	defer st.close()
	st.health.NotReady("pipeline", "starting")
	st.health.NotReady("kafka", "connecting")
	st.health.NotReady("clickhouse", "connecting")

	if len(k.brokers) == 0 {
		emb, err := kafka.StartEmbedded(filepath.Join(dataDir, "kafka"), port, st.log)
		if err != nil {
			return &ConfigError{Err: err}
		}
		defer emb.Close()
		k.brokers = emb.Addrs()
	} else {
		st.log.Info("using Kafka cluster", "brokers", k.brokers)
	}
	admin, err := connectKafka(ctx, k, "admin", st.log, st)
	if err != nil {
		return err
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	res, err := topics.Ensure(ctx, adm, topics.Plan(ts.options(k.prefix)))
	if err != nil {
		return err
	}
	st.log.Info("topics ready", "summary", topics.Summary(res))
	for _, r := range res {
		if r.Status == topics.Drift {
			st.log.Warn("topic differs from the plan", "topic", r.Topic, "drift", r.Drift)
		}
	}
	st.health.Ready("kafka")

	conn, err := c.open(ctx, env, k.timeout, st.log)
	if err != nil {
		return err
	}
	defer conn.Close()
	mres, err := clickhouse.Migrate(ctx, conn, st.log)
	if err != nil {
		return err
	}
	st.log.Info("ClickHouse ready", "version", conn.Version, "dialect", conn.Dialect.String(), "database", conn.Database, "schema_version", mres.To)
	st.health.Ready("clickhouse")

	reg := schemas.MustRegistry()
	sinkCl, err := startSinkClient(ctx, k, s, ts.feeds, st.log, st)
	if err != nil {
		return err
	}
	defer sinkCl.CloseAllowingRebalance()
	var prodCl = admin
	if len(ins) > 0 {
		if prodCl, err = connectKafka(ctx, k, "ingest", st.log, st); err != nil {
			return err
		}
		defer prodCl.Close()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	w, err := newWriter(conn, sinkCl, reg, k, s, st)
	if err != nil {
		return err
	}
	g.Go(func() error { return w.Run(gctx) })
	if err := startProcessors(gctx, g, k, p, ts.feeds, adm, st); err != nil {
		return err
	}
	if len(ins) > 0 {
		m := ingest.NewMetrics(st.reg)
		g.Go(func() error {
			total, err := ingestFiles(gctx, prodCl, k, ins, fo, reg, m, st.log.With("stage", "ingest"))
			if err != nil || gctx.Err() != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "ingested: read %d, accepted %d, rejected %d\n", total.Read, total.Accepted, total.Rejected)
			if !once {
				return nil
			}
			if err := waitPipeline(gctx, adm, k, p, s, ts.feeds, st); err != nil {
				return err
			}
			st.log.Info("processors and sink caught up; exiting (--once)")
			cancel()
			return nil
		})
	}
	st.health.Ready("pipeline")
	if len(ins) == 0 && once {
		st.log.Info("--once with no --input: nothing to do")
		cancel()
	}
	err = g.Wait()
	st.log.Info("stopped")
	return err
}

// waitPipeline waits until every stage has consumed what is in its input
// topics now, upstream first: the processor steps in order, then the sink.
func waitPipeline(ctx context.Context, adm *kadm.Client, k kafkaSettings, p processSettings, s sinkSettings, feeds []string, st *stage) error {
	type wait struct {
		group  string
		topics []string
	}
	var waits []wait
	pt := processTopics(k, feeds)
	for _, name := range []string{"track", "flight"} {
		for _, run := range p.steps {
			if run == name {
				waits = append(waits, wait{p.group(k, name), pt[name]})
			}
		}
	}
	waits = append(waits, wait{s.group, sinkTopics(k, feeds)})
	reader, err := kafka.Options(k.config(), "probe", st.log, nil)
	if err != nil {
		return err
	}
	for _, w := range waits {
		last := time.Now()
		err := kafka.WaitSettled(ctx, adm, reader, w.group, 200*time.Millisecond, func(lag int64) {
			if time.Since(last) > 5*time.Second {
				st.log.Info("waiting for a stage to catch up", "group", w.group, "lag", lag)
				last = time.Now()
			}
		}, w.topics...)
		if err != nil {
			return err
		}
	}
	return nil
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "contrail")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "contrail")
	}
	return "contrail-data"
}

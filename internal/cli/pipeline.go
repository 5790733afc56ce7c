package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// input is one file to ingest as a feed.
type input struct{ feed, path string }

// parseInputs reads "feed:path" values.
func parseInputs(vals []string, o ingest.FeedOptions) ([]input, error) {
	var out []input
	for _, v := range vals {
		feed, path, ok := strings.Cut(v, ":")
		if !ok || feed == "" || path == "" {
			return nil, configErr("--input %q: want feed:path, e.g. sbs:capture.sbs", v)
		}
		if _, err := ingest.LookupFeed(feed, o); err != nil {
			return nil, configErr("--input %q: %v", v, err)
		}
		out = append(out, input{feed, path})
	}
	return out, nil
}

// ingestFiles runs one adapter per input, one after the other, and returns
// the summed counts.
func ingestFiles(ctx context.Context, cl *kgo.Client, k kafkaSettings, inputs []input, fo ingest.FeedOptions,
	reg *schemas.Registry, m *ingest.Metrics, log *slog.Logger) (ingest.Stats, error) {
	return replayFiles(ctx, cl, k, inputs, fo, replayOptions{}, reg, m, log)
}

// replayOptions say how files are read: as the feed's own records or as
// JSONL recordings, as fast as possible or paced.
type replayOptions struct {
	format string  // "raw", "jsonl", or "" (by file name: *.jsonl is a recording)
	speed  float64 // 0: as fast as possible; else recorded speed × speed
}

// fileSource is a replayable input file.
type fileSource interface {
	ingest.Source
	Close() error
}

func openInput(in input, feed ingest.Feed, o replayOptions) (fileSource, error) {
	if o.format == "jsonl" || (o.format == "" && strings.HasSuffix(in.path, ".jsonl")) {
		return ingest.OpenRecording(in.path)
	}
	return ingest.OpenFeedFile(in.path, feed)
}

// replayFiles is ingestFiles with replay options.
func replayFiles(ctx context.Context, cl *kgo.Client, k kafkaSettings, inputs []input, fo ingest.FeedOptions,
	o replayOptions, reg *schemas.Registry, m *ingest.Metrics, log *slog.Logger) (ingest.Stats, error) {
	var total ingest.Stats
	codec, err := k.registry.codec(reg)
	if err != nil {
		return total, err
	}
	for _, in := range inputs {
		feed, err := ingest.LookupFeed(in.feed, fo)
		if err != nil {
			return total, &ConfigError{Err: err}
		}
		src, err := openInput(in, feed, o)
		if err != nil {
			return total, &ConfigError{Err: err}
		}
		log.Info("ingesting file", "feed", in.feed, "path", in.path)
		a := &ingest.Adapter{Feed: feed, Client: cl, Topics: k.names(), Schemas: reg, Codec: codec,
			Instance: instanceName("ingest"), Log: log, Metrics: m}
		if o.speed > 0 {
			a.Pacer = ingest.NewPacer(o.speed, log)
		}
		st, err := a.Run(ctx, src)
		src.Close()
		total = total.Add(st)
		if err != nil {
			return total, fmt.Errorf("ingest %s as %s: %w", in.path, in.feed, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return total, nil
}

// sinkSettings tune the ClickHouse sink.
type sinkSettings struct {
	group         string
	batchRows     int
	flushInterval time.Duration
}

func (s *sinkSettings) add(fs *flag.FlagSet) {
	s.group, s.batchRows, s.flushInterval = "contrail-sink", 100_000, time.Second
	fs.StringVar(&s.group, "sink-group", s.group, "Kafka consumer group of the ClickHouse sink")
	fs.Var(intValue{&s.batchRows, 1, 10_000_000}, "batch-rows", "flush a ClickHouse batch at this many rows")
	fs.Var(durationValue{&s.flushInterval}, "flush-interval", "flush a non-empty batch at least this often")
}

// sinkTopics are the topics the sink reads.
func sinkTopics(k kafkaSettings, feeds []string) []string {
	n := k.names()
	var t []string
	for _, f := range feeds {
		t = append(t, n.Raw(f))
	}
	return append(t, n.Rejected(), n.FlightEvents(), n.FlightState(), n.Outcomes(), n.AircraftState(), n.AircraftPositions())
}

// sinkRoutes routes the processors' output topics to their tables.
func sinkRoutes(n topics.Names) clickhouse.Topics {
	return clickhouse.Topics{Events: n.FlightEvents(), State: n.FlightState(), Outcomes: n.Outcomes(),
		Aircraft: n.AircraftState(), AircraftPositions: n.AircraftPositions()}
}

// startSinkClient builds the sink's consumer-group client.
func startSinkClient(ctx context.Context, k kafkaSettings, s sinkSettings, feeds []string, log *slog.Logger, st *stage) (*kgo.Client, error) {
	return connectKafka(ctx, k, "sink", log, st,
		kgo.ConsumerGroup(s.group),
		kgo.ConsumeTopics(sinkTopics(k, feeds)...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		// A sink killed without leaving its group (kill -9, OOM) holds its
		// partitions until its session expires; 10 s instead of franz-go's
		// 45 s lets a restarted sink resume quickly. Heartbeats go every 3 s.
		kgo.SessionTimeout(10*time.Second),
	)
}

func newWriter(conn *clickhouse.Conn, cl *kgo.Client, reg *schemas.Registry, k kafkaSettings, s sinkSettings, st *stage) (*clickhouse.Writer, error) {
	codec, err := k.registry.codec(reg)
	if err != nil {
		return nil, err
	}
	return clickhouse.NewWriter(conn, cl, reg, k.names().Rejected(),
		clickhouse.WriterOptions{BatchRows: s.batchRows, FlushInterval: s.flushInterval, Codec: codec,
			Topics: sinkRoutes(k.names()),
			Health: func(ok bool, reason string) {
				if ok {
					st.health.Ready("clickhouse-inserts")
				} else {
					st.health.NotReady("clickhouse-inserts", reason)
				}
			}},
		st.log.With("stage", "sink"), clickhouse.NewMetrics(st.reg)), nil
}

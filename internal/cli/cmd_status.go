package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

const statusSynopsis = `Usage: contrail status [flags]

Prints how far each stage is behind: the consumer lag per topic of the
processor steps (track, flight) and of the ClickHouse sink (records not yet
processed or written) and, with --clickhouse, how fresh each feed's rows in
raw_events are. --json prints the same as one JSON document. With --wait D
it polls until every stage has caught up (lag 0) and exits 0, or exits 1
after D.`

// statusReport is the --json document.
type statusReport struct {
	Time      time.Time        `json:"time"`
	SinkGroup string           `json:"sink_group"`
	SinkLag   map[string]int64 `json:"sink_lag"`
	// StageLag is the lag per topic of each processor step's group.
	StageLag  map[string]map[string]int64 `json:"stage_lag"`
	TotalLag  int64                       `json:"total_lag"`
	Freshness []clickhouse.FeedFreshness  `json:"freshness,omitempty"`
}

func statusCmd(ctx context.Context, env Env, args []string) error {
	var (
		o      obsSettings
		k      kafkaSettings
		c      chSettings
		p      processSettings
		group  = "contrail-sink"
		fd     = append([]string(nil), topics.DefaultFeeds...)
		asJSON bool
		wait   time.Duration
	)
	fs := newFlagSet("status", statusSynopsis, env, &o)
	k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	c.add(fs, "")
	fs.StringVar(&group, "sink-group", group, "consumer group of the ClickHouse sink")
	fs.StringVar(&p.groupPrefix, "process-group-prefix", "", "consumer groups of the processor steps are <prefix>-track and <prefix>-flight (default: the topic prefix)")
	fs.Var(&listValue{l: &fd}, "feeds", "feeds whose raw topics the sink reads")
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	fs.Var(durationValue{&wait}, "wait", "poll until the sink has caught up, for at most this long (0: report once)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	log, err := o.logger(env)
	if err != nil {
		return err
	}
	cl, err := connectKafka(ctx, k, "admin", log, nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	reader, err := kafka.Options(k.config(), "probe", log, nil)
	if err != nil {
		return &ConfigError{Err: err}
	}
	var conn *clickhouse.Conn
	if c.addr != "" {
		if conn, err = c.open(ctx, env, k.timeout, log); err != nil {
			return err
		}
		defer conn.Close()
	}
	deadline := time.Now().Add(wait)
	for {
		rep := statusReport{Time: time.Now().UTC(), SinkGroup: group, StageLag: map[string]map[string]int64{}}
		for step, ts := range processTopics(k, fd) {
			lag, err := kafka.TopicLag(ctx, adm, reader, p.group(k, step), ts...)
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				return &ConfigError{Err: fmt.Errorf("the topics of prefix %q do not exist on %v: run 'contrail topics' (or 'contrail run') first, or check --topic-prefix", k.prefix, k.brokers)}
			}
			if err != nil {
				return err
			}
			rep.StageLag[step] = lag
			for _, l := range lag {
				rep.TotalLag += l
			}
		}
		if rep.SinkLag, err = kafka.TopicLag(ctx, adm, reader, group, sinkTopics(k, fd)...); err != nil {
			return err
		}
		for _, l := range rep.SinkLag {
			rep.TotalLag += l
		}
		if conn != nil {
			if rep.Freshness, err = clickhouse.Freshness(ctx, conn); err != nil {
				return err
			}
		}
		if wait == 0 || rep.TotalLag == 0 || !time.Now().Before(deadline) {
			printStatus(env, rep, asJSON)
			if wait > 0 && rep.TotalLag > 0 {
				return fmt.Errorf("stages still %d records behind after --wait %s (see the lag per stage above)", rep.TotalLag, wait)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func printStatus(env Env, rep statusReport, asJSON bool) {
	if asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
		return
	}
	names := make([]string, 0, len(rep.SinkLag))
	for t := range rep.SinkLag {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, step := range []string{"track", "flight"} {
		var sum int64
		for _, l := range rep.StageLag[step] {
			sum += l
		}
		fmt.Fprintf(env.Stdout, "process %s: %d records behind\n", step, sum)
	}
	var sink int64
	for _, l := range rep.SinkLag {
		sink += l
	}
	fmt.Fprintf(env.Stdout, "sink (group %s): %d records behind\n", rep.SinkGroup, sink)
	for _, t := range names {
		fmt.Fprintf(env.Stdout, "  %-32s lag %d\n", t, rep.SinkLag[t])
	}
	if len(rep.Freshness) > 0 {
		fmt.Fprintln(env.Stdout, "raw_events freshness (age of the newest ingest time visible in ClickHouse):")
		for _, f := range rep.Freshness {
			fmt.Fprintf(env.Stdout, "  %-8s events %-10d newest ingest %s (%s ago), newest producer time %s\n",
				f.Feed, f.Events, f.LatestIngest.UTC().Format(time.RFC3339), rep.Time.Sub(f.LatestIngest).Round(time.Second),
				f.LatestProducer.UTC().Format(time.RFC3339))
		}
	}
}

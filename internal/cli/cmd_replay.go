package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

const replaySynopsis = `Usage: contrail replay --reprocess --to-prefix PREFIX [flags]

Re-derives the domain events, flight state and outcomes from the raw log
with this binary's parsers and processor steps (ARCHITECTURE.md §1: improving
a parser later and replaying the log recovers what earlier code ignored),
without touching the topics of --topic-prefix:

 1. creates the topics of --to-prefix (as 'contrail topics' would, with the
    partitions of the source's raw topics, which must match --partitions);
 2. copies the raw topic of every feed, and the ingest rejects of the
    rejected topic, from --topic-prefix to --to-prefix byte for byte (same
    partition, key, headers and timestamp; read_committed up to the last
    stable offsets now), so the new prefix is a complete log;
 3. runs the track and flight steps, the same code as 'contrail process',
    on --to-prefix with fresh consumer groups (default prefix
    <to-prefix>-reprocess-<unix time>), from offset 0, until both have
    caught up, printing progress.

Then point a sink at the new prefix (contrail sink --topic-prefix PREFIX
with another --clickhouse-database, or 'contrail sink rebuild --topic-prefix
PREFIX' to replace the views). Run it on an empty --to-prefix: a second run
into the same prefix copies the raw records again.`

func replayCmd(ctx context.Context, env Env, args []string) error {
	var (
		o         obsSettings
		k         kafkaSettings
		p         processSettings
		ts        topicSettings
		reprocess bool
		to        string
		every     = 2 * time.Second
	)
	fs := newFlagSet("replay", replaySynopsis, env, &o)
	o.addListen(fs)
	k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	p.add(fs)
	ts.add(fs)
	fs.BoolVar(&reprocess, "reprocess", false, "re-derive events and state from the raw log into --to-prefix (the only mode)")
	fs.StringVar(&to, "to-prefix", "", "topic prefix of the re-derived topics (required; must differ from --topic-prefix)")
	fs.Var(durationValue{&every}, "progress-every", "how often to print progress")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	switch {
	case !reprocess:
		return configErr("say --reprocess: re-deriving from the raw log is the only replay mode ('contrail ingest file' replays files)")
	case to == "" || to == k.prefix:
		return configErr("--to-prefix is required and must differ from --topic-prefix (%s)", k.prefix)
	case len(k.brokers) == 0:
		return configErr("--brokers is required (or CONTRAIL_BROKERS)")
	case every <= 0:
		return configErr("--progress-every must be positive")
	}
	st, err := newStage(ctx, env, &o)
	if err != nil {
		return err
	}
	defer st.close()
	admin, err := connectKafka(ctx, k, "admin", st.log, nil)
	if err != nil {
		return err
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	src := k.names()
	kt := k
	kt.prefix = to
	dst := kt.names()

	// The copy keeps partitions, so partition counts must agree.
	var srcTopics []string
	for _, f := range ts.feeds {
		srcTopics = append(srcTopics, src.Raw(f))
	}
	srcTopics = append(srcTopics, src.Rejected())
	td, err := adm.ListTopics(ctx, srcTopics...)
	if err != nil {
		return fmt.Errorf("describe source topics: %w", err)
	}
	for _, t := range srcTopics {
		d, ok := td[t]
		if !ok || d.Err != nil {
			return configErr("source topic %s does not exist (check --topic-prefix and --feeds)", t)
		}
		if n := len(d.Partitions); n != ts.partitions {
			return configErr("source topic %s has %d partitions, --partitions is %d: they must agree so the copy keeps each key in its partition", t, n, ts.partitions)
		}
	}
	res, err := topics.Ensure(ctx, adm, topics.Plan(ts.options(to)))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "topics of %s: %s\n", to, topics.Summary(res))

	copied, err := copyRaw(ctx, k, dst, srcTopics, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "copied %d raw and rejected records from %s to %s\n", copied, k.prefix, to)

	if p.groupPrefix == "" {
		p.groupPrefix = fmt.Sprintf("%s-reprocess-%d", to, time.Now().Unix())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	if err := startProcessors(gctx, g, kt, p, ts.feeds, adm, st); err != nil {
		return err
	}
	g.Go(func() error {
		defer cancel()
		reader, err := kafka.Options(kt.config(), "probe", st.log, nil)
		if err != nil {
			return err
		}
		pt := processTopics(kt, ts.feeds)
		start := time.Now()
		for _, step := range []string{"track", "flight"} {
			if !contains(p.steps, step) {
				continue
			}
			group := p.group(kt, step)
			err := kafka.WaitSettled(gctx, adm, reader, group, every, func(lag int64) {
				fmt.Fprintf(env.Stderr, "reprocess: %s step (group %s): %d records left, %s\n", step, group, lag, time.Since(start).Round(time.Second))
			}, pt[step]...)
			if err != nil {
				return err
			}
		}
		fmt.Fprintf(env.Stdout, "reprocessed %s into %s: events in %s, state in %s (groups %s-*)\n",
			k.prefix, to, dst.FlightEvents(), dst.FlightState(), p.groupPrefix)
		return nil
	})
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// copyRaw copies topics (read_committed, up to their last stable offsets
// now) to the same-named topics of dst, partition for partition. Processor
// rejects in the rejected topic are not copied: reprocessing makes its own.
func copyRaw(ctx context.Context, k kafkaSettings, dst topics.Names, srcTopics []string, st *stage) (int64, error) {
	adm, err := connectKafka(ctx, k, "copy-admin", st.log, nil)
	if err != nil {
		return 0, err
	}
	defer adm.Close()
	ends, err := kadm.NewClient(adm).ListCommittedOffsets(ctx, srcTopics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("list the last stable offsets of the raw topics: %w", err)
	}
	stop := map[string]map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if stop[o.Topic] == nil {
			stop[o.Topic] = map[int32]int64{}
		}
		stop[o.Topic][o.Partition] = o.Offset
	})
	target := map[string]string{k.names().Rejected(): dst.Rejected()}
	for _, t := range srcTopics {
		if _, ok := target[t]; !ok {
			target[t] = dst.Prefix + t[len(k.prefix):]
		}
	}
	prod, err := connectKafka(ctx, k, "copy", st.log, nil, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return 0, err
	}
	defer prod.Close()
	codec, err := k.registry.codec(schemas.MustRegistry())
	if err != nil {
		return 0, &ConfigError{Err: err}
	}
	var n int64
	var perr error
	err = readLog(ctx, k, st.log, stop, func(f kgo.Fetches) {
		var out []*kgo.Record
		f.EachRecord(func(r *kgo.Record) {
			if r.Topic == k.names().Rejected() {
				x := &schemas.Rejected{}
				if err := codec.Decode(ctx, r.Value, x); err == nil && x.Adapter == "processor" {
					return
				}
			}
			out = append(out, &kgo.Record{Topic: target[r.Topic], Partition: r.Partition, Key: r.Key, Value: r.Value,
				Headers: r.Headers, Timestamp: r.Timestamp})
		})
		if perr != nil || len(out) == 0 {
			return
		}
		if err := prod.ProduceSync(ctx, out...).FirstErr(); err != nil {
			perr = fmt.Errorf("copy to %s: %w", out[0].Topic, err)
			return
		}
		n += int64(len(out))
	})
	if err == nil {
		err = perr
	}
	return n, err
}

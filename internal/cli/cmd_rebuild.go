package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/telemetry"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

const rebuildSynopsis = `Usage: contrail sink rebuild [flags]

Rebuilds every ClickHouse table of the views from the Kafka log and swaps the
result in:

 1. creates the shadow database <db>_rebuild with the migrations' tables and
    materialized views (which there read and write the shadow's tables);
 2. consumes every sink topic from its start with a throwaway consumer group
    (<sink-group>-rebuild-<unix time>, deleted at the end) through the sink's
    own writer into the shadow, until it has caught up with the end offsets
    read at the start, printing progress every --progress-every;
 3. verifies: reads the log again up to the offsets the rebuild committed and
    counts the distinct rows each table must hold (by its deduplication key);
    prints them next to the shadow's and the current tables' counts and
    refuses to swap on any difference (exit 1, shadow kept for inspection)
    unless --force;
 4. swaps: on ClickHouse 18.x-20.x (and non-Atomic databases) one statement
    RENAME TABLE db.t TO old.t, <db>_rebuild.t TO db.t, ... over the tables
    that hold rows, which clients see as one change; the views of <db> stay
    and, naming their tables by name, read and write the new ones. On Atomic
    databases (21.x and later) EXCHANGE TABLES per table and materialized
    view. The replaced tables go to <db>_old_<UTC time> (dropped with
    --drop-old);
 5. catches up: records a running sink wrote into the old tables while the
    rebuild ran are written again, now into <db>, with the same throwaway
    group, up to the end offsets after the swap (the tables deduplicate them;
    outcomes_hourly, a sum, counts such records twice).

Queries keep working throughout. Run 'contrail migrate' first.`

// rebuildSettings are the flags of 'sink rebuild' beyond the sink's.
type rebuildSettings struct {
	force, dropOld bool
	every          time.Duration
}

func sinkRebuildCmd(ctx context.Context, env Env, args []string) error {
	var (
		o  obsSettings
		k  kafkaSettings
		c  chSettings
		s  sinkSettings
		r  = rebuildSettings{every: 2 * time.Second}
		fd = append([]string(nil), topics.DefaultFeeds...)
	)
	fs := newFlagSet("sink rebuild", rebuildSynopsis, env, &o)
	k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	c.add(fs, "127.0.0.1:9000")
	s.add(fs)
	fs.Var(&listValue{l: &fd}, "feeds", "feeds whose raw topics are read")
	fs.BoolVar(&r.force, "force", false, "swap even if the verification finds a difference")
	fs.BoolVar(&r.dropOld, "drop-old", false, "drop the replaced tables instead of keeping them in <db>_old_<time>")
	fs.Var(durationValue{&r.every}, "progress-every", "how often to print progress")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if len(k.brokers) == 0 {
		return configErr("--brokers is required (or CONTRAIL_BROKERS)")
	}
	if r.every <= 0 {
		return configErr("--progress-every must be positive")
	}
	log, err := o.logger(env)
	if err != nil {
		return err
	}
	conn, err := c.open(ctx, env, k.timeout, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	admin, err := connectKafka(ctx, k, "admin", log, nil)
	if err != nil {
		return err
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)

	now := time.Now().UTC()
	db := conn.Database
	shadow := clickhouse.ShadowDatabase(db)
	old := db + "_old_" + now.Format("20060102_150405")
	s.group = fmt.Sprintf("%s-rebuild-%d", s.group, now.Unix())
	tps := sinkTopics(k, fd)
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := adm.DeleteGroups(dctx, s.group); err != nil {
			log.Warn("delete the rebuild's consumer group", "group", s.group, "err", err)
		}
	}()
	rb := &rebuild{env: env, k: k, s: s, feeds: fd, topics: tps, adm: adm, log: log, every: r.every}

	fmt.Fprintf(env.Stderr, "rebuilding %s (ClickHouse %s, %s dialect) into %s from %d topics, group %s\n",
		db, conn.Version, conn.Dialect, shadow, len(tps), s.group)
	if err := clickhouse.CreateShadow(ctx, conn, shadow); err != nil {
		return err
	}
	if err := rb.consume(ctx, conn.In(shadow), "rebuild"); err != nil {
		return fmt.Errorf("rebuild into %s: %w (shadow database %s left for inspection; a new rebuild replaces it)", shadow, err, shadow)
	}
	expected, err := rb.expected(ctx, conn.Dialect)
	if err != nil {
		return err
	}
	rebuilt, err := clickhouse.DistinctCounts(ctx, conn, shadow)
	if err != nil {
		return err
	}
	current, err := clickhouse.DistinctCounts(ctx, conn, db)
	if err != nil {
		return err
	}
	checks, ok := clickhouse.Verify(expected, rebuilt, current)
	fmt.Fprintln(env.Stdout, "verification (distinct rows by each table's deduplication key):")
	clickhouse.FormatChecks(env.Stdout, checks)
	if !ok && !r.force {
		return fmt.Errorf("verification failed: the rebuilt tables do not hold what the log says (see the table); nothing was swapped, %s is left for inspection (--force swaps anyway)", shadow)
	}
	if !ok {
		fmt.Fprintln(env.Stdout, "verification failed; swapping anyway (--force)")
	}
	res, err := clickhouse.Swap(ctx, conn, shadow, old)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "swapped %d tables into %s (%s); replaced tables in %s\n", len(res.Tables), db, res.Method, res.OldDatabase)
	if err := rb.consume(ctx, conn, "catch-up"); err != nil {
		return fmt.Errorf("catch up %s after the swap: %w (the rebuilt tables are in place; run 'contrail sink' to continue)", db, err)
	}
	if r.dropOld {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+res.OldDatabase); err != nil {
			return fmt.Errorf("drop %s (--drop-old): %w", res.OldDatabase, err)
		}
		fmt.Fprintf(env.Stdout, "dropped %s (--drop-old)\n", res.OldDatabase)
	}
	fmt.Fprintf(env.Stdout, "rebuild of %s done\n", db)
	return nil
}

// rebuild is one run of 'sink rebuild'.
type rebuild struct {
	env    Env
	k      kafkaSettings
	s      sinkSettings
	feeds  []string
	topics []string
	adm    *kadm.Client
	log    *slog.Logger
	every  time.Duration
}

// consume runs a sink writer into conn's database with the rebuild's group
// until the group has caught up with the end offsets of the sink topics read
// now, printing progress.
func (rb *rebuild) consume(ctx context.Context, conn *clickhouse.Conn, phase string) error {
	log := rb.log
	st := &stage{log: log, reg: telemetry.NewRegistry(), health: telemetry.NewHealth()}
	starts, err := rb.adm.ListStartOffsets(ctx, rb.topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := rb.adm.ListEndOffsets(ctx, rb.topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("list end offsets: %w", err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		from := int64(0)
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok {
			from = s.Offset
		}
		total += o.Offset - from
	})
	cl, err := startSinkClient(ctx, rb.k, rb.s, rb.feeds, log, st)
	if err != nil {
		return err
	}
	defer cl.CloseAllowingRebalance()
	w, err := newWriter(conn, cl, schemas.MustRegistry(), rb.k, rb.s, st)
	if err != nil {
		return err
	}
	reader, err := kafka.Options(rb.k.config(), "probe", log, nil)
	if err != nil {
		return err
	}
	wctx, stopWriter := context.WithCancel(ctx)
	defer stopWriter()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(wctx) })
	start, last, lastRows := time.Now(), time.Now(), 0.0
	g.Go(func() error {
		defer stopWriter()
		err := kafka.WaitSettled(gctx, rb.adm, reader, rb.s.group, rb.every, func(lag int64) {
			rows := sinkRows(st.reg)
			el := time.Since(last).Seconds()
			rate := 0.0
			if el > 0 {
				rate = (rows - lastRows) / el
			}
			last, lastRows = time.Now(), rows
			fmt.Fprintf(rb.env.Stderr, "%s: %s\n", phase, progressLine(total, lag, rows, rate, time.Since(start)))
		}, rb.topics...)
		return err // after a writer error, errgroup reports the writer's
	})
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(rb.env.Stderr, "%s: caught up with the %d records at the end offsets read at its start; %.0f rows inserted in %s\n",
		phase, total, sinkRows(st.reg), time.Since(start).Round(time.Millisecond))
	return nil
}

// progressLine is one progress report: records done of total, rows
// inserted and their rate.
func progressLine(total, lag int64, rows, rate float64, elapsed time.Duration) string {
	done := max(total-lag, 0)
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	return fmt.Sprintf("%d/%d records (%.1f%% of the end offsets), %.0f rows inserted, %.0f rows/s, %s",
		done, total, pct, rows, rate, elapsed.Round(time.Second))
}

// sinkRows sums contrail_sink_rows_total over tables.
func sinkRows(g prometheus.Gatherer) float64 {
	mfs, err := g.Gather()
	if err != nil {
		return 0
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "contrail_sink_rows_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// expected reads the sink topics again, from their start up to the offsets
// the rebuild's group committed, and counts the distinct rows every table
// must hold.
func (rb *rebuild) expected(ctx context.Context, d clickhouse.Dialect) (map[string]uint64, error) {
	committed, err := rb.adm.FetchOffsetsForTopics(ctx, rb.s.group, rb.topics...)
	if err != nil {
		return nil, fmt.Errorf("fetch the offsets the rebuild committed: %w", err)
	}
	stop := map[string]map[int32]int64{}
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At > 0 {
			if stop[o.Topic] == nil {
				stop[o.Topic] = map[int32]int64{}
			}
			stop[o.Topic][o.Partition] = o.At
		}
	})
	reg := schemas.MustRegistry()
	codec, err := rb.k.registry.codec(reg)
	if err != nil {
		return nil, err
	}
	n := rb.k.names()
	kc := clickhouse.NewKeyCounter(reg, n.Rejected(), clickhouse.WriterOptions{Codec: codec,
		Topics: sinkRoutes(n)}, d)
	var records int64
	err = readLog(ctx, rb.k, rb.log, stop, func(f kgo.Fetches) {
		records += int64(f.NumRecords())
		kc.Add(ctx, f)
	})
	if err != nil {
		return nil, fmt.Errorf("read the log for verification: %w", err)
	}
	fmt.Fprintf(rb.env.Stderr, "verify: read %d records up to the rebuild's committed offsets\n", records)
	return kc.Counts(), nil
}

// readLog reads, read_committed, each partition of stop from its start up to
// (not including) its stop offset and hands every batch of data records to
// fn. A partition is done when the record just before its stop offset was
// read; control records (kept so that a partition ending in a transaction
// marker is seen to end) are not passed on.
func readLog(ctx context.Context, k kafkaSettings, log *slog.Logger, stop map[string]map[int32]int64, fn func(kgo.Fetches)) error {
	parts := map[string]map[int32]kgo.Offset{}
	left := 0
	for t, ps := range stop {
		for p, off := range ps {
			if off <= 0 {
				continue
			}
			if parts[t] == nil {
				parts[t] = map[int32]kgo.Offset{}
			}
			parts[t][p] = kgo.NewOffset().AtStart()
			left++
		}
	}
	if left == 0 {
		return nil
	}
	opts, err := kafka.Options(k.config(), "reader", log, nil)
	if err != nil {
		return &ConfigError{Err: err}
	}
	opts = append(opts, kgo.ConsumePartitions(parts), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return &ConfigError{Err: err}
	}
	defer cl.Close()
	done := map[string]map[int32]bool{}
	for left > 0 {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ferr error
		f.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && ferr == nil {
				ferr = fmt.Errorf("read %s/%d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		var keep []*kgo.Record
		f.EachRecord(func(r *kgo.Record) {
			end := stop[r.Topic][r.Partition]
			if r.Offset >= end || done[r.Topic][r.Partition] {
				return
			}
			if !r.Attrs.IsControl() {
				keep = append(keep, r)
			}
			if r.Offset >= end-1 {
				if done[r.Topic] == nil {
					done[r.Topic] = map[int32]bool{}
				}
				done[r.Topic][r.Partition] = true
				left--
				cl.PauseFetchPartitions(map[string][]int32{r.Topic: {r.Partition}})
			}
		})
		if len(keep) > 0 {
			fn(kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "", Partitions: []kgo.FetchPartition{{Records: keep}}}}}})
		}
	}
	return nil
}

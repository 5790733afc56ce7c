package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/schemas"
)

// Outcomes recorded in raw_events.outcome.
const (
	OutcomeAccepted = "accepted"
	OutcomeRejected = "rejected"
)

// WriterOptions tune the sink. Zero values take the defaults.
type WriterOptions struct {
	// BatchRows flushes once this many rows are buffered. Default 100000:
	// each INSERT costs an 18.16 server milliseconds whatever its size, so
	// large batches are far cheaper per row.
	BatchRows int
	// FlushInterval flushes a non-empty buffer at least this often, which
	// bounds how stale the views get. Default 1s.
	FlushInterval time.Duration
	// RetryBackoff is the first wait after a failed insert; it doubles up to
	// MaxBackoff. Defaults 250ms and 10s.
	RetryBackoff, MaxBackoff time.Duration
	// Codec, when set, decodes values in either framing (Confluent wire
	// format through its schema registry, or single-object). Nil decodes
	// single-object records with the writer's embedded schemas.
	Codec *schemas.Codec
	// Health, if set, is told when inserts start failing (with the reason)
	// and when they recover, so /readyz can report the outage.
	Health func(ok bool, reason string)
	// Topics routes the processors' output topics to their tables. Default:
	// no such topics, every topic but the rejected one carries envelopes.
	Topics Topics
}

// Topics names the processor output topics the writer routes to their own
// tables. A consumed topic named neither here nor as the rejected topic
// carries envelopes for raw_events. An empty name routes nothing.
type Topics struct {
	// Events carries DomainEvents (contrail.flights.events by default):
	// flight_events, and positions for POSITION_REPORTED.
	Events string
	// State carries FlightState snapshots (contrail.flights.state): flights.
	// A record with no value (a compaction tombstone) carries no state and
	// is skipped.
	State string
	// Outcomes carries Outcomes (contrail.outcomes): event_outcomes.
	Outcomes string
	// Aircraft carries AircraftState snapshots (contrail.aircraft.state):
	// aircraft. Tombstones are skipped.
	Aircraft string
	// AircraftPositions carries the track step's per-aircraft history as
	// TrackEvents (contrail.aircraft.positions): aircraft_positions.
	AircraftPositions string
}

// validate rejects a topic routed to two kinds of table.
func (t Topics) validate(rejected string) error {
	seen := map[string]string{}
	for _, n := range []struct{ kind, name string }{
		{"rejected", rejected}, {"events", t.Events}, {"state", t.State}, {"outcomes", t.Outcomes},
		{"aircraft", t.Aircraft}, {"aircraft positions", t.AircraftPositions},
	} {
		if n.name == "" {
			continue
		}
		if prev, ok := seen[n.name]; ok {
			return fmt.Errorf("sink topic %q is configured as both the %s and the %s topic", n.name, prev, n.kind)
		}
		seen[n.name] = n.kind
	}
	return nil
}

func (o WriterOptions) withDefaults() WriterOptions {
	if o.BatchRows <= 0 {
		o.BatchRows = 100_000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	return o
}

// Metrics are the sink's Prometheus metrics:
//
//	contrail_sink_rows_total{table}            rows inserted
//	contrail_sink_inserts_total{table,result}  INSERT attempts, result ok|error
//	contrail_sink_insert_seconds{table}        INSERT latency
//	contrail_sink_undecodable_total{topic}     records that decode with no known schema
//	contrail_sink_visible_seconds{feed,since}  freshness: producer/ingest/processed time to visible in ClickHouse
//	contrail_sink_refused_rows_total{table}    rows ClickHouse refused permanently, sent to the rejected topic
type Metrics struct {
	rows        *prometheus.CounterVec
	inserts     *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	undecodable *prometheus.CounterVec
	visible     *prometheus.HistogramVec
	refused     *prometheus.CounterVec
}

// NewMetrics registers the sink metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "contrail", Subsystem: "sink", Name: "rows_total",
			Help: "Rows inserted into ClickHouse, by table.",
		}, []string{"table"}),
		inserts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "contrail", Subsystem: "sink", Name: "inserts_total",
			Help: "ClickHouse INSERT attempts, by table and result.",
		}, []string{"table", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "contrail", Subsystem: "sink", Name: "insert_seconds",
			Help:    "ClickHouse INSERT latency, by table.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"table"}),
		undecodable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "contrail", Subsystem: "sink", Name: "undecodable_total",
			Help: "Records whose value matched no known schema; stored in raw_events with outcome rejected.",
		}, []string{"topic"}),
	}
	m.visible = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "contrail", Subsystem: "sink", Name: "visible_seconds",
		Help:    "Freshness: how long after a row's producer time (since=producer), ingest time (since=ingest) or processing time (since=processed, domain events) it became visible in ClickHouse, by feed.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600},
	}, []string{"feed", "since"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "contrail", Subsystem: "sink", Name: "refused_rows_total",
		Help: "Rows ClickHouse refused permanently (bad data), by table; each went to the rejected topic with the reason.",
	}, []string{"table"})
	reg.MustRegister(m.rows, m.inserts, m.latency, m.undecodable, m.visible, m.refused)
	return m
}

// Writer consumes the raw, rejected and processor output topics and writes
// raw_events, rejected, flight_events, positions, flights and event_outcomes.
// One polled batch may fill several tables; its offsets are committed only
// after ClickHouse acknowledged the INSERT of every one of them, so a crash
// replays at most the last batch, which the tables deduplicate.
//
// The client must be a consumer-group client built with
// kgo.DisableAutoCommit and kgo.BlockRebalanceOnPoll: the writer allows
// rebalances only between batches, so a revoked partition never has rows
// buffered here. A Writer is not safe for concurrent use; Run owns it.
type Writer struct {
	conn          *Conn
	client        *kgo.Client
	schemas       *schemas.Registry
	rejectedTopic string
	opts          WriterOptions
	log           *slog.Logger
	metrics       *Metrics
	tables        []*tableRows // insertion order; see newTables
	// fresh holds, for the rows of the current batch, the times the
	// freshness metrics measure from; observed once the batch is visible.
	fresh     []freshSample
	observers map[freshKey]prometheus.Observer
}

// freshSample is one row's start time for contrail_sink_visible_seconds.
type freshSample struct {
	key freshKey
	ts  time.Time
}

type freshKey struct{ feed, since string }

// sample remembers a row's time since which visibility is measured.
func (w *Writer) sample(feed, since string, ts time.Time) {
	if w.metrics != nil && !ts.IsZero() {
		w.fresh = append(w.fresh, freshSample{freshKey{feed, since}, ts})
	}
}

// observeFresh records, now that the batch's rows are visible, how long
// after each start time they became so.
func (w *Writer) observeFresh() {
	if w.metrics == nil {
		return
	}
	now := time.Now()
	for _, f := range w.fresh {
		o := w.observers[f.key]
		if o == nil {
			if w.observers == nil {
				w.observers = map[freshKey]prometheus.Observer{}
			}
			o = w.metrics.visible.WithLabelValues(f.key.feed, f.key.since)
			w.observers[f.key] = o
		}
		o.Observe(now.Sub(f.ts).Seconds())
	}
	w.fresh = w.fresh[:0]
}

// NewWriter builds a writer. rejectedTopic names the topic whose records are
// Rejected; opts.Topics names the processor output topics; all others carry
// Envelopes. metrics may be nil.
func NewWriter(conn *Conn, client *kgo.Client, reg *schemas.Registry, rejectedTopic string, opts WriterOptions, log *slog.Logger, metrics *Metrics) *Writer {
	return &Writer{conn: conn, client: client, schemas: reg, rejectedTopic: rejectedTopic,
		opts: opts.withDefaults(), log: log, metrics: metrics, tables: newTables()}
}

// rows is the number of rows buffered over all tables.
func (w *Writer) rows() int {
	n := 0
	for _, t := range w.tables {
		n += len(t.rows)
	}
	return n
}

// Run consumes until ctx ends, then flushes and commits what it holds.
func (w *Writer) Run(ctx context.Context) error {
	if err := w.opts.Topics.validate(w.rejectedTopic); err != nil {
		return err
	}
	lastFlush := time.Now()
	for {
		wait := w.opts.FlushInterval - time.Since(lastFlush)
		if w.rows() == 0 {
			wait = w.opts.FlushInterval
		}
		pctx, cancel := context.WithTimeout(ctx, max(wait, time.Millisecond))
		fetches := w.client.PollRecords(pctx, max(w.opts.BatchRows-w.rows(), 1))
		cancel()
		if ctx.Err() != nil {
			// Graceful stop: keep what was polled, flush with a fresh deadline.
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer scancel()
			w.add(sctx, fetches)
			if err := w.flush(sctx); err != nil {
				return fmt.Errorf("final flush on shutdown: %w", err)
			}
			return nil
		}
		if fetches.IsClientClosed() {
			return errors.New("kafka client closed while the sink was running")
		}
		var fatal error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			w.log.Warn("fetch error", "topic", t, "partition", p, "err", err)
			if (t == "" && p == -1) || isAuthError(err) {
				fatal = err // client-level errors such as failed authentication
			}
		})
		if fatal != nil {
			return fmt.Errorf("consume from Kafka: %w", fatal)
		}
		w.add(ctx, fetches)
		if w.rows() == 0 {
			// Nothing to insert (or only skipped tombstones): their offsets
			// are safe to commit with the next batch.
			w.client.AllowRebalance()
			lastFlush = time.Now()
			continue
		}
		if w.rows() >= w.opts.BatchRows || time.Since(lastFlush) >= w.opts.FlushInterval {
			if err := w.flush(ctx); err != nil {
				if ctx.Err() != nil {
					continue // the shutdown branch above retries the flush
				}
				return err
			}
			lastFlush = time.Now()
		}
	}
}

// isAuthError reports a rejected SASL login or a connection the broker closed
// on its first response (TLS or SASL mismatch): retrying cannot help.
func isAuthError(err error) bool {
	_, eof := errors.AsType[*kgo.ErrFirstReadEOF](err)
	return eof || errors.Is(err, kerr.SaslAuthenticationFailed)
}

// decode decodes v with the Codec or the embedded schemas. A registry error
// other than an unknown schema (the registry unreachable, say) is retried a
// few times before the record is judged undecodable, so a registry blip does
// not turn good records into rejects.
func (w *Writer) decode(ctx context.Context, b []byte, v schemas.Value) error {
	if w.opts.Codec == nil {
		return w.schemas.Decode(b, v)
	}
	backoff := w.opts.RetryBackoff
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = w.opts.Codec.Decode(ctx, b, v); err == nil || errors.Is(err, schemas.ErrUnknownSchema) || errors.Is(err, schemas.ErrFraming) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, w.opts.MaxBackoff)
	}
	return err
}

// flush inserts every table's buffer, retrying with backoff until all are
// acknowledged or ctx ends, then commits the offsets of everything polled and
// allows rebalancing. A table already acknowledged is not sent again on a
// retry, so materialized views over it do not count its rows twice. An outage
// is logged once when it starts and once when it ends.
func (w *Writer) flush(ctx context.Context) error {
	if w.rows() == 0 {
		return nil
	}
	backoff := w.opts.RetryBackoff
	var failingSince time.Time
	for attempt := 1; ; attempt++ {
		err := w.insertAll(ctx)
		if err == nil {
			if !failingSince.IsZero() {
				w.log.Info("ClickHouse inserts recovered", "after", time.Since(failingSince).Round(time.Millisecond), "attempts", attempt)
				if w.opts.Health != nil {
					w.opts.Health(true, "")
				}
			}
			break
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
			w.log.Error("ClickHouse insert failed; retrying with backoff until it succeeds", "rows", w.rows(), "err", err)
			if w.opts.Health != nil {
				w.opts.Health(false, "ClickHouse inserts failing: "+err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, w.opts.MaxBackoff)
	}
	if err := w.client.CommitUncommittedOffsets(ctx); err != nil {
		// The rows are in ClickHouse; a failed commit only means a replay
		// after restart, which the tables deduplicate.
		w.log.Warn("commit offsets after insert failed; rows will be replayed and deduplicated", "err", err)
	}
	w.observeFresh()
	for _, t := range w.tables {
		t.reset()
	}
	w.client.AllowRebalance()
	return nil
}

// insertAll inserts every chunk of every table not yet acknowledged in this
// flush, up to insertParallelism at a time. A chunk acknowledged is never
// sent again on a retry, so materialized views over its table do not count
// its rows twice.
func (w *Writer) insertAll(ctx context.Context) error {
	type job struct {
		t    *tableRows
		i    int
		rows [][]any
	}
	var jobs []job
	for _, t := range w.tables {
		if len(t.rows) == 0 {
			continue
		}
		for i, c := range t.chunks(insertParallelism) {
			if !t.sent[i] {
				jobs = append(jobs, job{t, i, c})
			}
		}
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, insertParallelism)
	)
	for _, jb := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := w.insert(ctx, jb.t, jb.rows)
			if err != nil && permanent(err) {
				err = w.isolate(ctx, jb.t, jb.rows, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				jb.t.sent[jb.i] = true
			} else if first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return first
}

// insertParallelism is how many INSERTs one flush runs at once.
const insertParallelism = 2

func (w *Writer) insert(ctx context.Context, t *tableRows, rows [][]any) error {
	start := time.Now()
	table := w.conn.Database + "." + t.name
	batch, err := w.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+t.columns+")")
	if err != nil {
		w.count(t.name, "error", start)
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer batch.Close()
	for i, r := range rows {
		if err := batch.Append(r...); err != nil {
			w.count(t.name, "error", start)
			return fmt.Errorf("append row %d (%v) to batch for %s: %w", i, r[0], table, &rowError{i, err})
		}
	}
	if err := batch.Send(); err != nil {
		w.count(t.name, "error", start)
		return fmt.Errorf("insert %d rows into %s: %w", len(rows), table, err)
	}
	w.count(t.name, "ok", start)
	if w.metrics != nil {
		w.metrics.rows.WithLabelValues(t.name).Add(float64(len(rows)))
	}
	return nil
}

func (w *Writer) count(table, result string, start time.Time) {
	if w.metrics == nil {
		return
	}
	w.metrics.inserts.WithLabelValues(table, result).Inc()
	if result == "ok" {
		w.metrics.latency.WithLabelValues(table).Observe(time.Since(start).Seconds())
	}
}

// Range of the timestamp column types. clickhouse-go wraps values outside
// them silently, so the writer clamps instead; the exact instant is kept in
// producer_ts_ms.
var (
	minDateTime   = time.Unix(0, 0).UTC()
	maxDateTime   = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
	minDateTime64 = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDateTime64 = time.Date(2262, 4, 11, 23, 47, 16, 0, time.UTC)
)

func (w *Writer) clamp(t time.Time) time.Time {
	lo, hi := minDateTime, maxDateTime
	if w.conn.Dialect == Modern {
		lo, hi = minDateTime64, maxDateTime64
	}
	switch {
	case t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t.UTC()
}

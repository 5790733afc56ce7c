package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// rawEventsColumns is the explicit column list of every raw_events INSERT
// (ClickHouse 18.16 needs it for native batches).
const rawEventsColumns = "event_id, feed, format, format_version, key, producer_ts, producer_ts_ms, producer_ts_source, ingest_ts, adapter, origin, raw, outcome, reason_code, reason, topic, partition, offset"

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
type Metrics struct {
	rows        *prometheus.CounterVec
	inserts     *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	undecodable *prometheus.CounterVec
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
	reg.MustRegister(m.rows, m.inserts, m.latency, m.undecodable)
	return m
}

// Writer consumes the raw and rejected topics and writes raw_events. It
// commits a batch's offsets only after ClickHouse acknowledged the INSERT, so a
// crash replays at most the last batch, which the table deduplicates.
//
// The client must be a consumer-group client built with
// kgo.DisableAutoCommit and kgo.BlockRebalanceOnPoll: the writer allows
// rebalances only between batches, so a revoked partition never has rows
// buffered here.
type Writer struct {
	conn          *Conn
	client        *kgo.Client
	schemas       *schemas.Registry
	rejectedTopic string
	opts          WriterOptions
	log           *slog.Logger
	metrics       *Metrics
	buf           []row
}

// NewWriter builds a writer. rejectedTopic names the topic whose records are
// Rejected (all others carry Envelopes). metrics may be nil.
func NewWriter(conn *Conn, client *kgo.Client, reg *schemas.Registry, rejectedTopic string, opts WriterOptions, log *slog.Logger, metrics *Metrics) *Writer {
	return &Writer{conn: conn, client: client, schemas: reg, rejectedTopic: rejectedTopic,
		opts: opts.withDefaults(), log: log, metrics: metrics}
}

type row struct {
	eventID, feed, format, formatVersion, key string
	producerTS                                time.Time
	producerSrc                               string
	ingestTS                                  time.Time
	adapter, origin                           string
	raw                                       []byte
	outcome, reasonCode, reason, topic        string
	partition                                 uint32
	offset                                    uint64
}

// Run consumes until ctx ends, then flushes and commits what it holds.
func (w *Writer) Run(ctx context.Context) error {
	lastFlush := time.Now()
	for {
		wait := w.opts.FlushInterval - time.Since(lastFlush)
		if len(w.buf) == 0 {
			wait = w.opts.FlushInterval
		}
		pctx, cancel := context.WithTimeout(ctx, max(wait, time.Millisecond))
		fetches := w.client.PollRecords(pctx, w.opts.BatchRows-len(w.buf))
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
		if len(w.buf) == 0 {
			w.client.AllowRebalance()
			lastFlush = time.Now()
			continue
		}
		if len(w.buf) >= w.opts.BatchRows || time.Since(lastFlush) >= w.opts.FlushInterval {
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

func (w *Writer) add(ctx context.Context, fetches kgo.Fetches) {
	fetches.EachRecord(func(r *kgo.Record) {
		w.buf = append(w.buf, w.toRow(ctx, r))
	})
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

// toRow never fails: a record no schema decodes is still stored, as a
// rejected row with the undecodable bytes, so nothing is dropped silently.
func (w *Writer) toRow(ctx context.Context, r *kgo.Record) row {
	base := row{topic: r.Topic, partition: uint32(r.Partition), offset: uint64(r.Offset)}
	if r.Topic == w.rejectedTopic {
		x := &schemas.Rejected{}
		err := w.decode(ctx, r.Value, x)
		if err == nil {
			base.eventID, base.feed, base.adapter, base.origin, base.raw = x.ID, x.Feed, x.Adapter, x.Origin, x.Raw
			base.producerTS, base.ingestTS, base.producerSrc = x.IngestTS, x.IngestTS, string(schemas.FromReceipt)
			base.outcome, base.reasonCode, base.reason = OutcomeRejected, x.ReasonCode, x.Reason
			return base
		}
		return w.undecodable(base, r, err)
	}
	e := &schemas.Envelope{}
	if err := w.decode(ctx, r.Value, e); err != nil {
		return w.undecodable(base, r, err)
	}
	base.eventID, base.feed, base.format, base.formatVersion, base.key = e.ID, e.Feed, e.Format, e.FormatVersion, e.Key
	base.producerTS, base.producerSrc, base.ingestTS = e.ProducerTS, string(e.ProducerTSSource), e.IngestTS
	base.adapter, base.origin, base.raw, base.outcome = e.Adapter, e.Origin, e.Raw, OutcomeAccepted
	return base
}

func (w *Writer) undecodable(base row, r *kgo.Record, err error) row {
	if w.metrics != nil {
		w.metrics.undecodable.WithLabelValues(r.Topic).Inc()
	}
	w.log.Warn("record matches no known schema; stored as rejected", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
	base.eventID = fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset)
	base.origin = fmt.Sprintf("kafka:%s/%d/%d", r.Topic, r.Partition, r.Offset)
	base.raw = r.Value
	base.producerTS, base.ingestTS, base.producerSrc = r.Timestamp, r.Timestamp, string(schemas.FromRecord)
	base.outcome, base.reasonCode, base.reason = OutcomeRejected, "sink.undecodable", err.Error()
	return base
}

// flush inserts the buffer, retrying with backoff until it succeeds or ctx
// ends, then commits the offsets of everything polled and allows rebalancing.
// An outage is logged once when it starts and once when it ends.
func (w *Writer) flush(ctx context.Context) error {
	if len(w.buf) == 0 {
		return nil
	}
	backoff := w.opts.RetryBackoff
	var failingSince time.Time
	for attempt := 1; ; attempt++ {
		err := w.insert(ctx)
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
			w.log.Error("ClickHouse insert failed; retrying with backoff until it succeeds", "rows", len(w.buf), "err", err)
			if w.opts.Health != nil {
				w.opts.Health(false, "ClickHouse inserts failing: "+err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("insert %d rows into %s.raw_events: %w (gave up: %v)", len(w.buf), w.conn.Database, err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, w.opts.MaxBackoff)
	}
	if err := w.client.CommitUncommittedOffsets(ctx); err != nil {
		// The rows are in ClickHouse; a failed commit only means a replay
		// after restart, which the table deduplicates.
		w.log.Warn("commit offsets after insert failed; rows will be replayed and deduplicated", "err", err)
	}
	w.buf = w.buf[:0]
	w.client.AllowRebalance()
	return nil
}

func (w *Writer) insert(ctx context.Context) error {
	start := time.Now()
	batch, err := w.conn.PrepareBatch(ctx, "INSERT INTO "+w.conn.Database+".raw_events ("+rawEventsColumns+")")
	if err != nil {
		w.count("error", start)
		return fmt.Errorf("prepare insert into %s.raw_events: %w", w.conn.Database, err)
	}
	defer batch.Close()
	for _, r := range w.buf {
		if err := batch.Append(r.eventID, r.feed, r.format, r.formatVersion, r.key,
			w.clamp(r.producerTS), r.producerTS.UnixMilli(), r.producerSrc, w.clamp(r.ingestTS),
			r.adapter, r.origin, string(r.raw), r.outcome, r.reasonCode, r.reason,
			r.topic, r.partition, r.offset); err != nil {
			w.count("error", start)
			return fmt.Errorf("append row %s to batch: %w", r.eventID, err)
		}
	}
	if err := batch.Send(); err != nil {
		w.count("error", start)
		return fmt.Errorf("send batch of %d rows to %s.raw_events: %w", len(w.buf), w.conn.Database, err)
	}
	w.count("ok", start)
	if w.metrics != nil {
		w.metrics.rows.WithLabelValues("raw_events").Add(float64(len(w.buf)))
	}
	return nil
}

func (w *Writer) count(result string, start time.Time) {
	if w.metrics == nil {
		return
	}
	w.metrics.inserts.WithLabelValues("raw_events", result).Inc()
	if result == "ok" {
		w.metrics.latency.WithLabelValues("raw_events").Observe(time.Since(start).Seconds())
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

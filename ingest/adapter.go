package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

// Source yields records until io.EOF. Next must honour ctx.
type Source interface {
	Next(ctx context.Context) (Record, error)
}

// progressReporter is implemented by sources that know how far they are,
// such as files; the adapter logs percent done for them.
type progressReporter interface {
	Progress() (done, total int64)
}

// Metrics are the ingest metrics:
//
//	contrail_ingest_records_total{feed,outcome}          records acked by Kafka, outcome accepted|rejected
//	contrail_ingest_bytes_total{feed}                     raw bytes read
//	contrail_ingest_connections{feed,transport}           open feed connections, transport tcp|listen
//	contrail_ingest_connection_losses_total{feed,transport} connections that ended (the TCP client re-dials)
//	contrail_ingest_http_requests_total{feed,code}        HTTP ingest requests by status code
//	contrail_ingest_landing_commits_total{feed}           landing-topic offset commits after the envelopes were acked
type Metrics struct {
	records  *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	conns    *prometheus.GaugeVec
	losses   *prometheus.CounterVec
	requests *prometheus.CounterVec
	commits  *prometheus.CounterVec
}

// NewMetrics registers the ingest metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "contrail", Subsystem: "ingest", Name: "records_total",
			Help: "Input records acknowledged by Kafka, by feed and outcome (accepted to the raw topic, rejected to the rejected topic).",
		}, []string{"feed", "outcome"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "contrail", Subsystem: "ingest", Name: "bytes_total",
			Help: "Raw bytes read from sources, by feed.",
		}, []string{"feed"}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "contrail", Subsystem: "ingest", Name: "connections",
			Help: "Open feed connections, by feed and transport (tcp: the TCP client, listen: producers connected to the TCP listener).",
		}, []string{"feed", "transport"}),
		losses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "contrail", Subsystem: "ingest", Name: "connection_losses_total",
			Help: "Feed connections that ended, by feed and transport; the TCP client re-dials after each.",
		}, []string{"feed", "transport"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "contrail", Subsystem: "ingest", Name: "http_requests_total",
			Help: "HTTP ingest requests, by feed (empty when unknown) and status code.",
		}, []string{"feed", "code"}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "contrail", Subsystem: "ingest", Name: "landing_commits_total",
			Help: "Offset commits on a landing topic, each after every envelope of the polled records was acknowledged.",
		}, []string{"feed"}),
	}
	reg.MustRegister(m.records, m.bytes, m.conns, m.losses, m.requests, m.commits)
	return m
}

// Adapter turns records of one feed into envelopes on the raw topic. Its
// fields are set before the first Run or IngestBatch and not changed after;
// IngestBatch may then be called from many goroutines at once (the HTTP
// transport does), Run from one.
type Adapter struct {
	Feed    Feed
	Client  *kgo.Client
	Topics  topics.Names
	Schemas *schemas.Registry
	// Codec, when set, frames the values: with a schema registry it writes
	// the Confluent wire format. Nil writes Avro single-object encoding with
	// Schemas.
	Codec    *schemas.Codec
	Instance string // adapter instance name recorded in envelopes
	Log      *slog.Logger
	Metrics  *Metrics // may be nil
	// ProgressEvery is how often a long run logs its progress. Default 5s.
	ProgressEvery time.Duration
	// Pacer, when not nil, makes Run hold each record until its producer
	// timestamp is due (file replay at recorded speed); nil produces as
	// fast as Kafka takes the records.
	Pacer *Pacer

	// lastReceiptMS is the newest receipt stamp given (Unix ms): see
	// receiptStamp.
	lastReceiptMS atomic.Int64
}

// receiptStamp is the producer timestamp of a record that carries none: its
// receipt time, but strictly after the previous such stamp of this adapter,
// at the envelope's millisecond resolution. Records read in the same
// millisecond would otherwise tie and be ordered by event id, a hash, so
// the current state of such a feed would not be the last record received.
// A burst of more than a thousand records a second runs ahead of the clock
// by at most the burst's length over a thousand seconds.
func (a *Adapter) receiptStamp(t time.Time) time.Time {
	ms := t.UnixMilli()
	for {
		last := a.lastReceiptMS.Load()
		next := max(ms, last+1)
		if a.lastReceiptMS.CompareAndSwap(last, next) {
			return time.UnixMilli(next).UTC()
		}
	}
}

// Stats count one run. Read == Accepted + Rejected once Run returns nil.
type Stats struct {
	Read, Accepted, Rejected int64
}

// Add sums two counts.
func (s Stats) Add(o Stats) Stats {
	return Stats{Read: s.Read + o.Read, Accepted: s.Accepted + o.Accepted, Rejected: s.Rejected + o.Rejected}
}

// Result is what became of one record: an envelope on the raw topic, or a
// rejected record with its reason.
type Result struct {
	Origin  string
	EventID string
	// Key and the producer timestamp with its source are set for accepted
	// records.
	Key        string
	ProducerTS time.Time
	TSSource   schemas.TimestampSource
	Rejected   bool
	ReasonCode string // machine-readable, e.g. sbs.field_count; rejected only
	Reason     string // human-readable; rejected only
	// Err is set when Kafka did not acknowledge the record.
	Err error
}

// Run ingests src until it ends or ctx is cancelled. It returns only after
// every record it produced is acknowledged (or failed): on cancellation it
// stops reading, then flushes what it already handed to the client, so a
// SIGTERM loses nothing that was counted as read. A source may go on
// returning records after ctx is cancelled (what it had read from a socket
// before closing it); Run produces them too, until the source returns an
// error.
//
// Back-pressure comes from the client: Produce blocks once the client's
// buffer (kgo.MaxBufferedRecords) is full, which stops reading the source.
func (a *Adapter) Run(ctx context.Context, src Source) (Stats, error) {
	var (
		st       Stats
		accepted atomic.Int64
		rejected atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	// produceCtx outlives ctx: records already read are still delivered
	// after a cancellation, within the flush below.
	produceCtx, stopProduce := context.WithCancel(context.WithoutCancel(ctx))
	defer stopProduce()
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; stopProduce() })
	}
	every := a.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	start := time.Now()
	lastLog, lastRead := start, int64(0)

	var readErr error
	for produceCtx.Err() == nil {
		rec, err := src.Next(ctx)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) {
				readErr = err
			}
			break
		}
		st.Read++
		a.countRead(rec)
		kr, res, err := a.build(produceCtx, rec)
		if err != nil {
			fail(err)
			break
		}
		if a.Pacer != nil && res.TSSource != schemas.FromReceipt {
			// A cancelled wait still produces the record: it was read.
			_ = a.Pacer.Wait(ctx, res.ProducerTS)
		}
		counter := &accepted
		if res.Rejected {
			counter = &rejected
		}
		a.produce(produceCtx, kr, res.Rejected, func(err error) {
			if err != nil {
				fail(fmt.Errorf("produce %s record from %s to %s: %w", a.Feed.Name, rec.Origin, kr.Topic, err))
				return
			}
			counter.Add(1)
		})
		if now := time.Now(); now.Sub(lastLog) >= every {
			a.logProgress(src, st.Read, lastRead, now.Sub(lastLog))
			lastLog, lastRead = now, st.Read
		}
	}
	flushCtx, cancel := context.WithTimeout(produceCtx, 30*time.Second)
	defer cancel()
	if err := a.Client.Flush(flushCtx); err != nil {
		fail(fmt.Errorf("flush %s records to Kafka: %w", a.Feed.Name, err))
	}
	st.Accepted, st.Rejected = accepted.Load(), rejected.Load()
	if firstErr != nil {
		return st, firstErr
	}
	if readErr != nil {
		return st, readErr
	}
	a.Log.Info("ingest finished", "feed", a.Feed.Name, "read", st.Read, "accepted", st.Accepted,
		"rejected", st.Rejected, "elapsed", time.Since(start).Round(time.Millisecond))
	return st, nil
}

// IngestBatch produces recs, envelopes and rejects alike, and returns once
// Kafka has acknowledged every one of them or failed it. The results are in
// the order of recs. The error is the first failure; the records acknowledged
// before it stay on Kafka (their event ids let a retried batch be
// deduplicated downstream). ctx bounds the wait for buffer space when Kafka
// is slow: a record that cannot be handed to the client in time fails.
//
// IngestBatch is safe for concurrent use; it waits only for its own records,
// not for the client's whole buffer.
func (a *Adapter) IngestBatch(ctx context.Context, recs []Record) (Stats, []Result, error) {
	var (
		st       = Stats{Read: int64(len(recs))}
		results  = make([]Result, len(recs))
		accepted atomic.Int64
		rejected atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	for i, rec := range recs {
		a.countRead(rec)
		kr, res, err := a.build(ctx, rec)
		if err != nil {
			for j := i; j < len(recs); j++ {
				results[j] = Result{Origin: recs[j].Origin, Err: err}
			}
			fail(err)
			break
		}
		results[i] = res
		wg.Add(1)
		a.produce(ctx, kr, res.Rejected, func(err error) {
			defer wg.Done()
			if err != nil {
				err = fmt.Errorf("produce %s record from %s to %s: %w", a.Feed.Name, rec.Origin, kr.Topic, err)
				results[i].Err = err
				fail(err)
				return
			}
			if res.Rejected {
				rejected.Add(1)
			} else {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	st.Accepted, st.Rejected = accepted.Load(), rejected.Load()
	return st, results, firstErr
}

func (a *Adapter) countRead(rec Record) {
	if a.Metrics != nil {
		a.Metrics.bytes.WithLabelValues(a.Feed.Name).Add(float64(len(rec.Raw)))
	}
}

// produce hands kr to the client, blocking while its buffer is full; done
// runs once Kafka acknowledged the record or it failed.
func (a *Adapter) produce(ctx context.Context, kr *kgo.Record, rejected bool, done func(error)) {
	outcome := "accepted"
	if rejected {
		outcome = "rejected"
	}
	a.Client.Produce(ctx, kr, func(_ *kgo.Record, err error) {
		if err == nil && a.Metrics != nil {
			a.Metrics.records.WithLabelValues(a.Feed.Name, outcome).Inc()
		}
		done(err)
	})
}

func (a *Adapter) logProgress(src Source, read, lastRead int64, dt time.Duration) {
	attrs := []any{"feed", a.Feed.Name, "read", read,
		"records_per_s", int64(float64(read-lastRead) / dt.Seconds())}
	if p, ok := src.(progressReporter); ok {
		if done, total := p.Progress(); total > 0 {
			attrs = append(attrs, "done_pct", fmt.Sprintf("%.1f", 100*float64(done)/float64(total)))
		}
	}
	a.Log.Info("ingest progress", attrs...)
}

// build makes the Kafka record for rec: an envelope on the raw topic, or a
// rejected record with the reason. Every transport goes through it, so a
// record is judged the same however it arrived. The error is an encoding
// failure, a bug rather than bad input.
func (a *Adapter) build(ctx context.Context, rec Record) (*kgo.Record, Result, error) {
	ident := rec.Identity
	if ident == "" {
		ident = rec.Origin
	}
	res := Result{Origin: rec.Origin, EventID: schemas.EventID(a.Feed.Name, ident, rec.Raw)}
	switch {
	case rec.RejectCode != "":
		return a.reject(ctx, rec, res, rec.RejectCode, rec.RejectReason)
	case rec.Oversize:
		return a.reject(ctx, rec, res, "ingest.oversize", fmt.Sprintf("record longer than %d bytes; first %d bytes kept", MaxRecordBytes, len(rec.Raw)))
	}
	key, ts, err := a.Feed.Check(rec.Raw)
	if err != nil {
		return a.reject(ctx, rec, res, reasonCode(err), err.Error())
	}
	src := schemas.FromPayload
	switch {
	case !ts.IsZero():
	case !rec.RecordTS.IsZero():
		ts, src = rec.RecordTS, schemas.FromRecord
	default:
		ts, src = a.receiptStamp(rec.Received), schemas.FromReceipt
	}
	res.Key, res.ProducerTS, res.TSSource = key, ts, src
	topic := a.Topics.Raw(a.Feed.Name)
	val, err := a.encode(ctx, topic, &schemas.Envelope{
		ID: res.EventID, Feed: a.Feed.Name, Format: a.Feed.Format, FormatVersion: a.Feed.FormatVersion,
		Key: key, ProducerTS: ts, ProducerTSSource: src, IngestTS: rec.Received,
		Adapter: a.Instance, Origin: rec.Origin, Raw: rec.Raw,
	})
	if err != nil {
		return nil, res, fmt.Errorf("encode %s envelope from %s: %w", a.Feed.Name, rec.Origin, err)
	}
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: val}, res, nil
}

// encode frames v for topic with the Codec, or single-object without one.
func (a *Adapter) encode(ctx context.Context, topic string, v schemas.Value) ([]byte, error) {
	if a.Codec != nil {
		return a.Codec.Encode(ctx, nil, topic, v)
	}
	return a.Schemas.Encode(nil, v)
}

func (a *Adapter) reject(ctx context.Context, rec Record, res Result, code, reason string) (*kgo.Record, Result, error) {
	res.Rejected, res.ReasonCode, res.Reason = true, code, reason
	val, err := a.encode(ctx, a.Topics.Rejected(), &schemas.Rejected{
		ID: res.EventID, Feed: a.Feed.Name, ReasonCode: code, Reason: reason,
		IngestTS: rec.Received, Adapter: a.Instance, Origin: rec.Origin, Raw: rec.Raw,
	})
	if err != nil {
		return nil, res, fmt.Errorf("encode %s rejected record from %s: %w", a.Feed.Name, rec.Origin, err)
	}
	return &kgo.Record{Topic: a.Topics.Rejected(), Key: []byte(a.Feed.Name), Value: val}, res, nil
}

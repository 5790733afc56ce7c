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

// Metrics are the adapter's Prometheus metrics:
//
//	contrail_ingest_records_total{feed,outcome}  records acked by Kafka, outcome accepted|rejected
//	contrail_ingest_bytes_total{feed}             raw bytes read
type Metrics struct {
	records *prometheus.CounterVec
	bytes   *prometheus.CounterVec
}

// NewMetrics registers the adapter metrics on reg.
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
	}
	reg.MustRegister(m.records, m.bytes)
	return m
}

// Adapter turns records of one feed into envelopes on the raw topic.
type Adapter struct {
	Feed     Feed
	Client   *kgo.Client
	Topics   topics.Names
	Schemas  *schemas.Registry
	Instance string // adapter instance name recorded in envelopes
	Log      *slog.Logger
	Metrics  *Metrics // may be nil
	// ProgressEvery is how often a long run logs its progress. Default 5s.
	ProgressEvery time.Duration
}

// Stats count one run. Read == Accepted + Rejected once Run returns nil.
type Stats struct {
	Read, Accepted, Rejected int64
}

// Run ingests src until it ends or ctx is cancelled. It returns only after
// every record it produced is acknowledged (or failed): on cancellation it
// stops reading, then flushes what it already handed to the client, so a
// SIGTERM loses nothing that was counted as read.
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
		if a.Metrics != nil {
			a.Metrics.bytes.WithLabelValues(a.Feed.Name).Add(float64(len(rec.Raw)))
		}
		kr, isReject, err := a.record(rec)
		if err != nil {
			fail(err)
			break
		}
		counter, outcome := &accepted, "accepted"
		if isReject {
			counter, outcome = &rejected, "rejected"
		}
		a.Client.Produce(produceCtx, kr, func(r *kgo.Record, err error) {
			if err != nil {
				fail(fmt.Errorf("produce %s record from %s to %s: %w", a.Feed.Name, rec.Origin, r.Topic, err))
				return
			}
			counter.Add(1)
			if a.Metrics != nil {
				a.Metrics.records.WithLabelValues(a.Feed.Name, outcome).Inc()
			}
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

// record builds the Kafka record for rec: an envelope on the raw topic, or a
// rejected record with the reason.
func (a *Adapter) record(rec Record) (*kgo.Record, bool, error) {
	ident := rec.Identity
	if ident == "" {
		ident = rec.Origin
	}
	id := schemas.EventID(a.Feed.Name, ident, rec.Raw)
	if rec.Oversize {
		return a.reject(rec, id, "ingest.oversize", fmt.Sprintf("record longer than %d bytes; first %d bytes kept", MaxRecordBytes, len(rec.Raw)))
	}
	key, ts, err := a.Feed.Check(rec.Raw)
	if err != nil {
		return a.reject(rec, id, reasonCode(err), err.Error())
	}
	src := schemas.FromPayload
	switch {
	case !ts.IsZero():
	case !rec.RecordTS.IsZero():
		ts, src = rec.RecordTS, schemas.FromRecord
	default:
		ts, src = rec.Received, schemas.FromReceipt
	}
	val, err := a.Schemas.EncodeEnvelope(nil, &schemas.Envelope{
		ID: id, Feed: a.Feed.Name, Format: a.Feed.Format, FormatVersion: a.Feed.FormatVersion,
		Key: key, ProducerTS: ts, ProducerTSSource: src, IngestTS: rec.Received,
		Adapter: a.Instance, Origin: rec.Origin, Raw: rec.Raw,
	})
	if err != nil {
		return nil, false, err
	}
	return &kgo.Record{Topic: a.Topics.Raw(a.Feed.Name), Key: []byte(key), Value: val}, false, nil
}

func (a *Adapter) reject(rec Record, id, code, reason string) (*kgo.Record, bool, error) {
	val, err := a.Schemas.EncodeRejected(nil, &schemas.Rejected{
		ID: id, Feed: a.Feed.Name, ReasonCode: code, Reason: reason,
		IngestTS: rec.Received, Adapter: a.Instance, Origin: rec.Origin, Raw: rec.Raw,
	})
	if err != nil {
		return nil, false, err
	}
	return &kgo.Record{Topic: a.Topics.Rejected(), Key: []byte(a.Feed.Name), Value: val}, true, nil
}

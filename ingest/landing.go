package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// FormatHeader is the record header with which a producer writing to a
// landing topic may name the format of a record's value: the feed's name
// (sbs) or its format (sbs-1), compared without regard to case. A record
// whose header names anything else is rejected with ReasonFormatMismatch.
// Without the header the value is taken to be the topic's feed.
const FormatHeader = "contrail-format"

// ReasonFormatMismatch is the reason code of a landing-topic record whose
// FormatHeader names another format than the topic's feed.
const ReasonFormatMismatch = "ingest.format_mismatch"

// LandingConsumerOpts are the options of a landing-topic consumer: group
// consumption of topic from its start, read_committed, offsets committed
// only by Landing.Run, rebalances only between batches.
func LandingConsumerOpts(topic, group string) []kgo.Opt {
	return []kgo.Opt{
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
	}
}

// Landing ingests a feed's landing topic (<prefix>.ingest.<feed>), written
// by any external producer with one raw record per Kafka record value. Each
// polled batch is produced through Adapter.IngestBatch, and its offsets are
// committed only after every envelope and reject of the batch was
// acknowledged: at-least-once. A record delivered twice (a crash between
// produce and commit) gets the same event id, because its identity is its
// position "kafka:topic/partition/offset", so downstream deduplicates it.
//
// The Kafka record's timestamp is the record's transport timestamp: an
// envelope whose payload carries no time gets it as producer timestamp
// (source RECORD).
type Landing struct {
	// Adapter produces the envelopes; its client may be another than
	// Consumer.
	Adapter *Adapter
	// Consumer is a group consumer built with LandingConsumerOpts.
	Consumer *kgo.Client
	// MaxPoll bounds the records of one batch. Default 10000.
	MaxPoll int
	// ShutdownGrace bounds how long the last batch may take to be acked and
	// committed once ctx ends. Default 30s.
	ShutdownGrace time.Duration
}

// Run consumes until ctx ends, then finishes the batch in hand (produce,
// ack, commit) and returns nil. The caller leaves the group by closing
// Consumer (CloseAllowingRebalance). It returns an error, without committing
// the batch in hand, when Kafka fails to take the envelopes.
func (l *Landing) Run(ctx context.Context) (Stats, error) {
	a := l.Adapter
	maxPoll := l.MaxPoll
	if maxPoll <= 0 {
		maxPoll = 10_000
	}
	grace := l.ShutdownGrace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	every := a.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	var total Stats
	start := time.Now()
	lastLog, lastRead := start, int64(0)
	for {
		fs := l.Consumer.PollRecords(ctx, maxPoll)
		var fatal error
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) {
				return
			}
			a.Log.Warn("landing topic fetch error", "topic", t, "partition", p, "err", err)
			if t == "" && p == -1 {
				fatal = fmt.Errorf("consume landing topic: %w", err) // client-level, such as failed authentication
			}
		})
		if kr := fs.Records(); len(kr) > 0 {
			bctx, cancel := graceCtx(ctx, grace)
			st, _, err := a.IngestBatch(bctx, landingRecords(a.Feed, kr))
			total = total.Add(st)
			if err != nil {
				cancel()
				return total, fmt.Errorf("ingest landing batch of %d records (not committed; they will be consumed again): %w", len(kr), err)
			}
			if err := l.Consumer.CommitRecords(bctx, kr...); err != nil {
				a.Log.Warn("commit landing offsets failed; the batch will be consumed again and deduplicated by event id", "err", err)
			} else if a.Metrics != nil {
				a.Metrics.commits.WithLabelValues(a.Feed.Name).Inc()
			}
			cancel()
		}
		l.Consumer.AllowRebalance()
		if fatal != nil {
			return total, fatal
		}
		if ctx.Err() != nil {
			a.Log.Info("landing ingest stopped", "feed", a.Feed.Name, "read", total.Read, "accepted", total.Accepted,
				"rejected", total.Rejected, "elapsed", time.Since(start).Round(time.Millisecond))
			return total, nil
		}
		if now := time.Now(); now.Sub(lastLog) >= every && total.Read > lastRead {
			a.Log.Info("ingest progress", "feed", a.Feed.Name, "read", total.Read,
				"records_per_s", int64(float64(total.Read-lastRead)/now.Sub(lastLog).Seconds()))
			lastLog, lastRead = now, total.Read
		}
	}
}

// graceCtx is a context that ends grace after ctx ends: work already begun
// is finished on shutdown, but not waited for forever.
func graceCtx(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(out, func() { t.Stop() })
	})
	return out, func() { stop(); cancel() }
}

// landingRecords turns polled Kafka records into records of feed.
func landingRecords(feed Feed, krs []*kgo.Record) []Record {
	now := time.Now()
	out := make([]Record, len(krs))
	for i, kr := range krs {
		origin := fmt.Sprintf("kafka:%s/%d/%d", kr.Topic, kr.Partition, kr.Offset)
		rec := Record{Raw: kr.Value, Origin: origin, Identity: origin, RecordTS: kr.Timestamp, Received: now}
		if rec.Raw == nil {
			rec.Raw = []byte{}
		}
		if len(rec.Raw) > MaxRecordBytes {
			rec.Raw, rec.Oversize = rec.Raw[:MaxRecordBytes], true
		}
		for _, h := range kr.Headers {
			if h.Key != FormatHeader {
				continue
			}
			if v := strings.TrimSpace(string(h.Value)); v != "" && !strings.EqualFold(v, feed.Name) && !strings.EqualFold(v, feed.Format) {
				rec.RejectCode = ReasonFormatMismatch
				rec.RejectReason = fmt.Sprintf("record header %s is %q, but %s carries feed %s (format %s)", FormatHeader, v, kr.Topic, feed.Name, feed.Format)
			}
		}
		out[i] = rec
	}
	return out
}

package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrIdle is returned by ReadRange when nothing arrived for the allowed idle
// periods before the end of the range was reached.
var ErrIdle = errors.New("no records arrived before the end offset")

// ReadRange reads topic partition p from offset from up to (not including)
// to, read_committed with the transaction markers kept, and calls fn for
// each record, markers included, until fn returns false or the record at
// to-1 was seen: under transactions the last offset is usually a marker, so
// seeing it proves the range read to its end. When idles polls of idle each
// in a row bring nothing (a slow broker, an open transaction holding the
// last stable offset back, or markers compaction removed), it returns
// ErrIdle and the caller decides. opts reach the cluster.
func ReadRange(ctx context.Context, opts []kgo.Opt, topic string, p int32, from, to int64, idle time.Duration, idles int,
	fn func(*kgo.Record) bool) error {
	if from >= to {
		return nil
	}
	opts = append(append([]kgo.Opt{}, opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().At(from)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxBytes(64<<20),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("read %s/%d: %w", topic, p, err)
	}
	defer cl.Close()
	quiet := 0
	for {
		pctx, cancel := context.WithTimeout(ctx, idle)
		f := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, fe := range f.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				return fmt.Errorf("read %s/%d: %w", topic, p, fe.Err)
			}
		}
		if f.NumRecords() == 0 {
			if quiet++; quiet >= idles {
				return ErrIdle
			}
			continue
		}
		quiet = 0
		done := false
		f.EachRecord(func(r *kgo.Record) {
			if done || r.Offset >= to {
				done = true
				return
			}
			if !fn(r) || r.Offset >= to-1 {
				done = true
			}
		})
		if done {
			return nil
		}
	}
}

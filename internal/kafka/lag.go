package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// lagOf sums, over partitions, how far the committed offsets trail the end
// offsets. A partition the group never committed counts from 0, the start of
// Contrail's topics.
func lagOf(ends kadm.ListedOffsets, committed kadm.OffsetResponses) int64 {
	var lag int64
	ends.Each(func(o kadm.ListedOffset) {
		have := int64(0)
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok && c.Err == nil && c.At >= 0 {
			have = c.At
		}
		if d := o.Offset - have; d > 0 {
			lag += d
		}
	})
	return lag
}

// WaitCaughtUp polls until group has committed everything currently in topics,
// or ctx ends. progress, if not nil, is called with the lag on each poll.
func WaitCaughtUp(ctx context.Context, adm *kadm.Client, group string, every time.Duration, progress func(lag int64), topics ...string) error {
	return WaitSettled(ctx, adm, nil, group, every, progress, topics...)
}

// WaitSettled is WaitCaughtUp for topics written with transactions. A
// consumer commits the offset after the last record it read, but a
// transaction ends with a commit marker that no consumer ever receives, so the
// committed offset stays one (or more) behind the end. With reader (client
// options to reach the cluster) set, a partition that still trails is read
// from its committed offset, read_committed with control records kept: if
// nothing but markers (and aborted data) lies before the end, it is caught up.
func WaitSettled(ctx context.Context, adm *kadm.Client, reader []kgo.Opt, group string, every time.Duration, progress func(lag int64), topics ...string) error {
	t := time.NewTicker(every)
	defer t.Stop()
	// The end offsets are read once: records produced later are not waited
	// for. Freshly created topics can briefly answer UNKNOWN_TOPIC_OR_PARTITION
	// until metadata propagates; such retriable errors are retried.
	var ends kadm.ListedOffsets
	for {
		var err error
		ends, err = adm.ListEndOffsets(ctx, topics...)
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			break
		}
		if !kerr.IsRetriable(err) {
			return fmt.Errorf("list end offsets of %v: %w", topics, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("list end offsets of %v: %w (last error: %v)", topics, ctx.Err(), err)
		case <-t.C:
		}
	}
	for {
		committed, err := adm.FetchOffsetsForTopics(ctx, group, topics...)
		if errors.Is(err, kerr.GroupIDNotFound) {
			// A group that has not committed yet (some brokers say so
			// instead of answering with no offsets).
			committed, err = nil, nil
		}
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("fetch committed offsets of group %s: %w", group, err)
		}
		lag := lagOf(ends, committed)
		if lag > 0 && reader != nil {
			if lag, err = settledLag(ctx, reader, ends, committed); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(lag)
		}
		if lag == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for group %s to catch up (%d records left): %w", group, lag, ctx.Err())
		case <-t.C:
		}
	}
}

// TopicLag is how far group trails the end of each of topics right now, in
// records, summed over each topic's partitions.
//
// reader, when not nil, reaches the cluster to tell trailing transaction
// markers from unread records (see WaitSettled).
func TopicLag(ctx context.Context, adm *kadm.Client, reader []kgo.Opt, group string, topics ...string) (map[string]int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %v: %w", topics, err)
	}
	committed, err := adm.FetchOffsetsForTopics(ctx, group, topics...)
	if err != nil {
		return nil, fmt.Errorf("fetch committed offsets of group %s: %w", group, err)
	}
	out := make(map[string]int64, len(topics))
	for _, t := range topics {
		lo := kadm.ListedOffsets{t: ends[t]}
		out[t] = lagOf(lo, committed)
		if out[t] > 0 && reader != nil {
			if out[t], err = settledLag(ctx, reader, lo, committed); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// settledLag is lagOf counting only partitions with a data record between the
// committed offset and the end.
func settledLag(ctx context.Context, reader []kgo.Opt, ends kadm.ListedOffsets, committed kadm.OffsetResponses) (int64, error) {
	var lag int64
	var err error
	ends.Each(func(o kadm.ListedOffset) {
		if err != nil {
			return
		}
		have := int64(0)
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok && c.Err == nil && c.At >= 0 {
			have = c.At
		}
		if have >= o.Offset {
			return
		}
		var data bool
		if data, err = dataBefore(ctx, reader, o.Topic, o.Partition, have, o.Offset); data {
			lag += o.Offset - have
		}
	})
	return lag, err
}

// dataBefore reports whether topic/p may hold a data record in [from, to):
// false only when every record up to to-1 was read and was a transaction
// marker (or aborted data, which read_committed skips). Nothing readable in
// time (a slow fetch, or a transaction still open: read_committed stops at
// its start) counts as data: not caught up yet, the caller asks again.
func dataBefore(ctx context.Context, reader []kgo.Opt, topic string, p int32, from, to int64) (bool, error) {
	data := false
	err := ReadRange(ctx, reader, topic, p, from, to, 2*time.Second, 1, func(r *kgo.Record) bool {
		data = !r.Attrs.IsControl()
		return !data
	})
	if errors.Is(err, ErrIdle) {
		return true, nil
	}
	return data, err
}

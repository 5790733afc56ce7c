package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
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
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("fetch committed offsets of group %s: %w", group, err)
		}
		lag := lagOf(ends, committed)
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
func TopicLag(ctx context.Context, adm *kadm.Client, group string, topics ...string) (map[string]int64, error) {
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
		out[t] = lagOf(kadm.ListedOffsets{t: ends[t]}, committed)
	}
	return out, nil
}

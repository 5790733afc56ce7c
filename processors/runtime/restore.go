package runtime

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/kafka"
)

// idleEnd is how long a restore read waits for more records before it takes
// the partition as read to its end. Normally the read ends on seeing the
// record at the last offset (control records are kept for this: under
// transactions the last offset is usually a commit marker); the wait only
// matters when compaction removed the last markers, and is logged.
const idleEnd = 10 * time.Second

// storeFor returns partition p's store, restoring it first if this instance
// has none (a new assignment, or after an aborted transaction).
func (r *Runner[S]) storeFor(ctx context.Context, p int32, first int64) (*store[S], error) {
	if st := r.stores[p]; st != nil {
		return st, nil
	}
	start := time.Now()
	if r.cfg.Health != nil {
		r.cfg.Health(false, fmt.Sprintf("restoring state of %s partition %d", r.cfg.StateTopic, p))
	}
	st, stats, err := r.restore(ctx, p, first)
	if err != nil {
		return nil, err
	}
	if r.cfg.Health != nil {
		r.cfg.Health(true, "")
	}
	r.stores[p] = st
	d := time.Since(start)
	r.m.restored(d)
	r.log.Info("state restored", "partition", p, "keys", len(st.keys), "snapshots", stats.snapshots,
		"replayed", stats.replayed, "from_offset", stats.from, "to_offset", first, "took", d.Round(time.Millisecond))
	return st, nil
}

type restoreStats struct {
	snapshots, replayed int
	from                int64
}

// restore rebuilds partition p's store as of input offset upTo (the first
// offset the group will process): the changelog's snapshots, then the input
// from the last checkpoint to upTo for the keys whose snapshot is older.
func (r *Runner[S]) restore(ctx context.Context, p int32, upTo int64) (*store[S], restoreStats, error) {
	st := &store[S]{keys: map[string]*entry[S]{}, dirty: map[string]struct{}{}, next: upTo, lastCP: time.Now()}
	var stats restoreStats
	end, err := r.changelogEnd(ctx, p)
	if err != nil {
		return nil, stats, err
	}
	checkpoint := int64(-1)
	future := false // a snapshot past upTo: the changelog is from another history
	err = r.read(ctx, r.cfg.Changelog, p, 0, end.Offset, func(rec *kgo.Record) {
		if len(rec.Value) < 8 {
			return // not written by this runtime
		}
		cover := int64(binary.BigEndian.Uint64(rec.Value))
		if string(rec.Key) == checkpointKey {
			checkpoint = cover
			return
		}
		key, ok := strings.CutPrefix(string(rec.Key), stateKeyPrefix)
		if !ok {
			return // not written by this runtime
		}
		if cover > upTo {
			future = true
			return
		}
		stats.snapshots++
		e := st.keys[key]
		if e == nil {
			e = &entry[S]{}
			st.keys[key] = e
		} else {
			st.sizeBytes -= int64(len(e.raw))
		}
		e.cover = cover
		e.raw = rec.Value[8:]
		if len(e.raw) == 0 {
			delete(st.keys, key)
			return
		}
		st.sizeBytes += int64(len(e.raw))
	})
	if err != nil {
		return nil, stats, err
	}
	from := checkpoint
	if checkpoint < 0 || checkpoint > upTo || future {
		starts, err := r.adm.ListStartOffsets(ctx, r.cfg.StateTopic)
		if err != nil {
			return nil, stats, fmt.Errorf("step %s: list start of %s: %w", r.cfg.Name, r.cfg.StateTopic, err)
		}
		s, _ := starts.Lookup(r.cfg.StateTopic, p)
		from = s.Offset
		if future {
			r.log.Warn("changelog holds snapshots past the group's committed offset (offsets reset?); replaying the input from its start",
				"changelog", r.cfg.Changelog, "partition", p, "committed", upTo)
		}
	}
	stats.from = from
	if from >= upTo {
		return st, stats, nil
	}
	c := &Context{replay: true, now: time.Now()}
	var applyErr error
	err = r.read(ctx, r.cfg.StateTopic, p, from, upTo, func(rec *kgo.Record) {
		if applyErr != nil || rec.Attrs.IsControl() {
			return
		}
		c.Topic, c.Partition, c.Offset = rec.Topic, rec.Partition, rec.Offset
		stats.replayed++
		applyErr = r.apply(c, st, rec)
	})
	if err == nil {
		err = applyErr
	}
	if err != nil {
		return nil, stats, err
	}
	return st, stats, nil
}

// changelogEnd is the last stable offset of changelog partition p. A topic
// created a moment ago may be unknown to the broker answering for a few
// seconds, so a missing partition is retried before it is an error.
func (r *Runner[S]) changelogEnd(ctx context.Context, p int32) (kadm.ListedOffset, error) {
	var last error
	for try := 0; try < 20; try++ {
		ends, err := r.adm.ListCommittedOffsets(ctx, r.cfg.Changelog)
		if err == nil {
			end, ok := ends.Lookup(r.cfg.Changelog, p)
			if ok && end.Err == nil {
				return end, nil
			}
			err = end.Err
			if err == nil {
				err = errors.New("partition not listed")
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return kadm.ListedOffset{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return kadm.ListedOffset{}, fmt.Errorf("step %s: end of %s partition %d unknown (%v): does the changelog exist with as many partitions as %s? (contrail topics creates it)",
		r.cfg.Name, r.cfg.Changelog, p, last, r.cfg.StateTopic)
}

// read calls fn for each record (control records included, under
// read_committed) of topic/p in [from, to). The end is normally reached by
// offset; three idle periods in a row (compaction removed the last markers)
// end it too, with a warning: a single slow fetch must not end a restore
// early.
func (r *Runner[S]) read(ctx context.Context, topic string, p int32, from, to int64, fn func(*kgo.Record)) error {
	err := kafka.ReadRange(ctx, r.cfg.ReaderOpts, topic, p, from, to, idleEnd, 3, func(rec *kgo.Record) bool {
		fn(rec)
		return true
	})
	if errors.Is(err, kafka.ErrIdle) {
		r.log.Warn("restore read idle before reaching the end offset; taking the partition as complete",
			"topic", topic, "partition", p, "end", to, "idle", 3*idleEnd)
		return nil
	}
	if err != nil {
		return fmt.Errorf("step %s: %w", r.cfg.Name, err)
	}
	return nil
}

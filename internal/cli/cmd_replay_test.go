package cli_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/schemas"
)

// eventIDs reads every domain event id of a flight-events topic.
func eventIDs(t *testing.T, brokers []string, topic string) []string {
	t.Helper()
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	reg := schemas.MustRegistry()
	var ids []string
	for len(left) > 0 {
		f := cl.PollFetches(ctx)
		if err := f.Err(); err != nil {
			t.Fatal(err)
		}
		f.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if !r.Attrs.IsControl() {
				e := &schemas.DomainEvent{}
				if err := reg.Decode(r.Value, e); err != nil {
					t.Errorf("decode %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
				}
				// GUFI values (and so event ids) depend on whether a
				// flight's plan or its track reached the flight step
				// first, which a reprocessing run need not repeat; what
				// happened, and because of which evidence, must not.
				ids = append(ids, string(e.Type)+" "+strings.Join(e.Cause, ","))
			}
			if r.Offset >= end-1 {
				delete(left, r.Partition)
			}
		})
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// TestIntegrationReplayReprocess re-derives a small run's events under a new
// prefix and checks the same domain events happen for the same causes
// (compared by type and cause: GUFI values may differ, see eventIDs).
func TestIntegrationReplayReprocess(t *testing.T) {
	tt := smallRun(t)
	to := tt.name + "rp"
	t.Cleanup(func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(tt.brokers...))
		if err != nil {
			return
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		if ts, err := adm.ListTopics(context.Background()); err == nil {
			var mine []string
			for _, n := range ts.Names() {
				if strings.HasPrefix(n, to+".") {
					mine = append(mine, n)
				}
			}
			_, _ = adm.DeleteTopics(context.Background(), mine...)
		}
		_, _ = adm.DeleteGroups(context.Background(), to+"-reprocess-track", to+"-reprocess-flight")
	})
	code, out, errs := contrail(t, "replay", "--reprocess", "--brokers", strings.Join(tt.brokers, ","), "--topic-prefix", tt.name,
		"--to-prefix", to, "--process-group-prefix", to+"-reprocess", "--listen", "127.0.0.1:0", "--progress-every", "500ms")
	if code != 0 {
		t.Fatalf("replay exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(out, "reprocessed") || !strings.Contains(errs, "copied") {
		t.Errorf("output does not report the copy and the reprocessing:\n%s\n%s", out, errs)
	}
	orig := eventIDs(t, tt.brokers, tt.name+".flights.events")
	re := eventIDs(t, tt.brokers, to+".flights.events")
	if len(orig) == 0 {
		t.Fatal("the original run has no domain events")
	}
	if !slices.Equal(orig, re) {
		var missing, extra int
		for _, id := range orig {
			if _, ok := slices.BinarySearch(re, id); !ok {
				missing++
			}
		}
		for _, id := range re {
			if _, ok := slices.BinarySearch(orig, id); !ok {
				extra++
			}
		}
		t.Errorf("reprocessing gave %d distinct events, the original %d: %d missing, %d extra", len(re), len(orig), missing, extra)
	}
	code, _, errs = contrail(t, "replay", "--reprocess", "--brokers", strings.Join(tt.brokers, ","), "--topic-prefix", tt.name, "--to-prefix", tt.name)
	if code != 2 || !strings.Contains(errs, "--to-prefix") {
		t.Errorf("same prefix: exit %d, stderr %q; want 2 naming --to-prefix", code, errs)
	}
}

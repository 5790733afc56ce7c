package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestWaitCaughtUp produces records, checks the wait reports the lag and
// gives up when the context ends, then commits and checks it returns.
func TestWaitCaughtUp(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("t"),
		kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte{byte(i)}, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)

	var seen []int64
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = WaitCaughtUp(short, adm, "g", 10*time.Millisecond, func(lag int64) { seen = append(seen, lag) }, "t")
	cancel()
	if err == nil {
		t.Fatal("WaitCaughtUp returned nil with nothing committed")
	}
	if len(seen) == 0 || seen[0] != 10 {
		t.Fatalf("lag reports %v, want 10 first", seen)
	}

	got := 0
	for got < 10 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	if err := WaitCaughtUp(ctx, adm, "g", 10*time.Millisecond, nil, "t"); err != nil {
		t.Fatalf("after commit: %v", err)
	}
}

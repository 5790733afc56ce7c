package clickhouse_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/schemas"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// TestIntegrationWriterRefusedRow: ClickHouse refuses one row of a batch
// for good (here a MATERIALIZED column that throws for it). The writer does
// not retry forever: the other rows are inserted, the refused one goes to
// the rejected topic with ClickHouse's reason, and the offsets move on. When
// that reject comes back through the rejected topic and is refused again,
// it is not sent round once more.
func TestIntegrationWriterRefusedRow(t *testing.T) {
	addr := infratest.ClickHouse(t)
	db := infratest.Name(t, "refuse")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: addr, Database: db}, log)
	if err != nil {
		t.Fatal(err)
	}
	// One cleanup, in this order: a deferred Close would run before any
	// t.Cleanup and leave the database behind.
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	if _, err := clickhouse.Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "ALTER TABLE "+db+".raw_events ADD COLUMN poison UInt8 MATERIALIZED throwIf(feed = 'poison')"); err != nil {
		t.Fatal(err)
	}

	const n = 40
	var envs []*schemas.Envelope
	for i := range n + 1 {
		feed := "sbs"
		if i == n/2 {
			feed = "poison"
		}
		raw := fmt.Appendf(nil, "line %d", i)
		envs = append(envs, &schemas.Envelope{ID: schemas.EventID(feed, "t", raw), Feed: feed, Key: "K",
			ProducerTS: time.Unix(1700000000+int64(i), 0), ProducerTSSource: schemas.FromPayload, IngestTS: time.Now(), Raw: raw})
	}
	cons, seeds := rawOnKfake(t, envs)
	reg := schemas.MustRegistry()
	w := clickhouse.NewWriter(conn, cons, reg, "rejected", clickhouse.WriterOptions{FlushInterval: 20 * time.Millisecond,
		RetryBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, log, nil)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	var rows uint64
	for deadline := time.Now().Add(time.Minute); rows < n && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".raw_events WHERE feed = 'sbs'").Scan(&rows); err != nil {
			t.Fatal(err)
		}
	}
	if rows != n {
		t.Fatalf("%d good rows in raw_events, want %d: the refused row held the batch back", rows, n)
	}
	// The reject, with ClickHouse's reason, is on the rejected topic.
	rc, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics("rejected"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	var rejects []*schemas.Rejected
	for len(rejects) == 0 && pctx.Err() == nil {
		rc.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			x, err := reg.DecodeRejected(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			rejects = append(rejects, x)
		})
	}
	if len(rejects) != 1 || rejects[0].ReasonCode != "sink.clickhouse_refused" || !strings.Contains(rejects[0].Reason, "395") ||
		string(rejects[0].Raw) != fmt.Sprintf("line %d", n/2) {
		t.Fatalf("rejected topic holds %+v, want one reject of the poison line with ClickHouse's reason", rejects)
	}
	// Coming back through the rejected topic, it is refused again and then
	// neither retried for ever nor sent round again: the writer keeps going.
	time.Sleep(500 * time.Millisecond)
	extra := 0
	qctx, qcancel := context.WithTimeout(ctx, time.Second)
	defer qcancel()
	rc.PollFetches(qctx).EachRecord(func(*kgo.Record) { extra++ })
	if extra != 0 {
		t.Errorf("%d more rejects: the refused reject looped", extra)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

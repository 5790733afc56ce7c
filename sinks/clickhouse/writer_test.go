package clickhouse_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/schemas"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// TestIntegrationWriterOutage starts the writer against a database whose
// table does not exist yet: inserts fail, the writer reports the outage
// once through Health and keeps retrying; once `migrate` creates the table
// it recovers, reports healthy again and the rows arrive, each once.
func TestIntegrationWriterOutage(t *testing.T) {
	addr := infratest.ClickHouse(t)
	db := infratest.Name(t, "it")
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

	const n = 50
	var envs []*schemas.Envelope
	for i := range n {
		raw := []byte{byte('a' + i%26), byte(i)}
		envs = append(envs, &schemas.Envelope{ID: schemas.EventID("sbs", "t", raw), Feed: "sbs", Key: "K",
			ProducerTS: time.Unix(1700000000+int64(i), 0), ProducerTSSource: schemas.FromPayload, IngestTS: time.Now(), Raw: raw})
	}
	cons, _ := rawOnKfake(t, envs)
	reg := schemas.MustRegistry()

	promReg := prometheus.NewRegistry()
	var mu sync.Mutex
	var reports []bool
	health := make(chan bool, 16)
	w := clickhouse.NewWriter(conn, cons, reg, "rejected", clickhouse.WriterOptions{
		FlushInterval: 20 * time.Millisecond, RetryBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Health: func(ok bool, _ string) {
			mu.Lock()
			reports = append(reports, ok)
			mu.Unlock()
			health <- ok
		},
	}, log, clickhouse.NewMetrics(promReg))
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	if ok := <-health; ok {
		t.Fatal("first health report is ok; want the outage (table missing)")
	}
	if _, err := clickhouse.Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	if ok := <-health; !ok {
		t.Fatal("second health report is not ok; want recovery after migrate")
	}
	var rows uint64
	for rows < n {
		time.Sleep(10 * time.Millisecond)
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".raw_events").Scan(&rows); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 2 {
		t.Errorf("health reported %v; want exactly one outage and one recovery, not one per retry", reports)
	}
	if rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	}
	// Freshness: every row observed once per start time, once visible.
	families, err := promReg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "contrail_sink_visible_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "since" {
					counts[l.GetValue()] += m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	if counts["ingest"] != n || counts["producer"] != n {
		t.Errorf("visible_seconds samples %v, want %d each for ingest and producer", counts, n)
	}
}

// rawOnKfake puts envs on the topic "raw" of an in-process broker that also
// has a "rejected" topic, and returns a consumer-group client for both, as
// the sink builds it, and the broker's addresses.
func rawOnKfake(t *testing.T, envs []*schemas.Envelope) (*kgo.Client, []string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "raw", "rejected"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	seeds := c.ListenAddrs()
	reg := schemas.MustRegistry()
	prod, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic("raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for _, e := range envs {
		v, err := reg.EncodeEnvelope(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		if err := prod.ProduceSync(context.Background(), &kgo.Record{Key: []byte(e.Key), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("raw", "rejected"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cons.CloseAllowingRebalance)
	return cons, seeds
}

package clickhouse_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/schemas"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// BenchmarkSinkClickHouse measures the sink from real Kafka into real
// ClickHouse: CONTRAIL_BENCH_RECORDS (default 500,000) records already on
// the topics, the writer started, the clock stopped when the group has
// committed them all (every insert acknowledged). "raw" writes SBS
// envelopes (one raw_events row each); "positions" writes POSITION_REPORTED
// domain events (a flight_events and a positions row each). Run with
// -benchtime 1x; CONTRAIL_BENCH_BATCH sets WriterOptions.BatchRows.
func BenchmarkSinkClickHouse(b *testing.B) {
	for _, kind := range []string{"raw", "positions"} {
		b.Run(kind, func(b *testing.B) { benchSink(b, kind) })
	}
}

func benchSink(b *testing.B, kind string) {
	seeds, addr := infratest.Kafka(b), infratest.ClickHouse(b)
	n := 500_000
	if v, err := strconv.Atoi(os.Getenv("CONTRAIL_BENCH_RECORDS")); err == nil && v > 0 {
		n = v
	}
	batch, _ := strconv.Atoi(os.Getenv("CONTRAIL_BENCH_BATCH"))
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	reg := schemas.MustRegistry()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := infratest.Name(b, "sinkbench")
		conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: addr, Database: name}, log)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := clickhouse.Migrate(ctx, conn, log); err != nil {
			b.Fatal(err)
		}
		prod, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		adm := kadm.NewClient(prod)
		topic, events := name+".raw.sbs", name+".flights.events"
		if _, err := adm.CreateTopics(ctx, 3, 1, nil, topic, events, name+".rejected"); err != nil {
			b.Fatal(err)
		}
		t0 := time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC)
		var recs []*kgo.Record
		for j := range n {
			ts := t0.Add(time.Duration(j) * 10 * time.Millisecond)
			icao := fmt.Sprintf("%06X", j%500)
			var v []byte
			var t string
			if kind == "raw" {
				raw := fmt.Appendf(nil, "MSG,3,1,1,%s,1,2026/01/01,%s,2026/01/01,%s,,35000,,,52.%05d,4.%05d,,,0,0,0,0",
					icao, ts.Format("15:04:05.000"), ts.Format("15:04:05.000"), j%99999, j%77777)
				v, err = reg.EncodeEnvelope(nil, &schemas.Envelope{ID: schemas.EventID("sbs", name, raw), Feed: "sbs", Format: "sbs",
					FormatVersion: "1", Key: icao, ProducerTS: ts, ProducerTSSource: schemas.FromPayload, IngestTS: ts, Adapter: "bench",
					Origin: fmt.Sprintf("bench:%d", j), Raw: raw})
				t = topic
			} else {
				alt := int32(35000)
				v, err = reg.EncodeEvent(nil, &schemas.DomainEvent{EventID: fmt.Sprintf("%s-%d", name, j), GUFI: "G" + icao,
					ProducerTS: ts, EmittedTS: ts, Feed: "sbs", Cause: []string{fmt.Sprint(j)},
					PositionReported: &schemas.PositionReported{Position: schemas.Position{TS: ts, ICAO24: icao, Lat: 52, Lon: 4, AltitudeFt: &alt}}})
				t = events
			}
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Topic: t, Key: []byte(icao), Value: v})
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
		cons, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(name), kgo.ConsumeTopics(topic, events),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
			kgo.FetchMaxBytes(64<<20))
		if err != nil {
			b.Fatal(err)
		}
		w := clickhouse.NewWriter(conn, cons, reg, name+".rejected", clickhouse.WriterOptions{BatchRows: batch,
			Topics: clickhouse.Topics{Events: events}}, log, nil)
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.StartTimer()
		start := time.Now()
		go func() { done <- w.Run(wctx) }()
		if err := kafka.WaitCaughtUp(ctx, adm, name, 20*time.Millisecond, nil, topic, events); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		rows := n
		if kind == "positions" {
			rows = 2 * n
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		cons.CloseAllowingRebalance()
		prod.Close()
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
		conn.Close()
		_, _ = adm.DeleteTopics(ctx, topic, events, name+".rejected")
		b.StartTimer()
	}
}

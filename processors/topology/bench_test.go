package topology_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/simulate"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/processors/runtime"
	"github.com/contrail-atm/contrail/processors/topology"
	"github.com/contrail-atm/contrail/processors/track"
	"github.com/contrail-atm/contrail/schemas"
)

// loadDay provisions prefix's topics and produces a simulated day's SBS
// lines and ADEXP plans as envelopes, keyed as ingest keys them. It returns
// the number of records produced.
func loadDay(tb testing.TB, cl *kgo.Client, prefix string, flights int) int {
	tb.Helper()
	ctx := context.Background()
	if _, err := topics.Ensure(ctx, kadm.NewClient(cl), topics.Plan(topics.Options{Prefix: prefix})); err != nil {
		tb.Fatal(err)
	}
	cfg := simulate.DefaultConfig()
	cfg.Flights, cfg.PlanFormat = flights, "adexp"
	sim, err := simulate.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	reg := schemas.MustRegistry()
	names := topics.Names{Prefix: prefix}
	var recs []*kgo.Record
	add := func(feed string, rs []simulate.Record, key func(string) string) {
		for i, r := range rs {
			env := &schemas.Envelope{ID: fmt.Sprintf("%s-%d", feed, i), Feed: feed, Format: feed, FormatVersion: "1",
				Key: key(r.Raw), ProducerTS: r.Produced, ProducerTSSource: schemas.FromPayload, IngestTS: r.Delivered,
				Adapter: "bench", Origin: fmt.Sprintf("bench:%d", i), Raw: []byte(r.Raw)}
			b, err := reg.EncodeEnvelope(nil, env)
			if err != nil {
				tb.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Topic: names.Raw(feed), Key: []byte(env.Key), Value: b})
		}
	}
	add("adexp", sim.ADEXP, func(raw string) string {
		if i := strings.Index(raw, "-ARCID "); i >= 0 {
			return strings.Fields(raw[i+7:])[0]
		}
		return ""
	})
	add("sbs", sim.SBS, func(raw string) string {
		if f := strings.Split(raw, ","); len(f) > 4 {
			return f[4]
		}
		return ""
	})
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		tb.Fatal(err)
	}
	return len(recs)
}

// steps is both processor steps of one prefix, built as `contrail process`
// builds them, ready to run.
type steps struct {
	names        topics.Names
	track        *runtime.Runner[track.State]
	flightRunner *runtime.Runner[flight.State]
	trackGroup   string
	flightGroup  string
	base         []kgo.Opt
	adm          *kadm.Client
}

func newSteps(tb testing.TB, seeds []string, prefix string, adm *kadm.Client) *steps {
	tb.Helper()
	codec, err := schemas.NewCodec(schemas.MustRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	return newStepsWith(tb, seeds, prefix, adm, codec)
}

// newStepsWith is newSteps with the steps' codec.
func newStepsWith(tb testing.TB, seeds []string, prefix string, adm *kadm.Client, codec *schemas.Codec) *steps {
	tb.Helper()
	topo, err := topology.New(topology.Options{Prefix: prefix, Codec: codec})
	if err != nil {
		tb.Fatal(err)
	}
	base := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	tcfg, fcfg := topo.TrackConfig([]string{"adexp"}), topo.FlightConfig()
	for _, c := range []*runtime.Config{&tcfg, &fcfg} {
		c.Group, c.TransactionalID = prefix+"-"+c.Name, prefix+"-"+c.Name+"-test"
		c.ClientOpts, c.ReaderOpts = base, base
		c.Log = slog.New(slog.DiscardHandler)
	}
	ts, err := topo.TrackStep(track.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	fs, err := topo.FlightStep(flight.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := runtime.New(tcfg, ts, adm)
	if err != nil {
		tb.Fatal(err)
	}
	fr, err := runtime.New(fcfg, fs, adm)
	if err != nil {
		tb.Fatal(err)
	}
	return &steps{names: topo.Names(), track: tr, flightRunner: fr, trackGroup: tcfg.Group, flightGroup: fcfg.Group, base: base, adm: adm}
}

// run starts both steps and returns once both have committed everything on
// their inputs; stop ends them.
func (s *steps) run(tb testing.TB) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.track.Run(gctx) })
	g.Go(func() error { return s.flightRunner.Run(gctx) })
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer wcancel()
	if err := kafka.WaitSettled(wctx, s.adm, s.base, s.trackGroup, 20*time.Millisecond, nil, s.names.Raw("sbs"), s.names.Raw("adexp")); err != nil {
		tb.Fatal(err)
	}
	if err := kafka.WaitSettled(wctx, s.adm, s.base, s.flightGroup, 20*time.Millisecond, nil, s.names.FlightInput()); err != nil {
		tb.Fatal(err)
	}
	return func() {
		cancel()
		if err := g.Wait(); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkProcessKafka runs the track and flight steps, with Kafka
// transactions, over a simulated day already in real Kafka's raw topics, and
// reports input records per second until both steps have committed
// everything. Run with -benchtime 1x (each iteration loads a fresh day).
func BenchmarkProcessKafka(b *testing.B) {
	seeds := infratest.Kafka(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		prefix := infratest.Name(b, "bench")
		n := loadDay(b, cl, prefix, 60)
		s := newSteps(b, seeds, prefix, adm)
		b.StartTimer()
		start := time.Now()
		stop := s.run(b)
		elapsed := time.Since(start)
		b.StopTimer()
		stop()
		b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
		b.ReportMetric(float64(n), "records")
		b.StartTimer()
	}
}

package runtime

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/infratest"
)

// blob is a state kept as its bytes: the benchmark measures reading a
// changelog, not a step's decoder (restore decodes a key on first use).
type blob struct{ b []byte }

type blobStep struct{}

func (blobStep) Process(_ *Context, _ *kgo.Record, st *blob) (*blob, error) { return st, nil }
func (blobStep) Route(*Context, *kgo.Record) error                          { return nil }
func (blobStep) AppendState(b []byte, st *blob) ([]byte, error)             { return append(b, st.b...), nil }
func (blobStep) DecodeState(b []byte) (*blob, error)                        { return &blob{b: b}, nil }

// BenchmarkRestoreKafka restores one partition holding CONTRAIL_BENCH_KEYS
// (default 1,000,000) snapshots of CONTRAIL_BENCH_STATE_BYTES (default 774,
// the encoded size of an average flight of a simulated day) from real
// Kafka, and reports keys/s and the restore time. Run with -benchtime 1x.
func BenchmarkRestoreKafka(b *testing.B) {
	seeds := infratest.Kafka(b)
	keys, size := 1_000_000, 774
	if v, err := strconv.Atoi(os.Getenv("CONTRAIL_BENCH_KEYS")); err == nil && v > 0 {
		keys = v
	}
	if v, err := strconv.Atoi(os.Getenv("CONTRAIL_BENCH_STATE_BYTES")); err == nil && v > 0 {
		size = v
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(10*time.Millisecond),
		kgo.MaxBufferedRecords(100_000))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	name := infratest.Name(b, "restore")
	in, changelog := name+".in", name+".changelog"
	compact := "compact"
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, in); err != nil {
		b.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": &compact}, changelog); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), in, changelog) })
	// Cover offset 0, then incompressible bytes (real states compress;
	// these do not, so the figure is for the worst case on the wire).
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]byte, 64<<20)
	for i := range pool {
		pool[i] = byte(rng.Uint32())
	}
	stateLen := 8 + size
	start := time.Now()
	errs := make(chan error, 1)
	for i := range keys {
		off := rng.IntN(len(pool) - stateLen)
		state := append(make([]byte, 8, stateLen), pool[off+8:off+stateLen]...)
		cl.Produce(ctx, &kgo.Record{Topic: changelog, Partition: 0, Key: fmt.Appendf(nil, "%sFLT%07d", stateKeyPrefix, i), Value: state}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.Logf("wrote %d snapshots (%d MB) in %s", keys, keys*stateLen>>20, time.Since(start).Round(time.Millisecond))
	base := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	r, err := New[blob](Config{Name: "bench", Group: name, TransactionalID: name, Inputs: []string{in}, StateTopic: in,
		Changelog: changelog, ClientOpts: base, ReaderOpts: base}, blobStep{}, adm)
	if err != nil {
		b.Fatal(err)
	}
	defer r.sess.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		st, stats, err := r.restore(ctx, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		if len(st.keys) != keys || stats.snapshots != keys {
			b.Fatalf("restored %d keys from %d snapshots, want %d", len(st.keys), stats.snapshots, keys)
		}
		b.ReportMetric(d.Seconds(), "restore-s")
		b.ReportMetric(float64(keys)/d.Seconds(), "keys/s")
		b.ReportMetric(float64(keys*stateLen)/d.Seconds()/(1<<20), "MB/s")
	}
}

package runtime_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/processors/runtime"
)

// counter is a test step: per key it counts records and sums their values,
// emitting "key n sum" for each record. Any lost, repeated or misordered
// application shows in the emitted sequence.
type counter struct {
	out string
	// crashAt, when set, makes Process fail on that input value, standing in
	// for a crash mid-transaction.
	crashAt int
}

type count struct{ n, sum int64 }

var errCrash = errors.New("simulated crash")

func (c *counter) Process(ctx *runtime.Context, r *kgo.Record, st *count) (*count, error) {
	v, err := strconv.Atoi(string(r.Value))
	if err != nil {
		return st, fmt.Errorf("bad test value %q", r.Value)
	}
	if c.crashAt != 0 && v == c.crashAt && !ctx.Replaying() {
		return st, errCrash
	}
	if st == nil {
		st = &count{}
	}
	st.n++
	st.sum += int64(v)
	ctx.Emit(&kgo.Record{Topic: c.out, Key: r.Key, Value: fmt.Appendf(nil, "%s %d %d", r.Key, st.n, st.sum)})
	return st, nil
}

func (c *counter) Route(ctx *runtime.Context, r *kgo.Record) error {
	ctx.Emit(&kgo.Record{Topic: c.out, Key: r.Key, Value: append([]byte("routed "), r.Value...)})
	return nil
}

func (*counter) AppendState(b []byte, st *count) ([]byte, error) {
	b = binary.AppendVarint(b, st.n)
	return binary.AppendVarint(b, st.sum), nil
}

func (*counter) DecodeState(b []byte) (*count, error) {
	n, k := binary.Varint(b)
	if k <= 0 {
		return nil, errors.New("bad count")
	}
	s, k2 := binary.Varint(b[k:])
	if k2 <= 0 {
		return nil, errors.New("bad sum")
	}
	return &count{n: n, sum: s}, nil
}

type cluster struct {
	brokers []string
	adm     *kadm.Client
	cl      *kgo.Client
}

func kfakeCluster(t *testing.T) cluster {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return newCluster(t, c.ListenAddrs())
}

func newCluster(t *testing.T, brokers []string) cluster {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cluster{brokers: brokers, adm: kadm.NewClient(cl), cl: cl}
}

func (c cluster) topics(t *testing.T, partitions int32, compact bool, names ...string) {
	t.Helper()
	cfg := map[string]*string{}
	if compact {
		v := "compact"
		cfg["cleanup.policy"] = &v
	}
	res, err := c.adm.CreateTopics(context.Background(), partitions, 1, cfg, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("create %s: %v", r.Topic, r.Err)
		}
	}
}

// produce writes values from..to-1 round-robin over keys k0..k(keys-1).
func (c cluster) produce(t *testing.T, topic string, from, to, keys int) {
	t.Helper()
	var rs []*kgo.Record
	for v := from; v < to; v++ {
		rs = append(rs, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", v%keys), Value: []byte(strconv.Itoa(v))})
	}
	if err := c.cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readCommitted reads topic read_committed until want records arrived.
func (c cluster) readCommitted(t *testing.T, topic string, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out []string
	for len(out) < want {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s: %v", len(out), want, topic, out)
		}
		f.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	// Anything beyond want is a duplicate: give it a moment to show.
	f := func() kgo.Fetches {
		c2, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return cl.PollFetches(c2)
	}()
	f.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	return out
}

type runSpec struct {
	c        cluster
	in, side string
	out, cl  string
	step     *counter
	cfg      func(*runtime.Config)
}

func (s runSpec) start(t *testing.T, ctx context.Context, txid string) (done chan error) {
	t.Helper()
	return s.startWith(t, ctx, txid, s.step)
}

// startWith runs step (which may wrap s.step) instead of s.step.
func (s runSpec) startWith(t *testing.T, ctx context.Context, txid string, step runtime.Step[count]) (done chan error) {
	t.Helper()
	base := []kgo.Opt{kgo.SeedBrokers(s.c.brokers...)}
	cfg := runtime.Config{
		Name: "count", Group: "g-" + s.in, TransactionalID: txid,
		Inputs: []string{s.in, s.side}, StateTopic: s.in, Changelog: s.cl,
		ClientOpts: base, ReaderOpts: base, SnapshotEvery: 3, CheckpointEvery: 7, MaxPollRecords: 5,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if s.cfg != nil {
		s.cfg(&cfg)
	}
	r, err := runtime.New(cfg, step, s.c.adm)
	if err != nil {
		t.Fatal(err)
	}
	done = make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return done
}

// expected is the output of an uninterrupted run over values 0..n-1.
func expected(n, keys int) map[string]bool {
	want := map[string]bool{}
	cnt := make([]int64, keys)
	sum := make([]int64, keys)
	for v := range n {
		k := v % keys
		cnt[k]++
		sum[k] += int64(v)
		want[fmt.Sprintf("k%d %d %d", k, cnt[k], sum[k])] = true
	}
	return want
}

func check(t *testing.T, got []string, n, keys int) {
	t.Helper()
	want := expected(n, keys)
	seen := map[string]bool{}
	for _, g := range got {
		if strings.HasPrefix(g, "routed ") {
			continue
		}
		if seen[g] {
			t.Errorf("output %q twice: applied twice", g)
		}
		seen[g] = true
		if !want[g] {
			t.Errorf("output %q not in an uninterrupted run", g)
		}
	}
	for w := range want {
		if !seen[w] {
			t.Errorf("output %q missing", w)
		}
	}
}

func testExactlyOnce(t *testing.T, c cluster, prefix string) {
	in, side, out, cl := prefix+".in", prefix+".side", prefix+".out", prefix+".changelog"
	c.topics(t, 3, false, in, side, out)
	c.topics(t, 3, true, cl)
	const keys, n = 5, 120
	step := &counter{out: out, crashAt: 50}
	spec := runSpec{c: c, in: in, side: side, out: out, cl: cl, step: step}
	c.produce(t, in, 0, 80, keys)
	c.produce(t, side, 0, 3, keys)

	// First instance: crashes mid-transaction at value 50, leaving its
	// transaction open (no shutdown, no checkpoint).
	ctx1, cancel1 := context.WithCancel(context.Background())
	err := <-spec.start(t, ctx1, prefix+"-tx")
	cancel1()
	if !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v, want the simulated crash", err)
	}

	// Second instance, same transactional id (fences the first): restores
	// and carries on, then stops gracefully with a final checkpoint.
	step.crashAt = 0
	ctx2, cancel2 := context.WithCancel(context.Background())
	done := spec.start(t, ctx2, prefix+"-tx")
	c.readCommitted(t, out, 80+3)
	cancel2()
	if err := <-done; err != nil {
		t.Fatalf("second run: %v", err)
	}

	// Third instance, another transactional id: restores from the final
	// checkpoint, processes the rest.
	c.produce(t, in, 80, n, keys)
	ctx3, cancel3 := context.WithCancel(context.Background())
	done = spec.start(t, ctx3, prefix+"-tx3")
	got := c.readCommitted(t, out, n+3)
	cancel3()
	if err := <-done; err != nil {
		t.Fatalf("third run: %v", err)
	}
	check(t, got, n, keys)
	routed := 0
	for _, g := range got {
		if strings.HasPrefix(g, "routed ") {
			routed++
		}
	}
	if routed != 3 {
		t.Errorf("routed %d side records, want 3", routed)
	}
}

func TestExactlyOnceAcrossCrashKfake(t *testing.T) {
	testExactlyOnce(t, kfakeCluster(t), "eo")
}

func TestExactlyOnceAcrossCrashKafka(t *testing.T) {
	brokers := infratest.Kafka(t)
	testExactlyOnce(t, newCluster(t, brokers), infratest.Name(t, "rt"))
}

// TestRebalanceKafka runs two instances of the step in one group while
// records flow, stops one and then the other, and checks that every record
// was applied exactly once in order per key across the hand-overs.
func TestRebalanceKafka(t *testing.T) {
	brokers := infratest.Kafka(t)
	c := newCluster(t, brokers)
	prefix := infratest.Name(t, "rb")
	in, side, out, cl := prefix+".in", prefix+".side", prefix+".out", prefix+".changelog"
	c.topics(t, 4, false, in, side, out)
	c.topics(t, 4, true, cl)
	const keys, n = 16, 2000
	spec := runSpec{c: c, in: in, side: side, out: out, cl: cl, step: &counter{out: out},
		cfg: func(cfg *runtime.Config) { cfg.MaxPollRecords = 50; cfg.CheckpointEvery = 100 }}

	var wg sync.WaitGroup
	ctxA, cancelA := context.WithCancel(context.Background())
	doneA := spec.start(t, ctxA, prefix+"-a")
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i += 100 {
			c.produce(t, in, i, i+100, keys)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(time.Second)
	ctxB, cancelB := context.WithCancel(context.Background())
	doneB := spec.start(t, ctxB, prefix+"-b") // 1 -> 2 instances
	time.Sleep(3 * time.Second)
	cancelA() // 2 -> 1
	if err := <-doneA; err != nil {
		t.Errorf("instance a: %v", err)
	}
	wg.Wait()
	got := c.readCommitted(t, out, n)
	cancelB()
	if err := <-doneB; err != nil {
		t.Errorf("instance b: %v", err)
	}
	check(t, got, n, keys)
}

// TestReadinessDuringRestore: a runner reports not ready while it restores
// a partition's state and ready again once it processes, so /readyz is 503
// exactly while a new owner catches up.
func TestReadinessDuringRestore(t *testing.T) {
	c := kfakeCluster(t)
	in, side, out, cl := "rd.in", "rd.side", "rd.out", "rd.changelog"
	c.topics(t, 2, false, in, side, out)
	c.topics(t, 2, true, cl)
	c.produce(t, in, 0, 20, 4)
	var (
		mu      sync.Mutex
		reports []string
	)
	spec := runSpec{c: c, in: in, side: side, out: out, cl: cl, step: &counter{out: out}, cfg: func(cfg *runtime.Config) {
		cfg.Health = func(ok bool, reason string) {
			mu.Lock()
			defer mu.Unlock()
			if ok {
				reports = append(reports, "ready")
			} else {
				reports = append(reports, "not ready: "+reason)
			}
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := spec.start(t, ctx, "rd-tx")
	c.readCommitted(t, out, 20)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	restores := 0
	for i, r := range reports {
		if strings.HasPrefix(r, "not ready: restoring state of rd.in partition") {
			restores++
			if i+1 >= len(reports) || reports[i+1] != "ready" {
				t.Errorf("a restore not followed by ready: %q", reports)
			}
		}
	}
	if restores != 2 {
		t.Errorf("%d restores reported for 2 partitions: %q", restores, reports)
	}
}

// TestOddKeysRestore: input keys that look like the changelog's own keys
// ("c:", the checkpoint marker's; "s:…", a state key's) or are empty keep
// their own state across a restart; none is taken for a checkpoint.
func TestOddKeysRestore(t *testing.T) {
	c := kfakeCluster(t)
	in, side, out, cl := "odd.in", "odd.side", "odd.out", "odd.changelog"
	c.topics(t, 1, false, in, side, out)
	c.topics(t, 1, true, cl)
	keys := []string{"c:", "s:c:", "", "\x00checkpoint"}
	produce := func(from, to int) {
		var rs []*kgo.Record
		for v := from; v < to; v++ {
			rs = append(rs, &kgo.Record{Topic: in, Key: []byte(keys[v%len(keys)]), Value: []byte(strconv.Itoa(v))})
		}
		if err := c.cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	spec := runSpec{c: c, in: in, side: side, out: out, cl: cl, step: &counter{out: out}}
	for round, upTo := range []int{12, 24} {
		produce(round*12, upTo)
		ctx, cancel := context.WithCancel(context.Background())
		done := spec.start(t, ctx, fmt.Sprintf("odd-tx-%d", round))
		got := c.readCommitted(t, out, upTo)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if round == 1 {
			// Each key's count runs 1..6 with no restart at 1: its state
			// came back from the changelog, and no other key's did.
			want := map[string]bool{}
			for i, k := range keys {
				var sum int64
				for n := 1; n <= 6; n++ {
					sum += int64(i + (n-1)*len(keys))
					want[fmt.Sprintf("%s %d %d", k, n, sum)] = true
				}
			}
			for _, g := range got {
				if !want[g] {
					t.Errorf("output %q is not in a run without restart", g)
				}
			}
		}
	}
}

package ingest_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

// kafkaEnv is a broker with the topics of the sbs feed under a prefix: an
// in-process kfake cluster for the unit tests, the real broker for the
// integration tests. Each transport's test body runs against both.
type kafkaEnv struct {
	seeds []string
	names topics.Names
	reg   *schemas.Registry
}

func fakeKafka(t *testing.T) kafkaEnv {
	t.Helper()
	n := topics.Names{Prefix: "contrail"}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, n.Raw("sbs"), n.Ingest("sbs"), n.Rejected()))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return kafkaEnv{seeds: c.ListenAddrs(), names: n, reg: schemas.MustRegistry()}
}

// realKafka provisions the sbs topics under a unique prefix on the real
// broker and deletes them afterwards.
func realKafka(t *testing.T) kafkaEnv {
	t.Helper()
	seeds := infratest.Kafka(t)
	prefix := infratest.Name(t, "it")
	env := kafkaEnv{seeds: seeds, names: topics.Names{Prefix: prefix}, reg: schemas.MustRegistry()}
	adm := kadm.NewClient(env.client(t))
	plan := topics.Plan(topics.Options{Prefix: prefix, Feeds: []string{"sbs"}, Partitions: 3})
	if _, err := topics.Ensure(t.Context(), adm, plan); err != nil {
		t.Fatalf("create topics: %v", err)
	}
	t.Cleanup(func() {
		var names []string
		for _, s := range plan {
			names = append(names, s.Name)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
		if err != nil {
			return
		}
		defer cl.Close()
		_, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), names...)
	})
	return env
}

func (e kafkaEnv) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.seeds...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (e kafkaEnv) adapter(t *testing.T, log *slog.Logger) *ingest.Adapter {
	t.Helper()
	feed, err := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ingest.Adapter{Feed: feed, Client: e.client(t), Topics: e.names, Schemas: e.reg, Instance: instance, Log: log}
}

// landed is what an ingest left on Kafka: decoded envelopes and rejects,
// plus the Kafka records they came in.
type landed struct {
	envs    []*schemas.Envelope
	rejs    []*schemas.Rejected
	envRecs []*kgo.Record
}

func (l landed) envRaws() []string {
	out := make([]string, len(l.envs))
	for i, e := range l.envs {
		out[i] = string(e.Raw)
	}
	return out
}

// consume reads every record now on the sbs raw topic and the rejected
// topic. It asks the broker how many there are first, so it ends when they
// are read instead of waiting on a clock.
func (e kafkaEnv) consume(t *testing.T) landed {
	t.Helper()
	raw, rej := e.names.Raw("sbs"), e.names.Rejected()
	got := consumeTopics(t, e, raw, rej)
	var out landed
	for _, r := range got[raw] {
		env, err := e.reg.DecodeEnvelope(r.Value)
		if err != nil {
			t.Fatalf("raw record %s/%d@%d does not decode: %v", r.Topic, r.Partition, r.Offset, err)
		}
		if string(r.Key) != env.Key {
			t.Errorf("raw record from %s: Kafka key %q, envelope key %q", env.Origin, r.Key, env.Key)
		}
		out.envs = append(out.envs, env)
		out.envRecs = append(out.envRecs, r)
	}
	for _, r := range got[rej] {
		x, err := e.reg.DecodeRejected(r.Value)
		if err != nil {
			t.Fatalf("rejected record %s/%d@%d does not decode: %v", r.Topic, r.Partition, r.Offset, err)
		}
		out.rejs = append(out.rejs, x)
	}
	return out
}

func consumeTopics(t *testing.T, e kafkaEnv, names ...string) map[string][]*kgo.Record {
	t.Helper()
	ends, err := kadm.NewClient(e.client(t)).ListEndOffsets(t.Context(), names...)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		want += o.Offset
	})
	cl := e.client(t, kgo.ConsumeTopics(names...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	out := map[string][]*kgo.Record{}
	for n := int64(0); n < want; {
		fs := cl.PollFetches(t.Context())
		if err := fs.Err0(); err != nil {
			t.Fatalf("poll: %v", err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Topic] = append(out[r.Topic], r)
			n++
		})
	}
	return out
}

// countingSource signals once n records have been read through it.
type countingSource struct {
	ingest.Source
	n    int
	seen int
	done chan struct{}
}

func countRecords(src ingest.Source, n int) *countingSource {
	return &countingSource{Source: src, n: n, done: make(chan struct{})}
}

func (c *countingSource) Next(ctx context.Context) (ingest.Record, error) {
	r, err := c.Source.Next(ctx)
	if err == nil {
		if c.seen++; c.seen == c.n {
			close(c.done)
		}
	}
	return r, err
}

// logRecorder is a slog handler that keeps every message, so tests can wait
// for a log line (a condition) and count them.
type logRecorder struct {
	mu      sync.Mutex
	msgs    []string
	attrs   []map[string]string
	changed chan struct{}
}

func newLogRecorder() *logRecorder { return &logRecorder{changed: make(chan struct{})} }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	l.attrs = append(l.attrs, attrs)
	close(l.changed)
	l.changed = make(chan struct{})
	return nil
}

func (l *logRecorder) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// waitFor blocks until at least n messages start with prefix.
func (l *logRecorder) waitFor(t *testing.T, prefix string, n int) {
	t.Helper()
	for {
		l.mu.Lock()
		ch := l.changed
		l.mu.Unlock()
		if l.count(prefix) >= n {
			return
		}
		select {
		case <-ch:
		case <-t.Context().Done():
			t.Fatalf("test ended waiting for %d log lines %q", n, prefix)
		}
	}
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for i, m := range l.msgs {
		b.WriteString(m)
		for k, v := range l.attrs[i] {
			b.WriteString(" " + k + "=" + v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

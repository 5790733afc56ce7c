package ingest_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

const (
	rawTopic      = "contrail.raw.sbs"
	rejectedTopic = "contrail.rejected"
	instance      = "ingest/test/1"
)

// newCluster starts an in-process Kafka-protocol broker with the topics the
// SBS adapter writes to.
func newCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, rawTopic, rejectedTopic))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func newClient(t *testing.T, c *kfake.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// consumeAll reads every record on topics of the in-process cluster.
func consumeAll(t *testing.T, c *kfake.Cluster, topicNames ...string) map[string][]*kgo.Record {
	t.Helper()
	return consumeTopics(t, kafkaEnv{seeds: c.ListenAddrs()}, topicNames...)
}

type wantRecord struct {
	line    string
	reject  string                  // reason code; "" when accepted
	key     string                  // accepted only
	tsSrc   schemas.TimestampSource // accepted only
	payload time.Time               // accepted from PAYLOAD only
}

func TestAdapterRun(t *testing.T) {
	// eol per line: the file mixes CRLF and LF and ends without a terminator.
	lines := []struct {
		eol string
		wantRecord
	}{
		{"\r\n", wantRecord{line: "MSG,4,111,11111,789252,111111,2022/01/08,22:42:15.384,2022/01/08,22:42:15.368,,,387,248,,,0,,,,,0",
			key: "789252", tsSrc: schemas.FromPayload, payload: time.Date(2022, 1, 8, 22, 42, 15, 384e6, time.UTC)}},
		{"\n", wantRecord{line: "garbage, not SBS", reject: "sbs.message_type"}},
		{"\r\n", wantRecord{line: "MSG,3,111,11111,789252,\x00\xff\xfe,2022/01/08,22:42:15.605", reject: "sbs.binary"}},
		{"\n", wantRecord{line: "", reject: "sbs.empty"}},
		{"\r\n", wantRecord{line: "MSG,4,111,11111,a3b1a0,111111,2022/01/08,23:41:59.967,2022/01/08,23:41:59.940,,,373,253,,,0,,,,,0",
			key: "A3B1A0", tsSrc: schemas.FromPayload, payload: time.Date(2022, 1, 8, 23, 41, 59, 967e6, time.UTC)}},
		{"\n", wantRecord{line: "MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0", key: "86E488", tsSrc: schemas.FromReceipt}},
		{"\r\n", wantRecord{line: "MSG,7,111,11111,000000,111111,2022/01/08,23:18:58.433,2022/01/08,23:18:58.437,,,,,,,,,,,,",
			key: "000000", tsSrc: schemas.FromPayload, payload: time.Date(2022, 1, 8, 23, 18, 58, 433e6, time.UTC)}},
		{"\n", wantRecord{line: "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,0", reject: "sbs.field_count"}},
		{"\n", wantRecord{line: "MSG,9,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0", reject: "sbs.transmission_type"}},
		{"\n", wantRecord{line: "MSG,8,111,11111,78925Z,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0", reject: "sbs.icao"}},
		{"\n", wantRecord{line: "MSG,8,111,11111,789252,111111,08.01.2022,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0", reject: "sbs.timestamp"}},
		{"", wantRecord{line: "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0",
			key: "789252", tsSrc: schemas.FromPayload, payload: time.Date(2022, 1, 8, 22, 42, 16, 285e6, time.UTC)}},
	}
	var file bytes.Buffer
	var wantAccepted, wantRejected, wantBytes int
	for _, l := range lines {
		file.WriteString(l.line + l.eol)
		wantBytes += len(l.line)
		if l.reject == "" {
			wantAccepted++
		} else {
			wantRejected++
		}
	}
	path := writeFile(t, file.Bytes())

	c := newCluster(t)
	feed, err := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := schemas.MustRegistry()
	prom := prometheus.NewRegistry()
	a := &ingest.Adapter{
		Feed: feed, Client: newClient(t, c), Topics: topics.Names{Prefix: "contrail"}, Schemas: reg,
		Instance: instance, Log: slog.New(slog.DiscardHandler), Metrics: ingest.NewMetrics(prom),
	}
	src, err := ingest.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	before := time.Now().Truncate(time.Millisecond)
	st, err := a.Run(t.Context(), src)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	after := time.Now()

	if st.Read != st.Accepted+st.Rejected {
		t.Errorf("Stats %+v: Read != Accepted + Rejected", st)
	}
	if want := (ingest.Stats{Read: int64(len(lines)), Accepted: int64(wantAccepted), Rejected: int64(wantRejected)}); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}

	got := consumeAll(t, c, rawTopic, rejectedTopic)
	if len(got[rawTopic]) != wantAccepted || len(got[rejectedTopic]) != wantRejected {
		t.Fatalf("topics hold %d raw and %d rejected records, want %d and %d",
			len(got[rawTopic]), len(got[rejectedTopic]), wantAccepted, wantRejected)
	}
	envs := map[string]*schemas.Envelope{}
	for _, r := range got[rawTopic] {
		e, err := reg.DecodeEnvelope(r.Value)
		if err != nil {
			t.Fatalf("raw record at %s/%d@%d does not decode: %v", r.Topic, r.Partition, r.Offset, err)
		}
		if string(r.Key) != e.Key {
			t.Errorf("raw record from %s: Kafka key %q, envelope key %q", e.Origin, r.Key, e.Key)
		}
		envs[e.Origin] = e
	}
	rejs := map[string]*schemas.Rejected{}
	for _, r := range got[rejectedTopic] {
		x, err := reg.DecodeRejected(r.Value)
		if err != nil {
			t.Fatalf("rejected record at %s/%d@%d does not decode: %v", r.Topic, r.Partition, r.Offset, err)
		}
		if string(r.Key) != "sbs" {
			t.Errorf("rejected record from %s: Kafka key %q, want the feed name", x.Origin, r.Key)
		}
		rejs[x.Origin] = x
	}

	for i, l := range lines {
		origin := fmt.Sprintf("file:%s:%d", path, i+1)
		// Event ids name the file by base name, so re-ingesting it from
		// another directory gives the same ids.
		id := schemas.EventID("sbs", fmt.Sprintf("file:input.sbs:%d", i+1), []byte(l.line))
		t.Run(fmt.Sprintf("line %d", i+1), func(t *testing.T) {
			if l.reject != "" {
				x, ok := rejs[origin]
				if !ok {
					t.Fatalf("no rejected record from %s (%q)", origin, l.line)
				}
				if _, dup := envs[origin]; dup {
					t.Errorf("%s is on both the raw and the rejected topic", origin)
				}
				if x.ReasonCode != l.reject || x.Reason == "" {
					t.Errorf("reason %q (%s), want code %q and a reason", x.ReasonCode, x.Reason, l.reject)
				}
				if !bytes.Equal(x.Raw, []byte(l.line)) {
					t.Errorf("rejected Raw = %q, want %q", x.Raw, l.line)
				}
				if x.Feed != "sbs" || x.Adapter != instance || x.ID != id {
					t.Errorf("rejected record %+v: wrong feed, adapter or id", x)
				}
				if x.IngestTS.Before(before) || x.IngestTS.After(after) {
					t.Errorf("IngestTS %v outside the run [%v, %v]", x.IngestTS, before, after)
				}
				return
			}
			e, ok := envs[origin]
			if !ok {
				t.Fatalf("no raw record from %s (%q)", origin, l.line)
			}
			if !bytes.Equal(e.Raw, []byte(l.line)) {
				t.Errorf("Raw = %q, want %q byte for byte", e.Raw, l.line)
			}
			if e.Key != l.key {
				t.Errorf("Key = %q, want %q", e.Key, l.key)
			}
			if e.ProducerTSSource != l.tsSrc {
				t.Errorf("ProducerTSSource = %s, want %s", e.ProducerTSSource, l.tsSrc)
			}
			switch l.tsSrc {
			case schemas.FromPayload:
				if !e.ProducerTS.Equal(l.payload) {
					t.Errorf("ProducerTS = %v, want %v from the line", e.ProducerTS, l.payload)
				}
			case schemas.FromReceipt:
				if !e.ProducerTS.Equal(e.IngestTS) {
					t.Errorf("ProducerTS = %v, want the receipt time %v", e.ProducerTS, e.IngestTS)
				}
			}
			if e.IngestTS.Before(before) || e.IngestTS.After(after) {
				t.Errorf("IngestTS %v outside the run [%v, %v]", e.IngestTS, before, after)
			}
			if e.Feed != "sbs" || e.Format != "sbs-1" || e.FormatVersion != "1" || e.Adapter != instance {
				t.Errorf("envelope %+v: wrong feed, format or adapter", e)
			}
			if e.ID != id {
				t.Errorf("ID = %s, want %s = EventID(sbs, file:input.sbs:%d, raw)", e.ID, id, i+1)
			}
		})
	}

	wantMetrics := map[string]float64{
		`contrail_ingest_bytes_total{feed="sbs"}`:                      float64(wantBytes),
		`contrail_ingest_records_total{feed="sbs",outcome="accepted"}`: float64(wantAccepted),
		`contrail_ingest_records_total{feed="sbs",outcome="rejected"}`: float64(wantRejected),
	}
	gotMetrics := counters(t, prom, "contrail_ingest_records_total", "contrail_ingest_bytes_total")
	if fmt.Sprint(gotMetrics) != fmt.Sprint(wantMetrics) {
		t.Errorf("metrics = %v, want %v", gotMetrics, wantMetrics)
	}
}

// counters gathers the named counter families from reg as
// "name{label="value",...}" -> value. (prometheus/testutil would read better
// but needs a go.mod change: it depends on github.com/kylelemons/godebug.)
func counters(t *testing.T, reg prometheus.Gatherer, names ...string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !slices.Contains(names, mf.GetName()) {
			continue
		}
		if mf.GetType() != dto.MetricType_COUNTER {
			t.Errorf("%s is a %s, want a counter", mf.GetName(), mf.GetType())
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestAdapterOversizeLine checks a line longer than MaxRecordBytes is
// rejected with its first bytes kept, and the run goes on.
func TestAdapterOversizeLine(t *testing.T) {
	long := bytes.Repeat([]byte{'x'}, ingest.MaxRecordBytes+100)
	valid := "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0"
	path := writeFile(t, append(append(long, '\n'), valid+"\n"...))

	c := newCluster(t)
	feed, err := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := schemas.MustRegistry()
	a := &ingest.Adapter{Feed: feed, Client: newClient(t, c), Schemas: reg, Instance: instance, Log: slog.New(slog.DiscardHandler)}
	src, err := ingest.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, err := a.Run(t.Context(), src)
	if err != nil {
		t.Fatalf("Run: %v; want the oversize line rejected and the run to go on", err)
	}
	if want := (ingest.Stats{Read: 2, Accepted: 1, Rejected: 1}); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	got := consumeAll(t, c, rawTopic, rejectedTopic)
	if len(got[rejectedTopic]) != 1 || len(got[rawTopic]) != 1 {
		t.Fatalf("%d rejected and %d raw records, want 1 and 1", len(got[rejectedTopic]), len(got[rawTopic]))
	}
	x, err := reg.DecodeRejected(got[rejectedTopic][0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if x.ReasonCode != "ingest.oversize" || len(x.Raw) != ingest.MaxRecordBytes || x.Origin != "file:"+path+":1" {
		t.Errorf("rejected record: code %q, %d raw bytes, origin %q; want ingest.oversize, %d bytes, line 1",
			x.ReasonCode, len(x.Raw), x.Origin, ingest.MaxRecordBytes)
	}
}

// TestAdapterReceiptStampsIncrease: records without a producer time, read
// in the same millisecond, get strictly increasing receipt stamps in the
// order they were read, so the newest by producer time is the last received
// (not the one with the greater event id).
func TestAdapterReceiptStampsIncrease(t *testing.T) {
	a := fakeKafka(t).adapter(t, nil)
	now := time.Date(2026, 1, 1, 12, 0, 0, 500_000, time.UTC)
	var recs []ingest.Record
	for i := range 50 {
		recs = append(recs, ingest.Record{Raw: []byte(fmt.Sprintf("MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,%d", i%2)), Origin: fmt.Sprintf("test:%d", i), Received: now})
	}
	_, res, err := a.IngestBatch(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.TSSource != schemas.FromReceipt {
			t.Fatalf("record %d: timestamp from %s, want receipt", i, r.TSSource)
		}
		if i > 0 && !r.ProducerTS.After(res[i-1].ProducerTS) {
			t.Errorf("record %d stamped %v, not after record %d's %v", i, r.ProducerTS, i-1, res[i-1].ProducerTS)
		}
	}
	if first := res[0].ProducerTS; !first.Equal(now.Truncate(time.Millisecond)) {
		t.Errorf("first stamp %v, want the receipt time %v", first, now)
	}
	// A later receipt time is taken as it is.
	later := now.Add(time.Hour)
	_, res2, err := a.IngestBatch(t.Context(), []ingest.Record{{Raw: recs[0].Raw, Origin: "test:later", Received: later}})
	if err != nil {
		t.Fatal(err)
	}
	if !res2[0].ProducerTS.Equal(later.Truncate(time.Millisecond)) {
		t.Errorf("later record stamped %v, want %v", res2[0].ProducerTS, later)
	}
}

package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/kafka"
)

// kafkaTarget is a topic prefix of its own on the real broker, with the
// topics provisioned by 'contrail topics' and deleted afterwards.
type kafkaTarget struct {
	brokers []string
	prefix  string
}

func newKafkaTarget(t *testing.T) kafkaTarget {
	t.Helper()
	kt := kafkaTarget{brokers: infratest.Kafka(t), prefix: infratest.Name(t, "it")}
	t.Cleanup(func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(kt.brokers...))
		if err != nil {
			return
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		if ts, err := adm.ListTopics(context.Background()); err == nil {
			var mine []string
			for _, n := range ts.Names() {
				if strings.HasPrefix(n, kt.prefix+".") {
					mine = append(mine, n)
				}
			}
			_, _ = adm.DeleteTopics(context.Background(), mine...)
		}
		_, _ = adm.DeleteGroups(context.Background(), kt.prefix+"-ingest-sbs")
	})
	if code, out, errs := contrail(t, "topics", "--brokers", strings.Join(kt.brokers, ","), "--topic-prefix", kt.prefix); code != 0 {
		t.Fatalf("contrail topics: exit %d\n%s%s", code, out, errs)
	}
	return kt
}

func (kt kafkaTarget) args(transport string, extra ...string) []string {
	return append([]string{"ingest", transport, "--brokers", strings.Join(kt.brokers, ","), "--topic-prefix", kt.prefix,
		"--listen", "127.0.0.1:0", "--log-format", "json"}, extra...)
}

func (kt kafkaTarget) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(kt.brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// waitRecords waits until the raw and rejected topics hold n records.
func (kt kafkaTarget) waitRecords(t *testing.T, n int64) {
	t.Helper()
	adm := kadm.NewClient(kt.client(t))
	for {
		ends, err := adm.ListEndOffsets(t.Context(), kt.prefix+".raw.sbs", kt.prefix+".rejected")
		var have int64
		if err == nil {
			ends.Each(func(o kadm.ListedOffset) { have += max(o.Offset, 0) })
		}
		if have >= n {
			return
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("test ended with %d of %d records on Kafka", have, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// syncBuffer is written by the command and read by the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a contrail command running in-process; stop cancels its
// context, which is what SIGTERM does in cmd/contrail.
type running struct {
	stop           context.CancelFunc
	done           chan int
	stdout, stderr *syncBuffer
}

func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stop: cancel, done: make(chan int, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	go func() {
		r.done <- cli.Main(ctx, cli.Env{Stdout: r.stdout, Stderr: r.stderr, Getenv: func(string) string { return "" }}, args)
	}()
	t.Cleanup(cancel)
	return r
}

// logAttr waits for a JSON log line whose message starts with msg and
// returns its attribute key.
func (r *running) logAttr(t *testing.T, msg, key string) string {
	t.Helper()
	for {
		sc := bufio.NewScanner(strings.NewReader(r.stderr.String()))
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasPrefix(fmt.Sprint(line["msg"]), msg) {
				return fmt.Sprint(line[key])
			}
		}
		select {
		case code := <-r.done:
			t.Fatalf("contrail exited %d before logging %q:\n%s%s", code, msg, r.stdout, r.stderr)
		case <-t.Context().Done():
			t.Fatalf("test ended before contrail logged %q", msg)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitReady polls /readyz until it answers 200.
func (r *running) waitReady(t *testing.T) string {
	t.Helper()
	base := r.logAttr(t, "serving /metrics", "addr")
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case code := <-r.done:
			t.Fatalf("contrail exited %d before it was ready:\n%s", code, r.stderr)
		case <-t.Context().Done():
			t.Fatal("test ended before contrail was ready")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stopAndWait stops the command as SIGTERM would and returns its exit code.
func (r *running) stopAndWait(t *testing.T) int {
	t.Helper()
	r.stop()
	select {
	case code := <-r.done:
		return code
	case <-t.Context().Done():
		t.Fatalf("contrail did not stop:\n%s", r.stderr)
		return -1
	}
}

func (r *running) metrics(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestIntegrationIngestTCP runs 'contrail ingest tcp' against a feed that
// drops mid-line and comes back, then stops it as SIGTERM would.
func TestIntegrationIngestTCP(t *testing.T) {
	kt := newKafkaTarget(t)
	lines := infratest.SBSLines(100)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.WriteString(c, strings.Join(lines[:50], "\n")+"\n"+lines[50][:20])
		c.Close()
		c, err = ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, strings.Join(lines[50:], "\n")+"\n")
		_, _ = c.Read(make([]byte, 1))
	}()
	r := start(t, kt.args("tcp", "--feed", "sbs", "--connect", ln.Addr().String(), "--reconnect-initial", "10ms")...)
	base := r.waitReady(t)
	kt.waitRecords(t, 101)
	m := r.metrics(t, base)
	for _, want := range []string{`contrail_ingest_connections{feed="sbs",transport="tcp"} 1`, `contrail_ingest_connection_losses_total{feed="sbs",transport="tcp"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code := r.stopAndWait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, r.stderr)
	}
	if out := r.stdout.String(); out != "read 101, accepted 100, rejected 1\n" {
		t.Errorf("stdout %q", out)
	}
	if n := strings.Count(r.stderr.String(), "feed connection lost"); n != 1 {
		t.Errorf("%d 'connection lost' lines, want 1", n)
	}
}

// TestIntegrationIngestListen runs 'contrail ingest listen' with two
// producers.
func TestIntegrationIngestListen(t *testing.T) {
	kt := newKafkaTarget(t)
	r := start(t, kt.args("listen", "--feed", "sbs", "--tcp-addr", "127.0.0.1:0")...)
	r.waitReady(t)
	addr := r.logAttr(t, "accepting feed producers", "addr")
	lines := infratest.SBSLines(200)
	var wg sync.WaitGroup
	for _, part := range [][]string{lines[:100], lines[100:]} {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			io.WriteString(c, strings.Join(part, "\r\n")+"\r\n")
		})
	}
	wg.Wait()
	kt.waitRecords(t, 200)
	if code := r.stopAndWait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, r.stderr)
	}
	if out := r.stdout.String(); out != "read 200, accepted 200, rejected 0\n" {
		t.Errorf("stdout %q", out)
	}
}

// TestIntegrationIngestHTTP runs 'contrail ingest http' and posts a mixed
// batch.
func TestIntegrationIngestHTTP(t *testing.T) {
	kt := newKafkaTarget(t)
	r := start(t, kt.args("http", "--http-addr", "127.0.0.1:0", "--http-max-body", "64KiB")...)
	base := r.waitReady(t)
	url := strings.Replace(r.logAttr(t, "accepting HTTP batches", "addr"), "{feed}", "sbs", 1)
	body := strings.Join(append(infratest.SBSLines(10), "garbage"), "\n")
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got ingest.HTTPResponse
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || got.Accepted != 10 || got.Rejected != 1 || got.Results[10].ReasonCode != "sbs.message_type" {
		t.Errorf("status %d, %+v; want 422 with 10 accepted and the garbage line rejected", resp.StatusCode, got)
	}
	kt.waitRecords(t, 11)
	if m := r.metrics(t, base); !strings.Contains(m, `contrail_ingest_http_requests_total{code="422",feed="sbs"} 1`) {
		t.Errorf("/metrics does not count the request:\n%s", m)
	}
	if code := r.stopAndWait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, r.stderr)
	}
	if out := r.stdout.String(); out != "read 11, accepted 10, rejected 1\n" {
		t.Errorf("stdout %q", out)
	}
}

// TestIntegrationIngestKafka runs 'contrail ingest kafka' on records an
// external producer wrote to the landing topic, until its group committed
// them.
func TestIntegrationIngestKafka(t *testing.T) {
	kt := newKafkaTarget(t)
	var recs []*kgo.Record
	for _, l := range infratest.SBSLines(50) {
		recs = append(recs, &kgo.Record{Topic: kt.prefix + ".ingest.sbs", Value: []byte(l)})
	}
	recs = append(recs, &kgo.Record{Topic: kt.prefix + ".ingest.sbs", Value: []byte(infratest.SBSLines(1)[0]),
		Headers: []kgo.RecordHeader{{Key: "contrail-format", Value: []byte("adexp")}}})
	if err := kt.client(t).ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	r := start(t, kt.args("kafka", "--feed", "sbs")...)
	r.waitReady(t)
	kt.waitRecords(t, 51)
	// Offsets are committed after the acks; wait for that before stopping.
	// The group exists by now: it consumed the records.
	if err := kafka.WaitCaughtUp(t.Context(), kadm.NewClient(kt.client(t)), kt.prefix+"-ingest-sbs", 20*time.Millisecond, nil, kt.prefix+".ingest.sbs"); err != nil {
		t.Fatal(err)
	}
	if code := r.stopAndWait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, r.stderr)
	}
	if out := r.stdout.String(); out != "read 51, accepted 50, rejected 1\n" {
		t.Errorf("stdout %q", out)
	}

	// A landing topic that does not exist is a configuration error.
	code, _, errs := contrail(t, "ingest", "kafka", "--feed", "sbs", "--brokers", strings.Join(kt.brokers, ","),
		"--topic-prefix", kt.prefix+"-none", "--listen", "127.0.0.1:0")
	if code != cli.ExitConfig || !strings.Contains(errs, "landing topic "+kt.prefix+"-none.ingest.sbs does not exist") {
		t.Errorf("missing landing topic: exit %d, stderr %q", code, errs)
	}
}

// TestIntegrationIngestFileReplay replays a JSONL recording at 1000x.
func TestIntegrationIngestFileReplay(t *testing.T) {
	kt := newKafkaTarget(t)
	at := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	var rec []byte
	for i, l := range infratest.SBSLines(20) {
		rec = ingest.AppendRecordingLine(rec, at.Add(time.Duration(i)*time.Second), "", []byte(l))
	}
	rec = append(rec, "not a recording line\n"...)
	path := filepath.Join(t.TempDir(), "capture.jsonl")
	if err := os.WriteFile(path, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := contrail(t, kt.args("file", "--feed", "sbs", "--format", "jsonl", "--speed", "1000", path)...)
	if code != 0 || out != "read 21, accepted 20, rejected 1\n" {
		t.Errorf("exit %d, stdout %q\n%s", code, out, errs)
	}
}

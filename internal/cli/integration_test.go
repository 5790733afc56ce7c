package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// contrail runs the CLI in-process and returns its exit code and output.
func contrail(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

// testTarget is one isolated pipeline on the shared broker and server.
type testTarget struct {
	brokers []string
	ch      string
	name    string // topic prefix, consumer group and database
}

func newTarget(t *testing.T) testTarget {
	t.Helper()
	tt := testTarget{brokers: infratest.Kafka(t), ch: infratest.ClickHouse(t), name: infratest.Name(t, "it")}
	t.Cleanup(func() { tt.cleanup(t) })
	return tt
}

func (tt testTarget) args(extra ...string) []string {
	return append([]string{
		"--brokers", strings.Join(tt.brokers, ","), "--clickhouse", tt.ch,
		"--clickhouse-database", tt.name, "--topic-prefix", tt.name,
		"--sink-group", tt.name, "--listen", "127.0.0.1:0",
	}, extra...)
}

func (tt testTarget) cleanup(t *testing.T) {
	ctx := context.Background()
	if conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: tt.ch, Database: tt.name}, discardLogger()); err == nil {
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+tt.name)
		conn.Close()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(tt.brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if ts, err := adm.ListTopics(ctx); err == nil {
		var mine []string
		for _, n := range ts.Names() {
			if strings.HasPrefix(n, tt.name+".") {
				mine = append(mine, n)
			}
		}
		_, _ = adm.DeleteTopics(ctx, mine...)
	}
	_, _ = adm.DeleteGroups(ctx, tt.name)
}

func openCH(t *testing.T, addr, db string) *clickhouse.Conn {
	t.Helper()
	conn, err := clickhouse.Open(context.Background(), clickhouse.Config{Addr: addr, Database: db}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// fileLines splits a file into records the way ingest does: LF or CRLF
// terminated, the terminator not part of the record.
func fileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// storedRaw returns origin -> raw of every row of raw_events.
func storedRaw(t *testing.T, conn *clickhouse.Conn) map[string]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT origin, raw FROM "+conn.Database+".raw_events FINAL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var origin, raw string
		if err := rows.Scan(&origin, &raw); err != nil {
			t.Fatal(err)
		}
		if _, dup := got[origin]; dup {
			t.Errorf("origin %s stored twice", origin)
		}
		got[origin] = raw
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestIntegrationRunRealSample is the walking skeleton's acceptance test: the
// real SBS capture goes through real Kafka into real ClickHouse, one row per
// line, each row's raw bytes equal to its line.
func TestIntegrationRunRealSample(t *testing.T) {
	sample := infratest.SharedData(t, "sbs/coniferconifer-20220108-part1.sbs")
	tt := newTarget(t)
	code, stdout, stderr := contrail(t, append([]string{"run"}, tt.args("--input", "sbs:"+sample, "--once")...)...)
	if code != 0 {
		t.Fatalf("contrail run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := fileLines(t, sample)
	if !strings.Contains(stdout, fmt.Sprintf("read %d, accepted %d, rejected 0", len(lines), len(lines))) {
		t.Errorf("stdout does not report %d lines all accepted:\n%s", len(lines), stdout)
	}
	got := storedRaw(t, openCH(t, tt.ch, tt.name))
	if len(got) != len(lines) {
		t.Fatalf("raw_events has %d rows, the file has %d lines", len(got), len(lines))
	}
	checkStatus(t, tt, len(lines))
	for i, want := range lines {
		origin := fmt.Sprintf("file:%s:%d", sample, i+1)
		if raw, ok := got[origin]; !ok {
			t.Fatalf("no row for %s", origin)
		} else if raw != want {
			t.Fatalf("row %s raw differs:\n got %q\nwant %q", origin, raw, want)
		}
	}
}

// TestIntegrationRunEmbeddedBroker runs without --brokers: the embedded
// broker carries the records, ClickHouse is real. Garbage lines land in
// raw_events as rejected, so rows = lines.
func TestIntegrationRunEmbeddedBroker(t *testing.T) {
	ch := infratest.ClickHouse(t)
	db := infratest.Name(t, "it")
	t.Cleanup(func() { _ = openCH(t, ch, db).Exec(context.Background(), "DROP DATABASE IF EXISTS "+db) })
	lines := append(infratest.SBSLines(200), "MSG,3,garbage", "\x00\x01binary", "")
	input := filepath.Join(t.TempDir(), "in.sbs")
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--clickhouse", ch, "--clickhouse-database", db, "--data-dir", t.TempDir(),
		"--listen", "127.0.0.1:0", "--input", "sbs:" + input, "--once"}
	code, stdout, stderr := contrail(t, args...)
	if code != 0 {
		t.Fatalf("contrail run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "embedded Kafka-protocol broker") {
		t.Errorf("log does not say the embedded broker was started:\n%s", stderr)
	}
	if !strings.Contains(stdout, "read 203, accepted 200, rejected 3") {
		t.Errorf("unexpected counts:\n%s", stdout)
	}
	conn := openCH(t, ch, db)
	got := storedRaw(t, conn)
	if len(got) != len(lines) {
		t.Fatalf("raw_events has %d rows, want %d", len(got), len(lines))
	}
	for i, want := range lines {
		if raw := got[fmt.Sprintf("file:%s:%d", input, i+1)]; raw != want {
			t.Errorf("line %d: stored %q, want %q", i+1, raw, want)
		}
	}
	var rejected uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".raw_events FINAL WHERE outcome = 'rejected' AND reason_code != ''").Scan(&rejected); err != nil {
		t.Fatal(err)
	}
	if rejected != 3 {
		t.Errorf("%d rejected rows with a reason, want 3", rejected)
	}
}

// TestIntegrationTopicsIdempotent: the second run creates nothing.
func TestIntegrationTopicsIdempotent(t *testing.T) {
	tt := newTarget(t)
	args := []string{"topics", "--brokers", strings.Join(tt.brokers, ","), "--topic-prefix", tt.name}
	code, out, errs := contrail(t, args...)
	if code != 0 || !strings.Contains(out, "17 created, 0 ok, 0 drifted") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = contrail(t, args...)
	if code != 0 || !strings.Contains(out, "0 created, 17 ok, 0 drifted") {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = contrail(t, append(args, "--partitions", "5")...)
	if code != 1 || !strings.Contains(out, "partitions: have 3, plan 5") {
		t.Fatalf("drift run: exit %d, want 1 with the partition drift reported\n%s", code, out)
	}
}

// TestIntegrationMigrateIdempotent: the second migrate applies nothing.
func TestIntegrationMigrateIdempotent(t *testing.T) {
	tt := newTarget(t)
	args := []string{"migrate", "--clickhouse", tt.ch, "--clickhouse-database", tt.name}
	code, out, errs := contrail(t, args...)
	if code != 0 || !strings.Contains(out, "migrated from version 0 to 3") {
		t.Fatalf("first migrate: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = contrail(t, args...)
	if code != 0 || !strings.Contains(out, "up to date at version 3") {
		t.Fatalf("second migrate: exit %d\n%s%s", code, out, errs)
	}
	// A database migrated by a newer binary is refused.
	conn := openCH(t, tt.ch, tt.name)
	b, err := conn.PrepareBatch(context.Background(), "INSERT INTO "+tt.name+".schema_migrations (version, name, dialect, applied_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint32(999), "from_the_future", "legacy", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	code, _, errs = contrail(t, args...)
	if code == 0 || !strings.Contains(errs, "newer than this binary") {
		t.Fatalf("migrate against a newer schema: exit %d, stderr %q", code, errs)
	}
}

// checkStatus runs `contrail status` after a pipeline run: the sink has
// caught up, and the view shows every event of the input.
func checkStatus(t *testing.T, tt testTarget, events int) {
	t.Helper()
	args := []string{"status", "--brokers", strings.Join(tt.brokers, ","), "--topic-prefix", tt.name,
		"--sink-group", tt.name, "--clickhouse", tt.ch, "--clickhouse-database", tt.name, "--json", "--wait", "30s"}
	code, out, errs := contrail(t, args...)
	if code != 0 {
		t.Fatalf("status exited %d\n%s%s", code, out, errs)
	}
	var rep struct {
		TotalLag  int64 `json:"total_lag"`
		Freshness []struct {
			Feed   string
			Events uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status --json output is not JSON: %v\n%s", err, out)
	}
	if rep.TotalLag != 0 || len(rep.Freshness) != 1 || rep.Freshness[0].Feed != "sbs" || rep.Freshness[0].Events != uint64(events) {
		t.Fatalf("status reports %+v, want lag 0 and %d sbs events", rep, events)
	}
	// A group that never consumed is behind: --wait gives up with status 1.
	code, _, errs = contrail(t, "status", "--brokers", strings.Join(tt.brokers, ","), "--topic-prefix", tt.name,
		"--sink-group", tt.name+"-idle", "--wait", "600ms")
	if code != cli.ExitFail || !strings.Contains(errs, "behind") {
		t.Fatalf("status --wait for an idle group: exit %d, stderr %q; want 1 naming the lag", code, errs)
	}
}

// TestIntegrationStatusNoTopics: status against a prefix with no topics
// says what to do instead of printing Kafka's error code.
func TestIntegrationStatusNoTopics(t *testing.T) {
	brokers := infratest.Kafka(t)
	code, _, errs := contrail(t, "status", "--brokers", strings.Join(brokers, ","), "--topic-prefix", infratest.Name(t, "none"))
	if code != cli.ExitConfig || !strings.Contains(errs, "run 'contrail topics'") {
		t.Fatalf("exit %d, stderr %q; want 2 telling to run contrail topics", code, errs)
	}
}

// TestIntegrationProcessWaitsForTopics: process started before its topics
// exist waits, saying which are missing and what to run, and is not ready
// meanwhile; once they exist it starts.
func TestIntegrationProcessWaitsForTopics(t *testing.T) {
	brokers := infratest.Kafka(t)
	prefix := infratest.Name(t, "late")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	env := cli.Env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, env, []string{"process", "--brokers", strings.Join(brokers, ","), "--topic-prefix", prefix, "--listen", "127.0.0.1:0"})
	}()
	for !strings.Contains(stderr.String(), "run 'contrail topics'") {
		select {
		case code := <-done:
			t.Fatalf("process exited %d before its topics existed:\n%s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if code, out, errs := contrail(t, "topics", "--brokers", strings.Join(brokers, ","), "--topic-prefix", prefix); code != 0 {
		t.Fatalf("topics exited %d\n%s%s", code, out, errs)
	}
	for !strings.Contains(stderr.String(), "processor step starting") {
		select {
		case code := <-done:
			t.Fatalf("process exited %d:\n%s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != cli.ExitOK {
		t.Errorf("process exited %d after SIGTERM-like cancel:\n%s", code, stderr.String())
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// privateClickHouse is a second private ClickHouse server, started by the
// project's deploy/local/clickhouse script under its own home and ports, so
// a test can stop it without disturbing the shared one other tests use.
type privateClickHouse struct {
	t    *testing.T
	env  []string
	addr string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startPrivateClickHouse(t *testing.T) *privateClickHouse { return startPrivateClickHouseEnv(t) }

// startPrivateClickHouseEnv is startPrivateClickHouse with extra settings
// for the script (CLICKHOUSE_TLS_PORT, ...).
func startPrivateClickHouseEnv(t *testing.T, extra ...string) *privateClickHouse {
	t.Helper()
	infratest.ClickHouse(t) // skips (or fails in CI) where ClickHouse is not installed
	native, http := freePort(t), freePort(t)
	c := &privateClickHouse{t: t, addr: fmt.Sprintf("127.0.0.1:%d", native), env: append(append(os.Environ(),
		"CONTRAIL_HOME="+t.TempDir(), fmt.Sprintf("CLICKHOUSE_PORT=%d", native), fmt.Sprintf("CLICKHOUSE_HTTP_PORT=%d", http)), extra...)}
	c.script("start")
	t.Cleanup(func() { c.script("stop") })
	return c
}

func (c *privateClickHouse) script(cmd string) {
	c.t.Helper()
	sh := exec.Command("../../deploy/local/clickhouse", cmd)
	sh.Env = c.env
	if out, err := sh.CombinedOutput(); err != nil {
		c.t.Fatalf("deploy/local/clickhouse %s: %v\n%s", cmd, err, out)
	}
}

// TestIntegrationSinkClickHouseOutage stops ClickHouse for 60 s while the
// sink is writing and records keep arriving, then starts it again: every
// record ends up in raw_events exactly once, the sink catches up, and its log
// has one line for the outage and one for the recovery, not one per retry.
func TestIntegrationSinkClickHouseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("takes over a minute: -short")
	}
	seeds := infratest.Kafka(t)
	ch := startPrivateClickHouse(t)
	bin := buildBinary(t)
	name := infratest.Name(t, "outage")
	ctx := context.Background()
	lines := infratest.SBSLines(20000)
	dir := t.TempDir()
	half := len(lines) / 2
	first, second := filepath.Join(dir, "first.sbs"), filepath.Join(dir, "second.sbs")
	for path, ls := range map[string][]string{first: lines[:half], second: lines[half:]} {
		if err := os.WriteFile(path, []byte(strings.Join(ls, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--brokers", strings.Join(seeds, ","), "--topic-prefix", name}
	env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	mustMain := func(args ...string) {
		t.Helper()
		if code := cli.Main(ctx, env, args); code != 0 {
			t.Fatalf("contrail %v exited %d", args, code)
		}
	}
	mustMain(append([]string{"topics", "--feeds", "sbs"}, common...)...)
	mustMain("migrate", "--clickhouse", ch.addr, "--clickhouse-database", name)
	mustMain(append(append([]string{"ingest", "file", "--feed", "sbs", "--listen", "127.0.0.1:0"}, common...), first)...)

	conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: ch.addr, Database: name}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sink := startProc(t, bin, append([]string{"sink", "--feeds", "sbs", "--clickhouse", ch.addr, "--clickhouse-database", name,
		"--sink-group", name, "--listen", "127.0.0.1:0", "--log-format", "json", "--batch-rows", "1000", "--flush-interval", "50ms"}, common...)...)
	for rows := uint64(0); rows == 0; {
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+name+".raw_events").Scan(&rows); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn.Close()

	ch.script("stop")
	mustMain(append(append([]string{"ingest", "file", "--feed", "sbs", "--listen", "127.0.0.1:0"}, common...), second)...)
	time.Sleep(60 * time.Second)
	select {
	case err := <-sink.done:
		t.Fatalf("sink exited during the outage: %v\n%s", err, sink.logs.String())
	default:
	}
	ch.script("start")

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := kafka.WaitCaughtUp(wctx, kadm.NewClient(cl), name, 100*time.Millisecond, nil, name+".raw.sbs", name+".rejected"); err != nil {
		t.Fatalf("lag did not recover: %v\n%s", err, sink.logs.String())
	}
	sink.stop(t)

	conn, err = clickhouse.Open(ctx, clickhouse.Config{Addr: ch.addr, Database: name}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var total, distinct, final uint64
	if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM "+name+".raw_events").Scan(&total, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+name+".raw_events FINAL").Scan(&final); err != nil {
		t.Fatal(err)
	}
	if distinct != uint64(len(lines)) || final != uint64(len(lines)) {
		t.Errorf("after the outage raw_events has %d distinct events (%d after FINAL), want %d: rows lost or duplicated", distinct, final, len(lines))
	}
	t.Logf("%d rows physically (%d re-inserted after the outage, deduplicated by FINAL)", total, total-distinct)
	logs := sink.logs.String()
	if n := strings.Count(logs, "ClickHouse insert failed; retrying"); n != 1 {
		t.Errorf("%d 'insert failed' lines for one outage, want 1:\n%s", n, logs)
	}
	if n := strings.Count(logs, "ClickHouse inserts recovered"); n != 1 {
		t.Errorf("%d 'recovered' lines for one outage, want 1", n)
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// proc is a contrail process under test with its JSON log collected.
type proc struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan error
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), logs: &bytes.Buffer{}, done: make(chan error, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.logs.Write(append(sc.Bytes(), '\n'))
		}
		p.done <- p.cmd.Wait()
	}()
	return p
}

// stop sends SIGTERM and expects exit status 0 within the 10 s grace period
// an orchestrator gives.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("exit status %d after SIGTERM; logs:\n%s", ee.ExitCode(), p.logs.String())
		} else if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after SIGTERM; logs:\n%s", p.logs.String())
	}
}

// sinkScenario is a raw topic holding 30,000 SBS records and a migrated,
// empty database, for tests that stop or crash the sink mid-stream.
type sinkScenario struct {
	t       *testing.T
	bin     string
	name    string // topic prefix, consumer group and database
	seeds   []string
	events  uint64
	conn    *clickhouse.Conn
	sinkCmd []string
}

func newSinkScenario(t *testing.T) *sinkScenario {
	t.Helper()
	seeds := infratest.Kafka(t)
	ch := infratest.ClickHouse(t)
	s := &sinkScenario{t: t, bin: buildBinary(t), name: infratest.Name(t, "it"), seeds: seeds}
	ctx := context.Background()

	lines := infratest.SBSLines(30000)
	s.events = uint64(len(lines))
	input := filepath.Join(t.TempDir(), "in.sbs")
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--brokers", strings.Join(seeds, ","), "--topic-prefix", s.name}
	env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	for _, args := range [][]string{
		append([]string{"topics", "--feeds", "sbs"}, common...),
		{"migrate", "--clickhouse", ch, "--clickhouse-database", s.name},
		append(append([]string{"ingest", "file", "--feed", "sbs", "--listen", "127.0.0.1:0"}, common...), input),
	} {
		if code := cli.Main(ctx, env, args); code != 0 {
			t.Fatalf("contrail %v exited %d", args, code)
		}
	}
	conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: ch, Database: s.name}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+s.name)
		conn.Close()
	})
	s.sinkCmd = append([]string{"sink", "--feeds", "sbs", "--clickhouse", ch, "--clickhouse-database", s.name,
		"--sink-group", s.name, "--listen", "127.0.0.1:0", "--log-format", "json",
		"--batch-rows", "2000", "--flush-interval", "50ms"}, common...)
	return s
}

func (s *sinkScenario) startSink() *proc { return startProc(s.t, s.bin, s.sinkCmd...) }

func (s *sinkScenario) rows() uint64 {
	var n uint64
	if err := s.conn.QueryRow(context.Background(), "SELECT count() FROM "+s.name+".raw_events").Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// waitSomeRows returns once p has written at least one row.
func (s *sinkScenario) waitSomeRows(p *proc) {
	for s.rows() == 0 {
		select {
		case err := <-p.done:
			s.t.Fatalf("sink exited early: %v\n%s", err, p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// catchUp waits until p has committed everything on the topics.
func (s *sinkScenario) catchUp(p *proc) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.seeds...))
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := kafka.WaitCaughtUp(ctx, kadm.NewClient(cl), s.name, 100*time.Millisecond, nil, s.name+".raw.sbs", s.name+".rejected"); err != nil {
		s.t.Fatalf("%v\nsink logs:\n%s", err, p.logs.String())
	}
}

// counts are the physical rows, the distinct events, and the rows after
// deduplication (FINAL).
func (s *sinkScenario) counts() (total, distinct, final uint64) {
	ctx := context.Background()
	if err := s.conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM "+s.name+".raw_events").Scan(&total, &distinct); err != nil {
		s.t.Fatal(err)
	}
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.name+".raw_events FINAL").Scan(&final); err != nil {
		s.t.Fatal(err)
	}
	return total, distinct, final
}

// TestIntegrationSinkSIGTERMMidStream stops the sink with SIGTERM while it is
// writing, restarts it, and checks ClickHouse ends with every record exactly
// once: the graceful stop flushed and committed what it had, the restart
// resumed from the committed offsets, and nothing was lost or duplicated.
func TestIntegrationSinkSIGTERMMidStream(t *testing.T) {
	s := newSinkScenario(t)

	// First sink: stop it as soon as some, but not all, rows are in.
	first := s.startSink()
	s.waitSomeRows(first)
	first.stop(t)
	rows := s.rows()
	t.Logf("%d of %d rows written when the first sink stopped", rows, s.events)
	if rows >= s.events {
		t.Logf("the first sink wrote everything before SIGTERM (%d rows); the restart then has nothing to do", rows)
	}

	// Second sink: resume and catch up.
	second := s.startSink()
	s.catchUp(second)
	second.stop(t)

	total, distinct, final := s.counts()
	if distinct != s.events || final != s.events {
		t.Fatalf("after restart: %d distinct events, %d rows FINAL; want %d each (no loss)", distinct, final, s.events)
	}
	if total != distinct {
		t.Errorf("%d physical rows for %d events: the graceful stop should commit exactly what it inserted", total, distinct)
	}
}

// TestIntegrationSinkKill9 kills the sink without any chance to flush or
// commit, restarts it, and checks the view equals the input: every event
// present (no loss), each once after deduplication (replayed rows collapse
// to one by event id).
func TestIntegrationSinkKill9(t *testing.T) {
	s := newSinkScenario(t)

	first := s.startSink()
	s.waitSomeRows(first)
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	rows := s.rows()

	second := s.startSink()
	s.catchUp(second)
	second.stop(t)

	total, distinct, final := s.counts()
	t.Logf("killed after %d rows; after restart %d physical rows, %d events", rows, total, distinct)
	if distinct != s.events || final != s.events {
		t.Fatalf("after kill -9 and restart: %d distinct events, %d rows FINAL; want %d each", distinct, final, s.events)
	}
}

// TestIntegrationIngestSIGTERMMidStream stops a paced file replay with
// SIGTERM: it must exit 0, and every record it counted as read must be on
// Kafka (read = accepted + rejected = records in the topics), none half-sent.
func TestIntegrationIngestSIGTERMMidStream(t *testing.T) {
	seeds := infratest.Kafka(t)
	brokers := strings.Join(seeds, ",")
	bin := buildBinary(t)
	name := infratest.Name(t, "it")
	ctx := context.Background()
	env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if code := cli.Main(ctx, env, []string{"topics", "--feeds", "sbs", "--brokers", brokers, "--topic-prefix", name}); code != 0 {
		t.Fatalf("topics exited %d", code)
	}
	// 250 ms between lines at --speed 5: 20 lines a second, so the replay
	// is still running when it is stopped.
	input := filepath.Join(t.TempDir(), "in.sbs")
	if err := os.WriteFile(input, []byte(strings.Join(infratest.SBSLines(2000), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, "ingest", "file", "--feed", "sbs", "--speed", "5", "--brokers", brokers,
		"--topic-prefix", name, "--listen", "127.0.0.1:0", "--log-format", "json", input)

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	onKafka := func() int64 {
		ends, err := adm.ListEndOffsets(ctx, name+".raw.sbs", name+".rejected")
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n
	}
	for onKafka() < 10 {
		select {
		case err := <-p.done:
			t.Fatalf("ingest exited early: %v\n%s", err, p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.stop(t)

	var fin struct {
		Msg                      string
		Read, Accepted, Rejected int64
	}
	for _, l := range strings.Split(p.logs.String(), "\n") {
		var x struct {
			Msg                      string
			Read, Accepted, Rejected int64
		}
		if json.Unmarshal([]byte(l), &x) == nil && x.Msg == "ingest finished" {
			fin = x
		}
	}
	if fin.Msg == "" {
		t.Fatalf("no 'ingest finished' log line with counts:\n%s", p.logs.String())
	}
	if fin.Read == 0 || fin.Read >= 2000 || fin.Read != fin.Accepted+fin.Rejected {
		t.Fatalf("counts %+v: want a partial replay with read = accepted + rejected", fin)
	}
	if got := onKafka(); got != fin.Read {
		t.Fatalf("%d records on Kafka, the stopped ingest counted %d read", got, fin.Read)
	}
}

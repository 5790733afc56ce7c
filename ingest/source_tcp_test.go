package ingest_test

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
)

func TestTCPClientReconnect(t *testing.T) { testTCPClientReconnect(t, fakeKafka(t)) }

func TestIntegrationTCPClientReconnect(t *testing.T) { testTCPClientReconnect(t, realKafka(t)) }

// testTCPClientReconnect serves a feed that drops twice: once after a
// complete line (and then refuses connections for a while), once in the
// middle of a line; after each drop it sends the rest, starting with the
// interrupted line in full. Every complete line must land on the raw topic
// exactly once, the partial line must be rejected, and the log must have
// one line per loss and one per recovery, however many attempts failed.
func testTCPClientReconnect(t *testing.T, env kafkaEnv) {
	lines := infratest.SBSLines(30)
	half := lines[20][:len(lines[20])/2]
	logs := newLogRecorder()
	log := slog.New(logs)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	send := func(c net.Conn, ls []string, tail string) {
		t.Helper()
		if _, err := c.Write([]byte(strings.Join(ls, "\r\n") + "\r\n" + tail)); err != nil {
			t.Errorf("server write: %v", err)
		}
	}
	serverDone := make(chan struct{})
	go func() {
		defer close(serverDone)
		c1, err := ln.Accept()
		if err != nil {
			t.Errorf("accept 1: %v", err)
			return
		}
		send(c1, lines[:10], "")
		// Drop after a complete line, and refuse connections until the
		// client has failed a few times.
		ln.Close()
		c1.Close()
		logs.waitFor(t, "feed connection attempt failed", 3)
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
			return
		}
		defer ln2.Close()
		c2, err := ln2.Accept()
		if err != nil {
			t.Errorf("accept 2: %v", err)
			return
		}
		send(c2, lines[10:20], half) // drop mid-line
		c2.Close()
		c3, err := ln2.Accept()
		if err != nil {
			t.Errorf("accept 3: %v", err)
			return
		}
		defer c3.Close()
		send(c3, lines[20:], "")
		// Hold the connection open until the client hangs up.
		_, _ = c3.Read(make([]byte, 1))
	}()

	feed, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	src, err := ingest.NewTCPClient(ingest.TCPClientConfig{Addr: addr, Feed: feed, Log: log,
		ReconnectInitial: time.Millisecond, ReconnectMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	counted := countRecords(src, len(lines)+1)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-counted.done
		cancel() // what SIGTERM does
	}()
	st, err := env.adapter(t, log).Run(ctx, counted)
	if err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, logs)
	}
	<-serverDone
	if want := (ingest.Stats{Read: 31, Accepted: 30, Rejected: 1}); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}

	got := env.consume(t)
	raws := got.envRaws()
	slices.Sort(raws)
	want := slices.Clone(lines)
	slices.Sort(want)
	if !slices.Equal(raws, want) {
		t.Errorf("raw topic holds %d records, want each of the %d lines exactly once:\n got %q\nwant %q", len(raws), len(want), raws, want)
	}
	// Origins are tcp:addr/<connection start>/<n>: three connections,
	// each numbering its records from 1, the line order kept.
	ids := map[string]bool{}
	conns := map[string]map[string]string{} // start -> n -> raw
	for _, e := range got.envs {
		parts := strings.Split(strings.TrimPrefix(e.Origin, "tcp:"+addr+"/"), "/")
		if !strings.HasPrefix(e.Origin, "tcp:"+addr+"/") || len(parts) != 2 {
			t.Fatalf("origin %q, want tcp:%s/<start>/<n>", e.Origin, addr)
		}
		if conns[parts[0]] == nil {
			conns[parts[0]] = map[string]string{}
		}
		conns[parts[0]][parts[1]] = string(e.Raw)
		if ids[e.ID] {
			t.Errorf("event id %s twice", e.ID)
		}
		ids[e.ID] = true
	}
	if len(conns) != 3 {
		t.Errorf("records from %d connections, want 3", len(conns))
	}
	for start, recs := range conns {
		if len(recs) != 10 || recs["1"] == "" || recs["10"] == "" {
			t.Errorf("connection %s: records %v, want numbers 1 to 10", start, recs)
		}
	}
	if len(got.rejs) != 1 || string(got.rejs[0].Raw) != half || !strings.HasPrefix(got.rejs[0].ReasonCode, "sbs.") ||
		!strings.HasSuffix(got.rejs[0].Origin, "/11") {
		t.Errorf("rejected %+v, want the partial line %q, record 11 of its connection, with an sbs reason", got.rejs, half)
	}

	for msg, n := range map[string]int{
		"connected to feed":                             1,
		"feed connection lost":                          2,
		"feed connection back":                          2,
		"cannot connect to feed; retrying with backoff": 0,
	} {
		if c := logs.count(msg); c != n {
			t.Errorf("%d log lines %q, want %d\nlog:\n%s", c, msg, n, logs)
		}
	}
}

// TestTCPClientFirstDialFails checks a feed that is down at start-up is
// waited for with one log line, not one per attempt, and one more when it is
// up; and that ctx ends the wait.
func TestTCPClientFirstDialFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	logs := newLogRecorder()
	var states []bool
	feed, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	src, err := ingest.NewTCPClient(ingest.TCPClientConfig{Addr: addr, Feed: feed, Log: slog.New(logs),
		ReconnectInitial: time.Millisecond, ReconnectMax: 5 * time.Millisecond,
		OnState: func(up bool, _ string) { states = append(states, up) }})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	go func() {
		logs.waitFor(t, "feed connection attempt failed", 5)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen on %s: %v", addr, err)
			return
		}
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("first\n"))
		_, _ = c.Read(make([]byte, 1))
	}()
	if rec, err := src.Next(t.Context()); err != nil || string(rec.Raw) != "first" {
		t.Fatalf("Next = %q, %v; want the feed's first record once it is up", rec.Raw, err)
	}
	for msg, n := range map[string]int{"cannot connect to feed": 1, "connected to feed": 1, "feed connection back": 0} {
		if c := logs.count(msg); c != n {
			t.Errorf("%d log lines %q, want %d:\n%s", c, msg, n, logs)
		}
	}
	if !slices.Equal(states, []bool{false, true}) {
		t.Errorf("OnState calls %v, want down then up", states)
	}

	// With the feed gone again, ctx ends the wait.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := src.Next(ctx); err != context.Canceled {
		t.Errorf("Next with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestTCPClientIdleTimeout checks a feed that goes quiet is re-dialled.
func TestTCPClientIdleTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// One line per connection, then silence.
			_, _ = c.Write([]byte("line" + string(rune('A'+i)) + "\n"))
			defer c.Close()
		}
	}()
	feed, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	logs := newLogRecorder()
	src, err := ingest.NewTCPClient(ingest.TCPClientConfig{Addr: ln.Addr().String(), Feed: feed, Log: slog.New(logs),
		IdleTimeout: 20 * time.Millisecond, ReconnectInitial: time.Millisecond, ReconnectMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, want := range []string{"lineA", "lineB"} {
		rec, err := src.Next(t.Context())
		if err != nil || string(rec.Raw) != want {
			t.Fatalf("Next = %q, %v; want %q", rec.Raw, err, want)
		}
	}
	if !strings.Contains(logs.String(), "idle timeout") {
		t.Errorf("log does not give the idle timeout as the reason:\n%s", logs)
	}
}

func TestTCPClientConfigValidate(t *testing.T) {
	tests := map[string]ingest.TCPClientConfig{
		"no address":        {},
		"no port":           {Addr: "localhost"},
		"max below initial": {Addr: "h:1", ReconnectInitial: time.Second, ReconnectMax: time.Millisecond},
		"negative idle":     {Addr: "h:1", IdleTimeout: -time.Second},
	}
	for name, cfg := range tests {
		if _, err := ingest.NewTCPClient(cfg); err == nil {
			t.Errorf("%s: NewTCPClient accepted %+v", name, cfg)
		}
	}
}

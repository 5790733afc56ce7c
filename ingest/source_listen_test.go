package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
)

func TestTCPListenerTwoProducers(t *testing.T) { testTCPListenerTwoProducers(t, fakeKafka(t)) }

func TestIntegrationTCPListenerTwoProducers(t *testing.T) {
	testTCPListenerTwoProducers(t, realKafka(t))
}

// testTCPListenerTwoProducers has two producers send 500 lines each at once,
// the second ending with a partial line. Every line lands once, in order
// per connection; the partial one is rejected. The queue is kept small so the
// producers are held back by the adapter, not buffered without bound.
func testTCPListenerTwoProducers(t *testing.T, env kafkaEnv) {
	lines := infratest.SBSLines(1000)
	parts := [][]string{lines[:500], lines[500:]}
	partial := "MSG,3,111,11111,4CA2D6,111111,2026/01/01"
	feed, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	src, err := ingest.ListenTCP(ingest.TCPListenerConfig{Addr: "127.0.0.1:0", Feed: feed, Queue: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	addr := src.Addr().String()

	var wg sync.WaitGroup
	locals := make([]string, 2)
	for i, part := range parts {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Errorf("producer %d: %v", i, err)
				return
			}
			defer c.Close()
			locals[i] = c.LocalAddr().String()
			body := strings.Join(part, "\n") + "\n"
			if i == 1 {
				body += partial
			}
			// Write line by line, so the two producers interleave.
			for _, l := range strings.SplitAfter(body, "\n") {
				if _, err := io.WriteString(c, l); err != nil {
					t.Errorf("producer %d: %v", i, err)
					return
				}
			}
		})
	}
	counted := countRecords(src, len(lines)+1)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-counted.done
		cancel()
	}()
	st, err := env.adapter(t, nil).Run(ctx, counted)
	wg.Wait()
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := (ingest.Stats{Read: 1001, Accepted: 1000, Rejected: 1}); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}

	got := env.consume(t)
	if len(got.envs) != len(lines) {
		t.Fatalf("raw topic holds %d records, want %d", len(got.envs), len(lines))
	}
	// Per producer, record n of the connection is line n of what it sent.
	for _, e := range got.envs {
		peer, n, ok := peerSeq(e.Origin)
		i := slices.Index(locals, peer)
		if !ok || i < 0 {
			t.Fatalf("origin %q: want tcp-peer:<one of %v>/<start>/<n>", e.Origin, locals)
		}
		if want := parts[i][n-1]; string(e.Raw) != want {
			t.Errorf("%s = %q, want line %d of producer %d: %q", e.Origin, e.Raw, n, i, want)
		}
	}
	if len(got.rejs) != 1 || string(got.rejs[0].Raw) != partial {
		t.Fatalf("rejected %+v, want the partial line", got.rejs)
	}
	if peer, n, _ := peerSeq(got.rejs[0].Origin); peer != locals[1] || n != 501 {
		t.Errorf("partial line's origin %q, want record 501 of %s", got.rejs[0].Origin, locals[1])
	}
}

// peerSeq splits "tcp-peer:ip:port/<start>/<n>".
func peerSeq(origin string) (string, int, bool) {
	rest, ok := strings.CutPrefix(origin, "tcp-peer:")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 {
		return "", 0, false
	}
	n, err := strconv.Atoi(parts[2])
	return parts[0], n, err == nil
}

// TestTCPListenerShutdownHandsOverBufferedRecords checks that when ctx
// ends, records a connection already received, the unterminated one
// included, still come out of Next before ctx's error.
func TestTCPListenerShutdownHandsOverBufferedRecords(t *testing.T) {
	feed, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	src, err := ingest.ListenTCP(ingest.TCPListenerConfig{Addr: "127.0.0.1:0", Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	c, err := net.Dial("tcp", src.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "one\ntwo\nthr"); err != nil {
		t.Fatal(err)
	}
	rec, err := src.Next(t.Context())
	if err != nil || string(rec.Raw) != "one" {
		t.Fatalf("Next = %q, %v; want one", rec.Raw, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var got []string
	for {
		rec, err := src.Next(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("final error %v, want context.Canceled", err)
			}
			break
		}
		got = append(got, string(rec.Raw))
	}
	// "two" may or may not have been read off the socket before the
	// shutdown; if "thr" was, "two" was too.
	if s := fmt.Sprint(got); s != "[two thr]" && s != "[two]" && s != "[]" {
		t.Errorf("after shutdown Next gave %q, want what was read, in order", got)
	}
}

func TestListenTCPErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	feed, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	for name, cfg := range map[string]ingest.TCPListenerConfig{
		"port taken":     {Addr: ln.Addr().String(), Feed: feed},
		"not host:port":  {Addr: "nope", Feed: feed},
		"negative queue": {Addr: "127.0.0.1:0", Feed: feed, Queue: -1},
	} {
		if l, err := ingest.ListenTCP(cfg); err == nil {
			l.Close()
			t.Errorf("%s: ListenTCP succeeded", name)
		}
	}
}

package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

// malformedCorpus is one stream of SBS records with every kind of bad input
// a feed delivers: garbage, binary, truncated, wrong field counts, empty,
// absurd dates, a record longer than MaxRecordBytes, and a final partial
// line. want are the reason codes of its rejected records, in order.
func malformedCorpus() (stream []byte, accepted int, want []string) {
	good := infratest.SBSLines(4)
	parts := []struct {
		rec, code string
	}{
		{good[0], ""},
		{"garbage, not SBS", "sbs.message_type"},
		{"MSG,3,111,11111,789252,\x00\xff\xfe,2022/01/08,22:42:15.605", "sbs.binary"},
		{good[1], ""},
		{"MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,0", "sbs.field_count"},
		{"", "sbs.empty"},
		{"MSG,8,111,11111,789252,111111,2022/13/45,25:61:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0", "sbs.timestamp"},
		{strings.Repeat("MSG,", ingest.MaxRecordBytes/4+10), "ingest.oversize"},
		{good[2], ""},
		{"\xc3\x28 invalid UTF-8", "sbs.binary"},
		{good[3], ""},
	}
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteString(p.rec + "\r\n")
		if p.code == "" {
			accepted++
		} else {
			want = append(want, p.code)
		}
	}
	b.WriteString("MSG,3,111,11111,4CA2D6,1111") // cut off mid-record
	want = append(want, "sbs.field_count")
	return b.Bytes(), accepted, want
}

// TestTransportsMalformedCorpus sends the same malformed stream through
// every stream transport: each must accept the good records, reject every
// bad one with the same reason, and count read = accepted + rejected.
func TestTransportsMalformedCorpus(t *testing.T) {
	stream, accepted, wantCodes := malformedCorpus()
	n := accepted + len(wantCodes)
	feed, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	transports := map[string]func(t *testing.T, a *ingest.Adapter) (ingest.Stats, error){
		"file": func(t *testing.T, a *ingest.Adapter) (ingest.Stats, error) {
			src, err := ingest.OpenFeedFile(writeNamed(t, "corpus.sbs", stream), feed)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			return a.Run(t.Context(), src)
		},
		"tcp client": func(t *testing.T, a *ingest.Adapter) (ingest.Stats, error) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err == nil {
					c.Write(stream)
					c.Close()
				}
			}()
			src, err := ingest.NewTCPClient(ingest.TCPClientConfig{Addr: ln.Addr().String(), Feed: feed})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			return runUntil(t, a, src, n)
		},
		"tcp listener": func(t *testing.T, a *ingest.Adapter) (ingest.Stats, error) {
			src, err := ingest.ListenTCP(ingest.TCPListenerConfig{Addr: "127.0.0.1:0", Feed: feed})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			c, err := net.Dial("tcp", src.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				c.Write(stream)
				c.Close()
			}()
			return runUntil(t, a, src, n)
		},
		"http": func(t *testing.T, a *ingest.Adapter) (ingest.Stats, error) {
			h, err := ingest.NewHTTPHandler(ingest.HTTPConfig{Adapters: map[string]*ingest.Adapter{"sbs": a}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, r := post(t, srv, httpCase{name: "corpus", path: "/v1/ingest/sbs", body: stream})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 422", resp.StatusCode)
			}
			return ingest.Stats{Read: int64(len(r.Results)), Accepted: r.Accepted, Rejected: r.Rejected}, nil
		},
	}
	for name, run := range transports {
		t.Run(name, func(t *testing.T) {
			env := fakeKafka(t)
			st, err := run(t, env.adapter(t, nil))
			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if want := (ingest.Stats{Read: int64(n), Accepted: int64(accepted), Rejected: int64(len(wantCodes))}); st != want {
				t.Errorf("Stats = %+v, want %+v", st, want)
			}
			got := env.consume(t)
			if len(got.envs) != accepted {
				t.Errorf("%d envelopes, want %d", len(got.envs), accepted)
			}
			var codes []string
			for _, x := range got.rejs {
				if x.Reason == "" || x.Origin == "" {
					t.Errorf("reject %s without reason or origin: %+v", x.ReasonCode, x)
				}
				if x.ReasonCode == "ingest.oversize" && len(x.Raw) != ingest.MaxRecordBytes {
					t.Errorf("oversize reject keeps %d bytes, want %d", len(x.Raw), ingest.MaxRecordBytes)
				}
				codes = append(codes, x.ReasonCode)
			}
			slices.Sort(codes)
			want := slices.Clone(wantCodes)
			slices.Sort(want)
			if !slices.Equal(codes, want) {
				t.Errorf("reject reasons %v, want %v", codes, want)
			}
		})
	}
}

// runUntil runs the adapter until n records were read, then stops it as
// SIGTERM would.
func runUntil(t *testing.T, a *ingest.Adapter, src ingest.Source, n int) (ingest.Stats, error) {
	counted := countRecords(src, n)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		<-counted.done
		cancel()
	}()
	return a.Run(ctx, counted)
}

// TestBackPressure stalls Kafka and checks the listener then stops reading:
// a producer pushing 64 MiB cannot finish, and the adapter takes only what
// fits in the client's and the listener's bounded buffers. Once Kafka
// answers again, everything the producer wrote is ingested.
func TestBackPressure(t *testing.T) {
	n := topics.Names{Prefix: "contrail"}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, n.Raw("sbs"), n.Rejected()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.MaxBufferedRecords(10))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	feed, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	a := &ingest.Adapter{Feed: feed, Client: cl, Topics: n, Schemas: schemas.MustRegistry(), Instance: instance, Log: slog.New(slog.DiscardHandler)}
	src, err := ingest.ListenTCP(ingest.TCPListenerConfig{Addr: "127.0.0.1:0", Feed: feed, Queue: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	counted := &readCounter{Source: src}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		st  ingest.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := a.Run(ctx, counted)
		done <- result{st, err}
	}()

	conn, err := net.Dial("tcp", src.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	line := infratest.SBSLines(1)[0] + "\n"
	payload := bytes.Repeat([]byte(line), 64<<20/len(line))
	// The deadline only detects that the writer is stuck; with unbounded
	// buffering 64 MiB over loopback would be taken long before it.
	conn.SetWriteDeadline(time.Now().Add(3 * time.Second))
	written, err := conn.Write(payload)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("producer wrote %d of %d bytes while Kafka was stalled (err %v); want the write held back", written, len(payload), err)
	}
	// Run holds one record in Produce, the client 10, the queue 4, each
	// connection one more on its way into the queue.
	if got := counted.n.Load(); got > 10+1+4+1 {
		t.Errorf("adapter read %d records while Kafka was stalled, want at most the bounded buffers' 16", got)
	}
	close(release)
	conn.Close()
	wantRead := int64(bytes.Count(payload[:written], []byte{'\n'}))
	if written%len(line) != 0 {
		wantRead++ // the partial line the write deadline cut
	}
	for counted.n.Load() < wantRead {
		select {
		case r := <-done:
			t.Fatalf("Run ended early: %+v, %v", r.st, r.err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	r := <-done
	if r.err != nil || r.st.Read != wantRead || r.st.Accepted+r.st.Rejected != r.st.Read {
		t.Errorf("Run = %+v, %v; want %d records read, all acked", r.st, r.err, wantRead)
	}
}

// readCounter counts the records read through it.
type readCounter struct {
	ingest.Source
	n atomic.Int64
}

func (c *readCounter) Next(ctx context.Context) (ingest.Record, error) {
	r, err := c.Source.Next(ctx)
	if err == nil {
		c.n.Add(1)
	}
	return r, err
}

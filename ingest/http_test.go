package ingest_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/topics"
)

func TestHTTP(t *testing.T) { testHTTP(t, fakeKafka(t)) }

func TestIntegrationHTTP(t *testing.T) { testHTTP(t, realKafka(t)) }

type httpCase struct {
	name     string
	path     string
	method   string
	body     []byte
	header   map[string]string
	status   int
	accepted int64
	rejected int64
	// rejects are the reason codes expected per record index.
	rejects map[int]string
}

func post(t *testing.T, srv *httptest.Server, c httpCase) (*http.Response, ingest.HTTPResponse) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+c.path, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r ingest.HTTPResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: response body is not JSON: %v", c.name, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", c.name, ct)
	}
	return resp, r
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// testHTTP posts good, mixed, oversized and misaddressed batches and checks
// both the answers and what is on Kafka afterwards: every record of an
// answered batch is there, with the event id the answer gave; nothing of a
// refused batch is.
func testHTTP(t *testing.T, env kafkaEnv) {
	a := env.adapter(t, nil)
	h, err := ingest.NewHTTPHandler(ingest.HTTPConfig{Adapters: map[string]*ingest.Adapter{"sbs": a}, MaxBody: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	lines := infratest.SBSLines(40)
	good := []byte(strings.Join(lines[:10], "\r\n") + "\r\n")
	mixed := []byte(strings.Join([]string{lines[10], "garbage", lines[11], "\x00\xff binary", "", lines[12]}, "\n"))
	cases := []httpCase{
		{name: "good batch", path: "/v1/ingest/sbs", body: good, status: 200, accepted: 10},
		{name: "mixed batch", path: "/v1/ingest/sbs", body: mixed, status: 422, accepted: 3, rejected: 3,
			rejects: map[int]string{1: "sbs.message_type", 3: "sbs.binary", 4: "sbs.empty"}},
		{name: "gzip", path: "/v1/ingest/sbs", body: gzipped([]byte(strings.Join(lines[13:20], "\n"))),
			header: map[string]string{"Content-Encoding": "gzip"}, status: 200, accepted: 7},
		{name: "oversized", path: "/v1/ingest/sbs", body: bytes.Repeat([]byte(lines[20]+"\n"), 50), status: 413},
		{name: "oversized once decoded", path: "/v1/ingest/sbs", body: gzipped(bytes.Repeat([]byte(lines[20]+"\n"), 50)),
			header: map[string]string{"Content-Encoding": "gzip"}, status: 413},
		{name: "unknown feed", path: "/v1/ingest/nope", body: good, status: 404},
		{name: "no feed", path: "/v1/ingest/", body: good, status: 404},
		{name: "GET", path: "/v1/ingest/sbs", method: http.MethodGet, status: 405},
		{name: "unsupported encoding", path: "/v1/ingest/sbs", body: good, header: map[string]string{"Content-Encoding": "br"}, status: 415},
		{name: "bad gzip", path: "/v1/ingest/sbs", body: []byte("not gzip"), header: map[string]string{"Content-Encoding": "gzip"}, status: 400},
		{name: "empty body", path: "/v1/ingest/sbs", body: nil, status: 200},
	}
	answered := map[string]ingest.HTTPResult{} // origin -> result
	for _, c := range cases {
		resp, r := post(t, srv, c)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d (%+v), want %d", c.name, resp.StatusCode, r, c.status)
			continue
		}
		switch c.status {
		case 200, 422:
			if r.Accepted != c.accepted || r.Rejected != c.rejected || len(r.Results) != int(c.accepted+c.rejected) {
				t.Errorf("%s: accepted %d, rejected %d, %d results; want %d, %d", c.name, r.Accepted, r.Rejected, len(r.Results), c.accepted, c.rejected)
			}
			for i, res := range r.Results {
				if res.Index != i || res.EventID == "" || !strings.HasPrefix(res.Origin, "http:127.0.0.1:") {
					t.Errorf("%s: result %d = %+v", c.name, i, res)
				}
				code, isReject := c.rejects[i]
				switch {
				case isReject && (res.Outcome != "rejected" || res.ReasonCode != code || res.Reason == ""):
					t.Errorf("%s: result %d = %+v, want rejected with %s and a reason", c.name, i, res, code)
				case !isReject && (res.Outcome != "accepted" || res.Key == ""):
					t.Errorf("%s: result %d = %+v, want accepted with a key", c.name, i, res)
				}
				answered[res.Origin] = res
			}
			if c.status == 422 && !strings.Contains(r.Error, "rejected") {
				t.Errorf("%s: error %q does not say records were rejected", c.name, r.Error)
			}
		case 404:
			if c.path == "/v1/ingest/nope" && (!strings.Contains(r.Error, `"nope"`) || !slices.Equal(r.Feeds, []string{"sbs"})) {
				t.Errorf("%s: %+v, want the feed named and the known feeds listed", c.name, r)
			}
		case 413:
			if !strings.Contains(r.Error, "4096") {
				t.Errorf("%s: error %q does not give the limit", c.name, r.Error)
			}
		case 405:
			if resp.Header.Get("Allow") != "POST" {
				t.Errorf("%s: Allow %q", c.name, resp.Header.Get("Allow"))
			}
		}
	}

	// Kafka holds exactly the answered records: none of the refused
	// batches, every accepted one as an envelope, every rejected one with
	// its reason, under the event id the answer gave.
	got := env.consume(t)
	if n := len(got.envs) + len(got.rejs); n != len(answered) {
		t.Errorf("Kafka holds %d records, the answers name %d", n, len(answered))
	}
	for _, e := range got.envs {
		res, ok := answered[e.Origin]
		if !ok || res.Outcome != "accepted" || res.EventID != e.ID || res.Key != e.Key {
			t.Errorf("envelope from %s (id %s) does not match its answer %+v", e.Origin, e.ID, res)
		}
		if strings.Contains(string(e.Raw), lines[20]) {
			t.Errorf("a record of a refused batch is on Kafka: %s", e.Origin)
		}
	}
	for _, x := range got.rejs {
		res, ok := answered[x.Origin]
		if !ok || res.Outcome != "rejected" || res.EventID != x.ID || res.ReasonCode != x.ReasonCode || res.Reason != x.Reason {
			t.Errorf("reject from %s (%s) does not match its answer %+v", x.Origin, x.ReasonCode, res)
		}
	}
}

// TestHTTPIdempotencyKey checks a batch retried with the same
// Idempotency-Key gets the same event ids, so downstream deduplicates it.
func TestHTTPIdempotencyKey(t *testing.T) {
	env := fakeKafka(t)
	h, err := ingest.NewHTTPHandler(ingest.HTTPConfig{Adapters: map[string]*ingest.Adapter{"sbs": env.adapter(t, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := []byte(strings.Join(infratest.SBSLines(5), "\n"))
	ids := func(key string) []string {
		c := httpCase{name: "key " + key, path: "/v1/ingest/sbs", body: body}
		if key != "" {
			c.header = map[string]string{"Idempotency-Key": key}
		}
		_, r := post(t, srv, c)
		var out []string
		for _, res := range r.Results {
			out = append(out, res.EventID)
		}
		return out
	}
	first, retry, other, none1, none2 := ids("batch-42"), ids("batch-42"), ids("batch-43"), ids(""), ids("")
	if len(first) != 5 || !slices.Equal(first, retry) {
		t.Errorf("same key: ids %v and %v, want equal", first, retry)
	}
	if slices.Equal(first, other) || slices.Equal(none1, none2) {
		t.Errorf("different keys or no key must give different ids")
	}
}

// TestHTTPKafkaFailure checks a batch Kafka does not take is answered 503,
// with every record marked failed.
func TestHTTPKafkaFailure(t *testing.T) {
	env := fakeKafka(t)
	a := env.adapter(t, slog.New(slog.DiscardHandler))
	a.Topics = topics.Names{Prefix: "missing"} // topics that do not exist
	a.Client = env.client(t, kgo.RecordDeliveryTimeout(time.Second))
	h, err := ingest.NewHTTPHandler(ingest.HTTPConfig{Adapters: map[string]*ingest.Adapter{"sbs": a}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, r := post(t, srv, httpCase{name: "kafka down", path: "/v1/ingest/sbs", body: []byte(strings.Join(infratest.SBSLines(3), "\n"))})
	if resp.StatusCode != http.StatusServiceUnavailable || r.Failed != 3 || r.Accepted != 0 || !strings.Contains(r.Error, "Kafka") {
		t.Errorf("status %d, %+v; want 503 with 3 failed records", resp.StatusCode, r)
	}
	for _, res := range r.Results {
		if res.Outcome != "failed" || res.Error == "" {
			t.Errorf("result %+v, want failed with the error", res)
		}
	}
}

// TestHTTPBodyLimitWithoutLength checks the limit holds for a chunked body,
// whose length is not announced.
func TestHTTPBodyLimitWithoutLength(t *testing.T) {
	env := fakeKafka(t)
	h, err := ingest.NewHTTPHandler(ingest.HTTPConfig{Adapters: map[string]*ingest.Adapter{"sbs": env.adapter(t, nil)}, MaxBody: 100})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := io.MultiReader(strings.NewReader(strings.Repeat("x", 80)), strings.NewReader(strings.Repeat("y", 80)))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/ingest/sbs", body)
	req.ContentLength = -1
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	if n := len(env.consume(t).rejs); n != 0 {
		t.Errorf("%d records produced from a refused body", n)
	}
}

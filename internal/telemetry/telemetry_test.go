package telemetry

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestReadinessFollowsComponents(t *testing.T) {
	h := NewHealth()
	srv := Handler(NewRegistry(), h)
	if code, _ := get(t, srv, "/readyz"); code != http.StatusOK {
		t.Fatalf("no components: /readyz %d, want 200", code)
	}
	h.NotReady("kafka", "connecting")
	h.NotReady("clickhouse", "migrating")
	code, body := get(t, srv, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "kafka: connecting") || !strings.Contains(body, "clickhouse: migrating") {
		t.Fatalf("/readyz = %d %q, want 503 naming both components", code, body)
	}
	if code, _ := get(t, srv, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d while not ready, want 200 (alive)", code)
	}
	h.Ready("kafka")
	if code, body := get(t, srv, "/readyz"); code != http.StatusServiceUnavailable || strings.Contains(body, "kafka") {
		t.Fatalf("/readyz = %d %q, want 503 naming only clickhouse", code, body)
	}
	h.Ready("clickhouse")
	if code, _ := get(t, srv, "/readyz"); code != http.StatusOK {
		t.Fatalf("all ready: /readyz %d, want 200", code)
	}
}

func TestMetricsServesCallerRegistry(t *testing.T) {
	reg := NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "contrail_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	code, body := get(t, Handler(reg, NewHealth()), "/metrics")
	if code != http.StatusOK || !strings.Contains(body, "contrail_test_total 3") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics = %d, body lacks the registered counter or Go collectors:\n%s", code, body)
	}
}

func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		format, level string
		ok            bool
		want          string
	}{
		{"text", "info", true, "msg=hello"},
		{"json", "debug", true, `"msg":"hello"`},
		{"xml", "info", false, ""},
		{"text", "loud", false, ""},
	} {
		t.Run(tc.format+"/"+tc.level, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := NewLogger(&buf, tc.format, tc.level)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			l.Info("hello")
			if !strings.Contains(buf.String(), tc.want) {
				t.Fatalf("log %q lacks %q", buf.String(), tc.want)
			}
		})
	}
}

func TestListenRejectsTakenPort(t *testing.T) {
	s, err := Listen("127.0.0.1:0", NewRegistry(), NewHealth())
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	if _, err := Listen(s.Addr(), NewRegistry(), NewHealth()); err == nil || !strings.Contains(err.Error(), "--listen") {
		t.Fatalf("second Listen on %s: err = %v, want one naming --listen", s.Addr(), err)
	}
}

// Package telemetry serves what every long-running Contrail stage exposes to
// operators: /metrics (Prometheus, from a registry the caller owns), /healthz
// (the process is alive) and /readyz (every component has reported ready),
// and builds the slog logger from configuration.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewLogger builds a logger writing format ("text" or "json") at level
// ("debug", "info", "warn", "error") to w.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
}

// NewRegistry returns a fresh registry with the Go runtime and process
// collectors, so no package-level state is shared between stages or tests.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Health tracks readiness by component. A process is ready when every
// registered component has reported ready; components register themselves not
// ready first, so /readyz stays false during start-up and restore. Safe for
// concurrent use.
type Health struct {
	mu    sync.Mutex
	state map[string]string // component -> "" when ready, else why not
}

// NewHealth returns a Health with no components (ready).
func NewHealth() *Health { return &Health{state: map[string]string{}} }

// NotReady marks component as not ready with a reason shown by /readyz.
func (h *Health) NotReady(component, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state[component] = reason
}

// Ready marks component as ready.
func (h *Health) Ready(component string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state[component] = ""
}

// Check reports whether all components are ready, and the reasons if not.
func (h *Health) Check() (bool, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var why []string
	for c, r := range h.state {
		if r != "" {
			why = append(why, c+": "+r)
		}
	}
	sort.Strings(why)
	return len(why) == 0, why
}

// Handler serves /metrics, /healthz and /readyz.
func Handler(reg *prometheus.Registry, h *Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := h.Check()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready\n"+strings.Join(why, "\n")+"\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	return mux
}

// Server is the operator HTTP endpoint of a stage.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr (e.g. "127.0.0.1:9464"; port 0 picks a free one) now, so a
// taken port fails at start-up rather than later.
func Listen(addr string, reg *prometheus.Registry, h *Health) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics/health on %s: %w (change --listen)", addr, err)
	}
	return &Server{ln: ln, srv: &http.Server{Handler: Handler(reg, h), ReadHeaderTimeout: 5 * time.Second}}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down within a few seconds.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics/health: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down metrics/health server: %w", err)
	}
	return nil
}
